//! Pure RFC 9110 byte-range decisions: what to answer to a `Range` (and `If-Range`) header,
//! and whether an `If-None-Match` header makes a GET a `304`.
//!
//! Kept free of I/O and of HTTP types so the whole table of cases (suffix, open-ended,
//! reversed, beyond the end, empty object, overflowing numbers, garbage) is tested as plain
//! function calls. Parsing is `http-range-header`'s strict, DoS-bounded parser; this module
//! decides the policy:
//!
//! - one satisfiable range: **206** with that range;
//! - several satisfiable ranges: **200** with the whole object (multipart/byteranges is not
//!   served; RFC 9110 §14.2 lets a server ignore a Range header, and media players only send
//!   one range);
//! - a range that selects nothing in the object: **416** with `Content-Range: bytes */LEN`;
//! - a `bytes=` header that is malformed (garbage, reversed, over 30 digits): **416** as well,
//!   the clear error the design asks for;
//! - another unit (`items=0-5`) or no header: **200** (RFC 9110 says a server MUST ignore
//!   units it does not understand).

use http_range_header::{parse_range_header, RangeUnsatisfiableError};

/// What to send back for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 200 with the whole object.
    Full,
    /// 206 with bytes `start..=end` (inclusive, as in `Content-Range`).
    Partial {
        /// The first byte sent.
        start: u64,
        /// The last byte sent.
        end: u64,
    },
    /// 416 with `Content-Range: bytes */LEN`; `malformed` tells why, for the body text.
    Unsatisfiable {
        /// The header was malformed (rather than out of the object's bounds).
        malformed: bool,
    },
}

impl Decision {
    /// Number of body bytes this decision sends for an object of `len` bytes.
    pub fn body_len(&self, len: u64) -> u64 {
        match *self {
            Decision::Full => len,
            Decision::Partial { start, end } => end - start + 1,
            Decision::Unsatisfiable { .. } => 0,
        }
    }
}

/// Decides the answer to `Range: header` for an object of `len` bytes.
pub fn decide(header: Option<&str>, len: u64) -> Decision {
    let Some(header) = header else {
        return Decision::Full;
    };
    let trimmed = header.trim_start();
    // Units are case-insensitive; anything but bytes is ignored.
    let is_bytes = trimmed
        .get(..6)
        .is_some_and(|unit| unit.eq_ignore_ascii_case("bytes="));
    if !is_bytes {
        return Decision::Full;
    }
    let normalized = format!("bytes={}", &trimmed[6..]);
    let parsed = match parse_range_header(&normalized) {
        Ok(parsed) => parsed,
        Err(err) => return from_error(err),
    };
    match parsed.validate(len) {
        Ok(ranges) => match ranges.as_slice() {
            [one] => Decision::Partial {
                start: *one.start(),
                end: *one.end(),
            },
            // Empty (a suffix range on an empty object) or several ranges: whole object.
            _ => Decision::Full,
        },
        Err(err) => from_error(err),
    }
}

fn from_error(err: RangeUnsatisfiableError) -> Decision {
    use http_range_header::RangeRejected;
    match err {
        RangeUnsatisfiableError::Unsatisfiable => Decision::Unsatisfiable { malformed: false },
        RangeUnsatisfiableError::Rejected(RangeRejected::TooManyDigits) => {
            Decision::Unsatisfiable { malformed: true }
        }
        // Too many or overlapping ranges: legal syntax we choose to ignore.
        RangeUnsatisfiableError::Rejected(_) => Decision::Full,
        _ => Decision::Unsatisfiable { malformed: true },
    }
}

/// Whether an `If-Range` precondition holds, so the `Range` header may be honoured.
///
/// RFC 9110 §13.1.5: an entity tag must match strongly (weak tags never match); a date must
/// equal the object's Last-Modified exactly. Without `If-Range` the range always applies.
pub fn if_range_holds(
    if_range: Option<&str>,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> bool {
    let Some(cond) = if_range.map(str::trim) else {
        return true;
    };
    if cond.starts_with("W/") {
        return false;
    }
    if cond.starts_with('"') {
        return etag.is_some_and(|tag| !tag.starts_with("W/") && tag == cond);
    }
    match (
        httpdate::parse_http_date(cond),
        last_modified.map(httpdate::parse_http_date),
    ) {
        (Ok(asked), Some(Ok(have))) => asked == have,
        _ => false,
    }
}

/// Whether an `If-None-Match` header matches the object, so a GET or HEAD gets `304`.
///
/// RFC 9110 §13.1.2: `*` matches any object that exists; otherwise the tags are compared
/// **weakly** (`W/"x"` matches `"x"` and `W/"x"`), unlike `If-Range`. A list that stops
/// parsing (a tag without quotes) matches only through the tags read before the fault.
pub fn if_none_match_hits(header: &str, etag: Option<&str>) -> bool {
    if header.trim() == "*" {
        return true;
    }
    let Some(ours) = etag.map(opaque) else {
        return false;
    };
    let mut rest = header;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return false;
        }
        let body = rest.strip_prefix("W/").unwrap_or(rest);
        let Some(inner) = body.strip_prefix('"') else {
            return false;
        };
        let Some(end) = inner.find('"') else {
            return false;
        };
        if &inner[..end] == ours {
            return true;
        }
        rest = &inner[end + 1..];
    }
}

/// The opaque part of an entity tag: `W/"x"` and `"x"` both give `x`.
fn opaque(tag: &str) -> &str {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::Decision::{Full, Partial, Unsatisfiable};
    use super::*;

    const BAD: Decision = Unsatisfiable { malformed: true };
    const NONE: Decision = Unsatisfiable { malformed: false };

    #[test]
    fn range_table() {
        let p = |start, end| Partial { start, end };
        let cases: &[(Option<&str>, u64, Decision)] = &[
            (None, 100, Full),
            (Some("bytes=0-0"), 100, p(0, 0)),
            (Some("bytes=0-99"), 100, p(0, 99)),
            (Some("bytes=10-19"), 100, p(10, 19)),
            // open-ended
            (Some("bytes=90-"), 100, p(90, 99)),
            (Some("bytes=0-"), 100, p(0, 99)),
            // end beyond the object is clamped
            (Some("bytes=50-1000"), 100, p(50, 99)),
            // suffix
            (Some("bytes=-10"), 100, p(90, 99)),
            (Some("bytes=-100"), 100, p(0, 99)),
            (Some("bytes=-500"), 100, p(0, 99)),
            (Some("bytes=-0"), 100, NONE),
            // start beyond the end
            (Some("bytes=100-"), 100, NONE),
            (Some("bytes=100-200"), 100, NONE),
            (Some("bytes=5000-"), 100, NONE),
            // start > end is malformed
            (Some("bytes=20-10"), 100, BAD),
            // empty object
            (Some("bytes=0-"), 0, NONE),
            (Some("bytes=0-0"), 0, NONE),
            (Some("bytes=-5"), 0, Full),
            (None, 0, Full),
            // overflowing numbers
            (Some("bytes=0-99999999999999999999999"), 100, p(0, 99)),
            (Some("bytes=99999999999999999999-"), 100, NONE),
            (Some("bytes=0-1234567890123456789012345678901234"), 100, BAD),
            // garbage
            (Some("bytes="), 100, BAD),
            (Some("bytes=abc"), 100, BAD),
            (Some("bytes=1-2-3"), 100, BAD),
            (Some("bytes=-"), 100, BAD),
            (Some("bytes=+1-2"), 100, BAD),
            (Some("bytes=-1-2"), 100, BAD),
            (Some("bytes=0x10-20"), 100, BAD),
            // empty list elements are tolerated (RFC 9110 §5.6.1)
            (Some("bytes=0-10,"), 100, p(0, 10)),
            (Some("bytes=0-10 "), 100, BAD),
            (Some("bytes=\u{e9}-1"), 100, BAD),
            // case-insensitive unit, leading whitespace
            (Some("Bytes=0-1"), 100, p(0, 1)),
            (Some(" bytes=0-1"), 100, p(0, 1)),
            // other units are ignored
            (Some("items=0-5"), 100, Full),
            (Some(""), 100, Full),
            (Some("garbage"), 100, Full),
            // several ranges: whole object
            (Some("bytes=0-1,5-6"), 100, Full),
            (Some("bytes=0-1, 5-6"), 100, Full),
            // several, only one satisfiable: that one
            (Some("bytes=0-1,500-600"), 100, p(0, 1)),
            // overlapping: ignored
            (Some("bytes=0-50,10-60"), 100, Full),
        ];
        for (header, len, want) in cases {
            assert_eq!(
                decide(*header, *len),
                *want,
                "Range {header:?} on {len} bytes"
            );
        }
    }

    #[test]
    fn body_lengths() {
        assert_eq!(Full.body_len(7), 7);
        assert_eq!(Partial { start: 2, end: 4 }.body_len(7), 3);
        assert_eq!(NONE.body_len(7), 0);
    }

    #[test]
    fn if_range_table() {
        let etag = Some("\"abc\"");
        let lm = Some("Wed, 21 Oct 2015 07:28:00 GMT");
        let cases: &[(Option<&str>, bool)] = &[
            (None, true),
            (Some("\"abc\""), true),
            (Some("\"other\""), false),
            (Some("W/\"abc\""), false),
            (Some("Wed, 21 Oct 2015 07:28:00 GMT"), true),
            (Some("Wed, 21 Oct 2015 07:28:01 GMT"), false),
            (Some("not a date"), false),
        ];
        for (cond, want) in cases {
            assert_eq!(if_range_holds(*cond, etag, lm), *want, "If-Range {cond:?}");
        }
        assert!(!if_range_holds(Some("\"abc\""), None, lm));
        assert!(!if_range_holds(Some("\"abc\""), Some("W/\"abc\""), lm));
    }

    #[test]
    fn if_none_match_table() {
        let cases: &[(&str, Option<&str>, bool)] = &[
            ("\"abc\"", Some("\"abc\""), true),
            ("\"other\"", Some("\"abc\""), false),
            // weak comparison: W/ on either side still matches
            ("W/\"abc\"", Some("\"abc\""), true),
            ("\"abc\"", Some("W/\"abc\""), true),
            ("W/\"abc\"", Some("W/\"abc\""), true),
            // lists, with and without spaces, empty elements tolerated
            ("\"x\", \"abc\"", Some("\"abc\""), true),
            ("\"x\",W/\"abc\"", Some("\"abc\""), true),
            (" , \"x\" ,, \"abc\" ", Some("\"abc\""), true),
            ("\"x\", \"y\"", Some("\"abc\""), false),
            // a comma inside a tag is part of the tag
            ("\"a,b\"", Some("\"a,b\""), true),
            ("\"a,b\"", Some("\"a\""), false),
            // `*` matches anything that exists, with or without a tag
            ("*", Some("\"abc\""), true),
            (" * ", None, true),
            // no tag on the object: only `*`
            ("\"abc\"", None, false),
            // malformed: unquoted, unterminated, prefix only
            ("abc", Some("\"abc\""), false),
            ("\"abc", Some("\"abc\""), false),
            ("W/", Some("\"abc\""), false),
            ("", Some("\"abc\""), false),
            // the opaque part must be equal, not a prefix
            ("\"ab\"", Some("\"abc\""), false),
            ("\"abcd\"", Some("\"abc\""), false),
        ];
        for (header, etag, want) in cases {
            assert_eq!(
                if_none_match_hits(header, *etag),
                *want,
                "If-None-Match {header:?} against {etag:?}"
            );
        }
    }
}
