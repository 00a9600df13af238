//! The query string's pairs to a [`Query`]: every value checked, bounds enforced before any
//! work (a 10 KB `q` is refused without being folded).

use super::fold::fold;
use super::{BadQuery, Query, Sort, SortField, MAX_LIMIT, MAX_Q_BYTES, MAX_WORDS, PARAMS};
use crate::media::Kind;

/// The query for these (already percent-decoded) pairs: `Ok(None)` when none of
/// [`PARAMS`] is present (the whole list is wanted), `Err` for a refused parameter.
pub fn parse<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Result<Option<Query>, BadQuery> {
    if !pairs.iter().any(|(k, _)| PARAMS.contains(&k.as_ref())) {
        return Ok(None);
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut query = Query::default();
    for (key, value) in pairs {
        let (key, value) = (key.as_ref(), value.as_ref());
        let Some(&name) = PARAMS.iter().find(|p| **p == key) else {
            return Err(bad(format!(
                "unknown parameter {:?} (known: {})",
                clip(key),
                PARAMS.join(", ")
            )));
        };
        if seen.contains(&name) {
            return Err(bad(format!("{name} is given twice")));
        }
        seen.push(name);
        match name {
            "limit" => {
                query.limit = number(name, value)
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| bad(format!("limit must be from 1 to {MAX_LIMIT}")))?;
            }
            "offset" => {
                query.offset = number(name, value)
                    .ok_or_else(|| bad("offset must be a whole number from 0".into()))?;
            }
            "q" => query.words = words(value)?,
            "folder" => query.folder = Some(folder(value)),
            "under" => query.under = Some(folder(value)),
            "kind" => {
                query.kind = Some(match value {
                    "audio" => Kind::Audio,
                    "video" => Kind::Video,
                    _ => return Err(bad("kind must be audio or video".into())),
                });
            }
            _ => query.sort = sort(value)?,
        }
    }
    Ok(Some(query))
}

fn bad(message: String) -> BadQuery {
    BadQuery(message)
}

/// At most 40 characters of a client's text, for a message.
fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A decimal number of at most 18 digits (no sign, no spaces).
fn number(_name: &str, value: &str) -> Option<usize> {
    if value.is_empty() || value.len() > 18 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// `q`'s folded words (empty: no text filter).
fn words(q: &str) -> Result<Vec<String>, BadQuery> {
    if q.len() > MAX_Q_BYTES {
        return Err(bad(format!("q is longer than {MAX_Q_BYTES} bytes")));
    }
    let mut words: Vec<String> = Vec::new();
    for (n, word) in q.split_whitespace().enumerate() {
        if n == MAX_WORDS {
            return Err(bad(format!("q has more than {MAX_WORDS} words")));
        }
        let folded = fold(word);
        // A word that folds to nothing (a lone combining mark) matches everything.
        if !folded.is_empty() && !words.contains(&folded) {
            words.push(folded);
        }
    }
    Ok(words)
}

/// A folder as items carry it: without leading or trailing `/`.
fn folder(value: &str) -> String {
    value.trim_matches('/').to_owned()
}

fn sort(value: &str) -> Result<Sort, BadQuery> {
    let (descending, name) = match value.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, value),
    };
    SortField::NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, field)| Sort { field, descending })
        .ok_or_else(|| {
            let names: Vec<&str> = SortField::NAMES.iter().map(|(n, _)| *n).collect();
            bad(format!(
                "sort must be one of {} (with - for descending)",
                names.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Result<Option<Query>, BadQuery> {
        parse(pairs)
    }

    fn q(pairs: &[(&str, &str)]) -> Query {
        p(pairs).expect("valid").expect("a page")
    }

    #[test]
    fn no_paging_parameter_means_the_whole_list() {
        assert_eq!(p(&[]), Ok(None));
        assert_eq!(p(&[("_", "1712")]), Ok(None), "a cache buster");
        assert_eq!(q(&[("limit", "100")]), Query::default());
    }

    #[test]
    fn values_table() {
        let cases: &[(&[(&str, &str)], Query)] = &[
            (
                &[("limit", "1")],
                Query {
                    limit: 1,
                    ..Query::default()
                },
            ),
            (
                &[("limit", "1000"), ("offset", "0")],
                Query {
                    limit: 1000,
                    ..Query::default()
                },
            ),
            (
                &[("offset", "250")],
                Query {
                    offset: 250,
                    ..Query::default()
                },
            ),
            (
                &[("q", "  Beyoncé   LIVE ")],
                Query {
                    words: vec!["beyonce".into(), "live".into()],
                    ..Query::default()
                },
            ),
            (
                &[("q", "a A á")],
                Query {
                    words: vec!["a".into()],
                    ..Query::default()
                },
            ),
            (&[("q", "")], Query::default()),
            (
                &[("folder", "/Jazz/Live/")],
                Query {
                    folder: Some("Jazz/Live".into()),
                    ..Query::default()
                },
            ),
            (
                &[("folder", "")],
                Query {
                    folder: Some(String::new()),
                    ..Query::default()
                },
            ),
            (
                &[("under", "Jazz")],
                Query {
                    under: Some("Jazz".into()),
                    ..Query::default()
                },
            ),
            (
                &[("kind", "video")],
                Query {
                    kind: Some(Kind::Video),
                    ..Query::default()
                },
            ),
            (
                &[("kind", "audio")],
                Query {
                    kind: Some(Kind::Audio),
                    ..Query::default()
                },
            ),
            (&[("sort", "key")], Query::default()),
            (
                &[("sort", "-size")],
                Query {
                    sort: Sort {
                        field: SortField::Size,
                        descending: true,
                    },
                    ..Query::default()
                },
            ),
            (
                &[("sort", "duration")],
                Query {
                    sort: Sort {
                        field: SortField::Duration,
                        descending: false,
                    },
                    ..Query::default()
                },
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(&q(pairs), want, "{pairs:?}");
        }
        for (name, field) in SortField::NAMES {
            assert_eq!(q(&[("sort", name)]).sort.field, field);
            assert!(q(&[("sort", &format!("-{name}"))]).sort.descending);
        }
    }

    #[test]
    fn refusals_table() {
        let long_q = "a".repeat(10 * 1024);
        let many = "w ".repeat(MAX_WORDS + 1);
        let cases: &[&[(&str, &str)]] = &[
            &[("limit", "0")],
            &[("limit", "1001")],
            &[("limit", "-1")],
            &[("limit", "+5")],
            &[("limit", " 5")],
            &[("limit", "")],
            &[("limit", "ten")],
            &[("limit", "99999999999999999999999")],
            &[("offset", "-1")],
            &[("offset", "1.5")],
            &[("limit", "5"), ("limit", "6")],
            &[("q", "a"), ("q", "b")],
            &[("kind", "Audio")],
            &[("kind", "image")],
            &[("sort", "colour")],
            &[("sort", "--size")],
            &[("sort", "")],
            &[("limit", "5"), ("page", "2")],
            &[("q", &long_q)],
            &[("q", &many)],
        ];
        for pairs in cases {
            assert!(
                p(pairs).is_err(),
                "{:?}",
                &pairs[..pairs.len().min(2)]
                    .iter()
                    .map(|(k, v)| (k, clip(v)))
                    .collect::<Vec<_>>()
            );
        }
        let message = p(&[("limit", "5"), (&"x".repeat(10_000), "")]).expect_err("unknown");
        assert!(message.0.len() < 200, "the message does not echo 10 KB");
    }
}
