//! Language tags as the player compares them: sidecar names say `en` or `eng`, Matroska and
//! MP4 say `eng` (ISO 639-2, bibliographic `ger` or terminological `deu`), so the common
//! three-letter codes become their two-letter forms and a remembered choice of `en` finds
//! an `eng` track.

/// ISO 639-2 codes (both forms) of widely used languages and their ISO 639-1 codes.
const THREE_TO_TWO: &[(&str, &str)] = &[
    ("ara", "ar"),
    ("chi", "zh"),
    ("zho", "zh"),
    ("cze", "cs"),
    ("ces", "cs"),
    ("dan", "da"),
    ("dut", "nl"),
    ("nld", "nl"),
    ("eng", "en"),
    ("fin", "fi"),
    ("fre", "fr"),
    ("fra", "fr"),
    ("ger", "de"),
    ("deu", "de"),
    ("gre", "el"),
    ("ell", "el"),
    ("heb", "he"),
    ("hin", "hi"),
    ("hun", "hu"),
    ("ind", "id"),
    ("ita", "it"),
    ("jpn", "ja"),
    ("kor", "ko"),
    ("nor", "no"),
    ("nob", "nb"),
    ("pol", "pl"),
    ("por", "pt"),
    ("rum", "ro"),
    ("ron", "ro"),
    ("rus", "ru"),
    ("spa", "es"),
    ("swe", "sv"),
    ("tha", "th"),
    ("tur", "tr"),
    ("ukr", "uk"),
    ("vie", "vi"),
];

/// `tag` lowercased, with a known three-letter language turned into two letters (a region
/// kept: `por-br` → `pt-br`); `None` for an empty, undetermined (`und`, `zxx`, `mis`,
/// `mul`) or malformed tag (anything but letters, digits, `-` and `_`, or over 16 bytes).
pub fn normalize(tag: &str) -> Option<String> {
    let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
    if tag.is_empty()
        || tag.len() > 16
        || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    let (lang, region) = match tag.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (tag.as_str(), None),
    };
    if lang.is_empty() || matches!(lang, "und" | "zxx" | "mis" | "mul") {
        return None;
    }
    let lang = THREE_TO_TWO
        .iter()
        .find(|(three, _)| *three == lang)
        .map_or(lang, |(_, two)| two);
    Some(match region {
        Some(r) if !r.is_empty() => format!("{lang}-{r}"),
        _ => lang.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let table: &[(&str, Option<&str>)] = &[
            ("en", Some("en")),
            ("eng", Some("en")),
            ("ENG", Some("en")),
            ("ger", Some("de")),
            ("deu", Some("de")),
            ("pt-BR", Some("pt-br")),
            ("por_BR", Some("pt-br")),
            ("tlh", Some("tlh")),
            ("und", None),
            ("", None),
            ("  ", None),
            ("en\"><script>", None),
            ("-x", None),
            ("a-very-long-language-tag", None),
        ];
        for (tag, want) in table {
            assert_eq!(normalize(tag).as_deref(), *want, "{tag:?}");
        }
    }
}
