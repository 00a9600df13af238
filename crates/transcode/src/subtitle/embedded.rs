//! Subtitle tracks inside a video, as ffprobe lists them (`-show_streams -select_streams s`):
//! the text ones (SubRip, ASS, WebVTT, MP4's `mov_text`) are offered, extracted by ffmpeg as
//! WebVTT; bitmap ones (PGS, DVD, DVB) would need burning into the picture and are not.

use serde_json::Value;

use super::language::normalize;

/// Codecs ffmpeg converts to WebVTT text.
const TEXT_CODECS: [&str; 7] = ["subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"];

/// A text subtitle track inside a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedTrack {
    /// Its place among the video's subtitle streams (ffmpeg's `-map 0:s:N`).
    pub index: usize,
    /// ffmpeg's codec name (`subrip`, `ass`, `mov_text`, `webvtt`).
    pub codec: String,
    /// Its language tag, normalised (see [`super::language::normalize`]); `None` for `und`.
    pub language: Option<String>,
    /// Its title tag, bounded to 200 characters.
    pub title: Option<String>,
    /// Flagged forced (only foreign-language parts).
    pub forced: bool,
    /// Flagged for the hearing impaired.
    pub sdh: bool,
}

/// The text tracks of ffprobe's `-show_streams` JSON (any streams: the subtitle ones are
/// picked out and counted in order, bitmap tracks included, as `-map 0:s:N` counts them).
pub fn embedded_tracks(json: &Value) -> Vec<EmbeddedTrack> {
    let streams = json["streams"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    streams
        .iter()
        .filter(|s| s["codec_type"] == "subtitle")
        .enumerate()
        .filter_map(|(index, s)| {
            let codec = s["codec_name"].as_str()?.to_ascii_lowercase();
            if !TEXT_CODECS.contains(&codec.as_str()) {
                return None;
            }
            let tag = |name: &str| {
                s["tags"].as_object().and_then(|tags| {
                    tags.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .and_then(|(_, v)| v.as_str())
                })
            };
            let flag = |name: &str| s["disposition"][name].as_u64() == Some(1);
            let title = tag("title")
                .map(|t| {
                    t.chars()
                        .filter(|c| !c.is_control())
                        .take(200)
                        .collect::<String>()
                })
                .filter(|t| !t.trim().is_empty());
            Some(EmbeddedTrack {
                index,
                codec,
                language: tag("language").and_then(normalize),
                title,
                forced: flag("forced"),
                sdh: flag("hearing_impaired"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_tracks_are_found_and_counted_among_all_subtitles() {
        let json = serde_json::json!({"streams": [
            {"codec_type": "video", "codec_name": "h264"},
            {"codec_type": "subtitle", "codec_name": "hdmv_pgs_subtitle", "tags": {"language": "eng"}},
            {"codec_type": "audio", "codec_name": "aac"},
            {"codec_type": "subtitle", "codec_name": "subrip",
             "tags": {"LANGUAGE": "ger", "title": "Deutsch\n(forced)"},
             "disposition": {"forced": 1, "hearing_impaired": 0}},
            {"codec_type": "subtitle", "codec_name": "mov_text", "tags": {"language": "und"},
             "disposition": {"hearing_impaired": 1}},
            {"codec_type": "subtitle"},
            {"codec_type": "subtitle", "codec_name": "ASS", "tags": {"language": 7}}
        ]});
        assert_eq!(
            embedded_tracks(&json),
            [
                EmbeddedTrack {
                    index: 1,
                    codec: "subrip".into(),
                    language: Some("de".into()),
                    title: Some("Deutsch(forced)".into()),
                    forced: true,
                    sdh: false,
                },
                EmbeddedTrack {
                    index: 2,
                    codec: "mov_text".into(),
                    language: None,
                    title: None,
                    forced: false,
                    sdh: true,
                },
                EmbeddedTrack {
                    index: 4,
                    codec: "ass".into(),
                    language: None,
                    title: None,
                    forced: false,
                    sdh: false,
                },
            ]
        );
        assert!(embedded_tracks(&serde_json::json!("nonsense")).is_empty());
        assert!(embedded_tracks(&serde_json::json!({"streams": {}})).is_empty());
    }
}
