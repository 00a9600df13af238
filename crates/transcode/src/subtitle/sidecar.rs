//! Subtitle files beside a video: same folder, same stem, a subtitle extension, and optional
//! tags between (`Film.srt`, `Film.en.srt`, `Film.pt-BR.forced.ass`, `Film.English.sdh.vtt`).
//! The tags give the track's language and kind, which the player lists and remembers.

use super::Format;

/// A subtitle file found for a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    /// Its key (or path), as listed.
    pub key: String,
    /// Its format.
    pub format: Format,
    /// Its language, when a tag looks like a language code (`en`, `pt-br`, `eng`), lowercase.
    pub language: Option<String>,
    /// The tags as written, for the track's label (empty when there are none).
    pub label: String,
    /// Tagged `forced` (only foreign-language parts).
    pub forced: bool,
    /// Tagged `sdh`, `cc` or `hi` (for the deaf and hard of hearing).
    pub sdh: bool,
}

/// Whether `tag` looks like a language code: two or three letters, optionally `-` and a
/// region or script of two to four letters or digits.
fn language_code(tag: &str) -> bool {
    let (lang, region) = match tag.split_once(['-', '_']) {
        Some((l, r)) => (l, Some(r)),
        None => (tag, None),
    };
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_alphabetic())
        && region.is_none_or(|r| {
            (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The sidecar subtitles of `video` among `keys` (any keys; those in other folders, with
/// another stem or another extension are ignored), sorted by key.
pub fn sidecars<'a>(video: &str, keys: impl IntoIterator<Item = &'a str>) -> Vec<Sidecar> {
    let (folder, file) = match video.rsplit_once('/') {
        Some((folder, file)) => (Some(folder), file),
        None => (None, video),
    };
    let Some((stem, _)) = file.rsplit_once('.') else {
        return Vec::new();
    };
    let mut out: Vec<Sidecar> = keys
        .into_iter()
        .filter_map(|key| {
            let (f, name) = match key.rsplit_once('/') {
                Some((f, name)) => (Some(f), name),
                None => (None, key),
            };
            if f != folder || key == video {
                return None;
            }
            let format = Format::from_name(name)?;
            let (base, _) = name.rsplit_once('.')?;
            let head = base.get(..stem.len())?;
            if !head.eq_ignore_ascii_case(stem) {
                return None;
            }
            let tags = &base[stem.len()..];
            if !(tags.is_empty() || tags.starts_with('.')) {
                return None;
            }
            let tags: Vec<&str> = tags.split('.').filter(|t| !t.is_empty()).collect();
            let lower = |t: &&str| t.to_ascii_lowercase();
            let forced = tags.iter().map(lower).any(|t| t == "forced");
            let sdh = tags
                .iter()
                .map(lower)
                .any(|t| matches!(t.as_str(), "sdh" | "cc" | "hi"));
            let language = tags.iter().map(lower).find(|t| {
                !matches!(t.as_str(), "forced" | "sdh" | "cc" | "hi") && language_code(t)
            });
            Some(Sidecar {
                key: key.to_owned(),
                format,
                language,
                label: tags.join(" "),
                forced,
                sdh,
            })
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &[
        "films/Film.mp4",
        "films/Film.srt",
        "films/Film.en.srt",
        "films/film.EN.forced.SRT",
        "films/Film.pt-BR.sdh.ass",
        "films/Film.English.vtt",
        "films/Film 2.srt",
        "films/Filmmaker.srt",
        "films/Film.en.txt",
        "other/Film.fr.srt",
        "Film.de.srt",
    ];

    #[test]
    fn finds_the_sidecars_of_a_video() {
        let found = sidecars("films/Film.mp4", KEYS.iter().copied());
        let summary: Vec<(&str, Option<&str>, &str, bool, bool)> = found
            .iter()
            .map(|s| {
                (
                    s.key.as_str(),
                    s.language.as_deref(),
                    s.label.as_str(),
                    s.forced,
                    s.sdh,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("films/Film.English.vtt", None, "English", false, false),
                ("films/Film.en.srt", Some("en"), "en", false, false),
                (
                    "films/Film.pt-BR.sdh.ass",
                    Some("pt-br"),
                    "pt-BR sdh",
                    false,
                    true
                ),
                ("films/Film.srt", None, "", false, false),
                (
                    "films/film.EN.forced.SRT",
                    Some("en"),
                    "EN forced",
                    true,
                    false
                ),
            ]
        );
        assert_eq!(found[2].format, Format::Ass);
        // A video at the top level only sees top-level files.
        let top = sidecars("Film.mkv", KEYS.iter().copied());
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].language.as_deref(), Some("de"));
        assert!(sidecars("noextension", KEYS.iter().copied()).is_empty());
    }

    #[test]
    fn language_codes() {
        for (tag, want) in [
            ("en", true),
            ("eng", true),
            ("pt-br", true),
            ("zh-hans", true),
            ("sr_latn", true),
            ("english", false),
            ("e", false),
            ("en-", false),
            ("12", false),
        ] {
            assert_eq!(language_code(tag), want, "{tag}");
        }
    }
}
