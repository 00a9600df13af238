//! The A–Z index of artists and folders: articles ("The Beatles" under B) are ignored, letters
//! with accents file under their base letter, and anything that is not a letter under `#`.

/// Articles left out when sorting and grouping names (as Subsonic servers do by default).
pub const IGNORED_ARTICLES: [&str; 11] = [
    "The", "El", "La", "Los", "Las", "Le", "Les", "Os", "As", "O", "A",
];

/// `name` without a leading ignored article (and the space after it).
fn without_article(name: &str) -> &str {
    let trimmed = name.trim_start();
    for article in IGNORED_ARTICLES {
        if let Some(rest) = trimmed
            .get(..article.len())
            .filter(|h| h.eq_ignore_ascii_case(article))
        {
            let after = &trimmed[rest.len()..];
            if after.starts_with(' ') && !after.trim().is_empty() {
                return after.trim_start();
            }
        }
    }
    trimmed
}

/// The base letter of `c` for common Latin accented letters (`É` → `E`), else `c`.
fn base_letter(c: char) -> char {
    const TABLE: [(&str, char); 12] = [
        ("ÀÁÂÃÄÅàáâãäå", 'A'),
        ("Çç", 'C'),
        ("ÈÉÊËèéêë", 'E'),
        ("ÌÍÎÏìíîï", 'I'),
        ("Ññ", 'N'),
        ("ÒÓÔÕÖØòóôõöø", 'O'),
        ("ÙÚÛÜùúûü", 'U'),
        ("Ýýÿ", 'Y'),
        ("Šš", 'S'),
        ("Žž", 'Z'),
        ("Łł", 'L'),
        ("Ðð", 'D'),
    ];
    TABLE
        .iter()
        .find(|(set, _)| set.contains(c))
        .map_or(c, |(_, base)| *base)
}

/// The index group of `name`: its first letter (articles ignored, accents dropped,
/// uppercase), or `#`.
pub fn index_letter(name: &str) -> String {
    match without_article(name).chars().next().map(base_letter) {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => "#".to_owned(),
    }
}

/// The key names sort by within the index.
pub(super) fn sort_key(name: &str) -> (String, String) {
    let letter = index_letter(name);
    // `#` sorts first, as clients show it.
    let group = if letter == "#" { String::new() } else { letter };
    (group, without_article(name).to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        for (name, want) in [
            ("The Beatles", "B"),
            ("the beatles", "B"),
            ("The", "T"),
            ("Theatre of Tragedy", "T"),
            ("Los Lobos", "L"),
            ("A Tribe Called Quest", "T"),
            ("ABBA", "A"),
            ("Édith Piaf", "E"),
            ("  Ólafur Arnalds", "O"),
            ("ßtraße", "SS"),
            ("Björk", "B"),
            ("2Pac", "#"),
            ("!!!", "#"),
            ("", "#"),
            ("坂本龍一", "坂"),
        ] {
            assert_eq!(index_letter(name), want, "{name}");
        }
        assert!(sort_key("The Beatles") < sort_key("Björk"));
        assert!(sort_key("2Pac") < sort_key("ABBA"));
    }
}
