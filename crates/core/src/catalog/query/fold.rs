//! Folding text for case- and accent-insensitive search: Unicode NFKD, combining marks
//! dropped, lowercase. "Beyoncé" and "BEYONCE" both fold to "beyonce".
//!
//! Nothing folded is kept per item (at 1,000,000 items a folded copy of every searchable
//! field would cost tens of MiB): each item's text is folded on the fly into one reused
//! buffer, with a fast path for ASCII (most names, folders and tags), which only needs its
//! bytes lowercased.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// `text` folded: NFKD, without combining marks, lowercased.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Appends `text` folded to `out`, as UTF-8 (ASCII is only lowercased: NFKD leaves it as it
/// is, and this loop is what a search spends its time in).
pub fn fold_into(text: &str, out: &mut Vec<u8>) {
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
        return;
    }
    let mut utf8 = [0u8; 4];
    for c in text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
    {
        out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_table() {
        let cases = [
            ("Beyoncé", "beyonce"),
            ("ÉCOLE", "ecole"),
            ("École", "ecole"),
            ("ABC def", "abc def"),
            ("Ça ira", "ca ira"),
            ("Mötley Crüe", "motley crue"),
            ("Ångström", "angstrom"),
            // Cyrillic: lowercased; й (и + breve) loses its breve like any accent.
            ("Кино", "кино"),
            ("ЙОД", "иод"),
            // CJK folds to itself; full-width Latin (NFKD) to ASCII.
            ("坂本龍一", "坂本龍一"),
            ("ＡＢＣ", "abc"),
            // Ligatures and compatibility forms.
            ("ﬁnale", "finale"),
            ("Ⅻ", "xii"),
            ("İstanbul", "istanbul"),
            ("", ""),
        ];
        for (text, want) in cases {
            assert_eq!(fold(text), want, "{text:?}");
            let mut bytes = b"x".to_vec();
            fold_into(text, &mut bytes);
            assert_eq!(bytes, format!("x{want}").as_bytes(), "appends {text:?}");
        }
    }

    #[test]
    fn ascii_fast_path_is_the_full_fold() {
        let ascii: String = (0u8..128).map(char::from).collect();
        let slow: String = ascii
            .nfkd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect();
        assert_eq!(fold(&ascii), slow);
    }
}
