//! S3's bucket naming rules as a pure check, so a bad name is refused with a clear message
//! before any request (the store's own `InvalidBucketName` says less, and costs a round trip).
//!
//! The rules are AWS's for general purpose buckets
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>); every
//! S3-compatible store we know accepts at least these names. The desktop settings view keeps a
//! JavaScript copy (`ui/desktop/bucket-name.js`, checked against the same table by `tests/browser/manage.test.js`) for checking as one types; the table test
//! below is the reference for both.

use std::fmt;

/// Prefixes AWS reserves.
const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];

/// Suffixes AWS reserves (access point aliases, directory buckets, table buckets, MRAPs).
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Why a name is not a valid bucket name: one variant per rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketNameError {
    /// Fewer than 3 or more than 63 characters (the length is given).
    Length(usize),
    /// A character other than lowercase letters, digits, `-` and `.` (the first such).
    Character(char),
    /// The first or last character is not a letter or a digit.
    Edge,
    /// `..`, `.-` or `-.` somewhere in the name (the pair found).
    Adjacent(&'static str),
    /// Four dot-separated numbers, like an IPv4 address.
    IpAddress,
    /// A prefix AWS reserves.
    ReservedPrefix(&'static str),
    /// A suffix AWS reserves.
    ReservedSuffix(&'static str),
}

impl fmt::Display for BucketNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BucketNameError::Length(n) => {
                write!(f, "a bucket name has 3 to 63 characters (this one has {n})")
            }
            BucketNameError::Character(c) => write!(
                f,
                "a bucket name may only hold lowercase letters, digits, '-' and '.' (not {c:?})"
            ),
            BucketNameError::Edge => {
                f.write_str("a bucket name starts and ends with a lowercase letter or a digit")
            }
            BucketNameError::Adjacent(pair) => {
                write!(f, "a bucket name may not contain {pair:?}")
            }
            BucketNameError::IpAddress => {
                f.write_str("a bucket name may not look like an IP address (such as 192.168.1.2)")
            }
            BucketNameError::ReservedPrefix(p) => {
                write!(f, "bucket names starting with {p:?} are reserved by S3")
            }
            BucketNameError::ReservedSuffix(s) => {
                write!(f, "bucket names ending with {s:?} are reserved by S3")
            }
        }
    }
}

impl std::error::Error for BucketNameError {}

/// Checks `name` against S3's bucket naming rules; the first rule broken, in the order of
/// [`BucketNameError`]'s variants.
pub fn check(name: &str) -> Result<(), BucketNameError> {
    let len = name.chars().count();
    if !(3..=63).contains(&len) {
        return Err(BucketNameError::Length(len));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(BucketNameError::Character(c));
    }
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !alnum(name.as_bytes().first()) || !alnum(name.as_bytes().last()) {
        return Err(BucketNameError::Edge);
    }
    if let Some(pair) = ["..", ".-", "-."].into_iter().find(|p| name.contains(p)) {
        return Err(BucketNameError::Adjacent(pair));
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(BucketNameError::IpAddress);
    }
    if let Some(p) = RESERVED_PREFIXES.into_iter().find(|p| name.starts_with(p)) {
        return Err(BucketNameError::ReservedPrefix(p));
    }
    if let Some(s) = RESERVED_SUFFIXES.into_iter().find(|s| name.ends_with(s)) {
        return Err(BucketNameError::ReservedSuffix(s));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_rules_table() {
        use BucketNameError::*;
        let cases: &[(&str, Result<(), BucketNameError>)] = &[
            ("music", Ok(())),
            ("abc", Ok(())),
            ("my-music.2026", Ok(())),
            ("a1b", Ok(())),
            ("1.2.3", Ok(())),
            ("1.2.3.4.5", Ok(())),
            ("192.168.1.x", Ok(())),
            (&"a".repeat(63), Ok(())),
            ("ab", Err(Length(2))),
            ("", Err(Length(0))),
            (&"a".repeat(64), Err(Length(64))),
            ("My-Music", Err(Character('M'))),
            ("my_music", Err(Character('_'))),
            ("my music", Err(Character(' '))),
            ("músic", Err(Character('ú'))),
            ("a/b", Err(Character('/'))),
            ("-music", Err(Edge)),
            ("music-", Err(Edge)),
            (".music", Err(Edge)),
            ("music.", Err(Edge)),
            ("my..music", Err(Adjacent(".."))),
            ("my.-music", Err(Adjacent(".-"))),
            ("my-.music", Err(Adjacent("-."))),
            ("192.168.1.2", Err(IpAddress)),
            ("10.0.0.255", Err(IpAddress)),
            ("xn--music", Err(ReservedPrefix("xn--"))),
            ("sthree-music", Err(ReservedPrefix("sthree-"))),
            ("amzn-s3-demo-x", Err(ReservedPrefix("amzn-s3-demo-"))),
            ("music-s3alias", Err(ReservedSuffix("-s3alias"))),
            ("music--ol-s3", Err(ReservedSuffix("--ol-s3"))),
            ("music.mrap", Err(ReservedSuffix(".mrap"))),
            ("music--x-s3", Err(ReservedSuffix("--x-s3"))),
        ];
        for (name, want) in cases {
            assert_eq!(&check(name), want, "{name:?}");
        }
    }

    #[test]
    fn every_message_says_what_to_do() {
        for err in [
            BucketNameError::Length(2),
            BucketNameError::Character('_'),
            BucketNameError::Edge,
            BucketNameError::Adjacent(".."),
            BucketNameError::IpAddress,
            BucketNameError::ReservedPrefix("xn--"),
            BucketNameError::ReservedSuffix("-s3alias"),
        ] {
            let text = err.to_string();
            assert!(
                text.starts_with("a bucket name") || text.starts_with("bucket names"),
                "{text}"
            );
        }
        // Hostile input is bounded: a megabyte of name is answered at once, by length.
        assert_eq!(
            check(&"a".repeat(1 << 20)),
            Err(BucketNameError::Length(1 << 20))
        );
    }
}
