//! Which object keys are media: the extension decides the kind (audio/video) and the Content-Type.
//!
//! Both sources filter through [`classify`], so S3 and local folders agree on what the library holds.

use serde::Serialize;

/// Audio or video: the player picks its view from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Sound only (`<audio>`).
    Audio,
    /// Moving pictures (`<video>`).
    Video,
}

/// Extensions we list, with their kind and the Content-Type we serve.
///
/// Explicit rather than only `mime_guess` so that the served types are what browsers expect
/// (`audio/mp4` for m4a, `video/quicktime` for mov) whatever the guess table says.
const TABLE: &[(&str, Kind, &str)] = &[
    ("mp3", Kind::Audio, "audio/mpeg"),
    ("m4a", Kind::Audio, "audio/mp4"),
    ("aac", Kind::Audio, "audio/aac"),
    ("flac", Kind::Audio, "audio/flac"),
    ("wav", Kind::Audio, "audio/wav"),
    ("ogg", Kind::Audio, "audio/ogg"),
    ("oga", Kind::Audio, "audio/ogg"),
    ("opus", Kind::Audio, "audio/ogg"),
    ("mp4", Kind::Video, "video/mp4"),
    ("m4v", Kind::Video, "video/mp4"),
    ("webm", Kind::Video, "video/webm"),
    ("mov", Kind::Video, "video/quicktime"),
    ("mkv", Kind::Video, "video/x-matroska"),
    // What browsers do not play as they are: remuxed or transcoded by `/transcode` (ffmpeg).
    ("avi", Kind::Video, "video/x-msvideo"),
    ("ts", Kind::Video, "video/mp2t"),
    ("m2ts", Kind::Video, "video/mp2t"),
    ("mts", Kind::Video, "video/mp2t"),
    ("wmv", Kind::Video, "video/x-ms-wmv"),
    ("wma", Kind::Audio, "audio/x-ms-wma"),
    ("ac3", Kind::Audio, "audio/ac3"),
    ("dts", Kind::Audio, "audio/vnd.dts"),
    ("aiff", Kind::Audio, "audio/aiff"),
    ("aif", Kind::Audio, "audio/aiff"),
];

/// The kind and Content-Type of `key`, or `None` when it is not media we list.
pub fn classify(key: &str) -> Option<(Kind, &'static str)> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (_, ext) = name.rsplit_once('.')?;
    TABLE
        .iter()
        .find(|(e, _, _)| e.eq_ignore_ascii_case(ext))
        .map(|(_, kind, mime)| (*kind, *mime))
}

/// Stems of folder art, best first (`cover.jpg` beats `folder.png` beats `front.webp`).
const ART_STEMS: [&str; 3] = ["cover", "folder", "front"];
/// Extensions of folder art, best first.
const ART_EXTS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// How good `key` is as folder art: `None` when it is not folder art (`cover`, `folder` or
/// `front` with `.jpg`/`.jpeg`/`.png`/`.webp`, any case), lower is better.
pub fn folder_art_rank(key: &str) -> Option<usize> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (stem, ext) = name.rsplit_once('.')?;
    let stem = ART_STEMS
        .iter()
        .position(|s| s.eq_ignore_ascii_case(stem))?;
    let ext = ART_EXTS.iter().position(|e| e.eq_ignore_ascii_case(ext))?;
    Some(stem * ART_EXTS.len() + ext)
}

/// Extensions of subtitle files offered beside videos (SRT, WebVTT, ASS/SSA).
const SUBTITLE_EXTS: [&str; 4] = ["srt", "vtt", "ass", "ssa"];

/// Whether `key` is a subtitle file (`.srt`, `.vtt`, `.ass`, `.ssa`, any case): kept aside
/// by the catalog for the videos beside it, never an item.
pub fn is_subtitle(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| SUBTITLE_EXTS.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// Whether the catalog keeps `key` aside (not an item, but needed beside items): folder art
/// and subtitle files.
pub fn kept_aside(key: &str) -> bool {
    folder_art_rank(key).is_some() || is_subtitle(key)
}

/// The Content-Type of any UI asset, for the embedded file server.
pub fn asset_type(path: &str) -> String {
    mime_guess::from_path(path)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtitles_are_kept_aside_and_never_media() {
        for key in ["a/Film.en.srt", "Film.VTT", "x/y.Ass", "z.ssa"] {
            assert!(is_subtitle(key) && kept_aside(key), "{key}");
            assert_eq!(classify(key), None, "{key}");
        }
        for key in ["a/srt", "a.srt/b.mp4", "Film.sub", "Film.txt"] {
            assert!(!is_subtitle(key), "{key}");
        }
        assert!(kept_aside("a/cover.jpg") && !kept_aside("a/b.mp3"));
    }

    #[test]
    fn folder_art_is_recognised_and_ranked() {
        assert_eq!(folder_art_rank("a/b/cover.jpg"), Some(0));
        assert_eq!(folder_art_rank("COVER.JPEG"), Some(1));
        assert!(folder_art_rank("x/Folder.png") > folder_art_rank("x/cover.webp"));
        assert!(folder_art_rank("front.WebP").is_some());
        for no in [
            "cover",
            "cover.gif",
            "covers.jpg",
            "a/cover.jpg/x.mp3",
            "back.jpg",
            ".jpg",
        ] {
            assert_eq!(folder_art_rank(no), None, "{no}");
        }
    }

    #[test]
    fn classifies_media_and_ignores_the_rest() {
        let cases: &[(&str, Option<(Kind, &str)>)] = &[
            ("a.mp3", Some((Kind::Audio, "audio/mpeg"))),
            ("dir/B.MP4", Some((Kind::Video, "video/mp4"))),
            ("x.m4a", Some((Kind::Audio, "audio/mp4"))),
            ("x.flac", Some((Kind::Audio, "audio/flac"))),
            ("x.webm", Some((Kind::Video, "video/webm"))),
            ("x.opus", Some((Kind::Audio, "audio/ogg"))),
            ("x.mov", Some((Kind::Video, "video/quicktime"))),
            ("x.mkv", Some((Kind::Video, "video/x-matroska"))),
            ("Film.AVI", Some((Kind::Video, "video/x-msvideo"))),
            ("rec/00001.m2ts", Some((Kind::Video, "video/mp2t"))),
            ("x.mts", Some((Kind::Video, "video/mp2t"))),
            ("x.ts", Some((Kind::Video, "video/mp2t"))),
            ("x.wmv", Some((Kind::Video, "video/x-ms-wmv"))),
            ("x.wma", Some((Kind::Audio, "audio/x-ms-wma"))),
            ("x.ac3", Some((Kind::Audio, "audio/ac3"))),
            ("x.dts", Some((Kind::Audio, "audio/vnd.dts"))),
            ("x.aiff", Some((Kind::Audio, "audio/aiff"))),
            ("x.aif", Some((Kind::Audio, "audio/aiff"))),
            ("x.m2t", None),
            ("notes.txt", None),
            ("mp3", None),
            ("folder.mp3/", None),
            ("dir.mp4/readme", None),
            ("", None),
        ];
        for (key, want) in cases {
            assert_eq!(classify(key), *want, "key {key:?}");
        }
    }

    #[test]
    fn asset_types() {
        assert_eq!(asset_type("index.html"), "text/html");
        assert_eq!(asset_type("app.js"), "text/javascript");
        assert_eq!(asset_type("style.css"), "text/css");
    }
}
