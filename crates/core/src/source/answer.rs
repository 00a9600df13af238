//! Checks a store's answer to a (ranged) GetObject against what was asked, before any byte of
//! it is served or cached.
//!
//! A store or proxy that ignores `Range` answers 200 with the whole object, one that ignores
//! `If-Match` answers with another version's bytes, a broken one answers another range; each
//! time the bytes would be served as the asked range and cached under the listed version's
//! name. So the answer must be `206` with exactly the asked `Content-Range` (start, end, and
//! the listed size as the total), the asked length, and the listed ETag (strong comparison).
//! A `200` is accepted only where no range was asked or the range is the whole object, with
//! the object's length and ETag. An ETag mismatch is [`Error::Changed`] (the object changed:
//! 503 and a refresh); anything else is [`Error::StoreBadAnswer`] (502).
//!
//! When the listing gave no ETag there is nothing to compare and the ETag is not checked;
//! when it gave one, an answer without one is refused (its version cannot be told).

use crate::error::Error;

/// What was asked of the store, from the catalog snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    /// The listed ETag (sent as `If-Match`).
    pub etag: Option<&'a str>,
    /// The listed size.
    pub size: u64,
    /// The inclusive byte range asked (`None`: the whole object, no `Range` header).
    pub range: Option<(u64, u64)>,
}

/// What the store answered: the status and the headers that matter.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub status: u16,
    pub content_range: Option<&'a str>,
    pub content_length: Option<u64>,
    pub etag: Option<&'a str>,
}

/// `Ok` when `answer` carries exactly the bytes `asked` describes.
pub fn check(asked: &Asked<'_>, answer: &Answer<'_>) -> Result<(), Error> {
    if let Some(want) = asked.etag {
        match answer.etag {
            None => return Err(bad("the answer has no ETag")),
            Some(got) if !strong_eq(want, got) => return Err(Error::Changed),
            Some(_) => {}
        }
    }
    let whole = match asked.range {
        None => true,
        Some((a, b)) => a == 0 && b.checked_add(1) == Some(asked.size),
    };
    let want_len = match asked.range {
        Some((a, b)) if a <= b => b - a + 1,
        Some(_) => return Err(bad("an empty range was asked")),
        None => asked.size,
    };
    match (answer.status, asked.range) {
        (206, Some((a, b))) => {
            let Some(text) = answer.content_range else {
                return Err(bad("a 206 answer without Content-Range"));
            };
            if parse_content_range(text) != Some((a, b, asked.size)) {
                return Err(bad(&format!(
                    "asked bytes {a}-{b}/{}, got Content-Range {text:?}",
                    asked.size
                )));
            }
        }
        (200, _) if whole => {}
        (200, Some((a, b))) => {
            return Err(bad(&format!(
                "asked bytes {a}-{b} of {}, got the whole object (200: Range ignored)",
                asked.size
            )))
        }
        (status, _) => return Err(bad(&format!("unexpected status {status}"))),
    }
    match answer.content_length {
        Some(n) if n == want_len => Ok(()),
        Some(n) => Err(bad(&format!("{n} bytes where {want_len} were asked"))),
        None => Err(bad("the answer has no Content-Length")),
    }
}

fn bad(what: &str) -> Error {
    Error::StoreBadAnswer(what.to_owned())
}

/// RFC 9110 strong comparison: neither weak, same opaque tag. The quotes are optional on both
/// sides (some stores list unquoted ETags).
fn strong_eq(a: &str, b: &str) -> bool {
    let opaque = |t: &str| -> Option<String> {
        let t = t.trim();
        if t.starts_with("W/") || t.is_empty() {
            return None;
        }
        let t = t
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(t);
        Some(t.to_owned())
    };
    matches!((opaque(a), opaque(b)), (Some(x), Some(y)) if x == y)
}

/// `bytes A-B/TOTAL` (a known total only) as (A, B, TOTAL).
fn parse_content_range(text: &str) -> Option<(u64, u64, u64)> {
    let rest = text.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (a, b) = span.split_once('-')?;
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    Some((num(a)?, num(b)?, num(total)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: &str = "\"abc\"";

    fn asked(range: Option<(u64, u64)>) -> Asked<'static> {
        Asked {
            etag: Some(E),
            size: 1000,
            range,
        }
    }

    fn answer(
        status: u16,
        cr: Option<&'static str>,
        len: u64,
        etag: &'static str,
    ) -> Answer<'static> {
        Answer {
            status,
            content_range: cr,
            content_length: Some(len),
            etag: Some(etag),
        }
    }

    fn code(r: Result<(), Error>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(e) => e.code().as_str(),
        }
    }

    #[test]
    fn answer_table() {
        let part = Some((100, 199));
        let whole = Some((0, 999));
        let cases: &[(Asked, Answer, &str)] = &[
            (
                asked(part),
                answer(206, Some("bytes 100-199/1000"), 100, E),
                "ok",
            ),
            (
                asked(part),
                answer(206, Some("bytes 100-199/1000"), 100, "abc"),
                "ok",
            ),
            // Range ignored: 200 with the whole object.
            (asked(part), answer(200, None, 1000, E), "store_bad_answer"),
            // Another range, another total, garbage, none.
            (
                asked(part),
                answer(206, Some("bytes 0-99/1000"), 100, E),
                "store_bad_answer",
            ),
            (
                asked(part),
                answer(206, Some("bytes 100-199/2000"), 100, E),
                "store_bad_answer",
            ),
            (
                asked(part),
                answer(206, Some("bytes 100-199/*"), 100, E),
                "store_bad_answer",
            ),
            (
                asked(part),
                answer(206, Some("bytes +100-199/1000"), 100, E),
                "store_bad_answer",
            ),
            (asked(part), answer(206, None, 100, E), "store_bad_answer"),
            // The right Content-Range with a wrong length.
            (
                asked(part),
                answer(206, Some("bytes 100-199/1000"), 99, E),
                "store_bad_answer",
            ),
            // If-Match ignored: another version.
            (
                asked(part),
                answer(206, Some("bytes 100-199/1000"), 100, "\"new\""),
                "changed",
            ),
            (
                asked(part),
                answer(206, Some("bytes 100-199/1000"), 100, "W/\"abc\""),
                "changed",
            ),
            // The whole object: 200 is fine with the right length.
            (asked(whole), answer(200, None, 1000, E), "ok"),
            (
                asked(whole),
                answer(206, Some("bytes 0-999/1000"), 1000, E),
                "ok",
            ),
            (asked(whole), answer(200, None, 999, E), "store_bad_answer"),
            (asked(None), answer(200, None, 1000, E), "ok"),
            (
                asked(None),
                answer(206, Some("bytes 0-999/1000"), 1000, E),
                "store_bad_answer",
            ),
            (asked(part), answer(204, None, 100, E), "store_bad_answer"),
        ];
        for (i, (a, b, want)) in cases.iter().enumerate() {
            assert_eq!(code(check(a, b)), *want, "case {i}: {a:?} {b:?}");
        }
        // No ETag in the answer while one was listed: refused. None listed: not checked.
        let mut no_etag = answer(206, Some("bytes 100-199/1000"), 100, E);
        no_etag.etag = None;
        assert_eq!(code(check(&asked(part), &no_etag)), "store_bad_answer");
        let unlisted = Asked {
            etag: None,
            ..asked(part)
        };
        assert_eq!(code(check(&unlisted, &no_etag)), "ok");
        let mut no_len = answer(206, Some("bytes 100-199/1000"), 100, E);
        no_len.content_length = None;
        assert_eq!(code(check(&asked(part), &no_len)), "store_bad_answer");
    }
}
