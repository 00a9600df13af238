//! Pure parsing of tus 1.0.0 request headers: `Tus-Resumable`, `Upload-Length`,
//! `Upload-Offset`, `Upload-Metadata`, `Upload-Checksum` and the PATCH `Content-Type`.
//!
//! Every function takes the header's value (`None`: absent) and either gives the typed value
//! or an [`UploadError`] naming what is wrong. Sizes are bounded: `Upload-Metadata` is read
//! only up to [`MAX_METADATA_BYTES`] and [`MAX_METADATA_PAIRS`], so hostile headers cost
//! nothing (hyper already bounds the whole head).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::{Result, UploadError};

/// The one protocol version this server speaks.
pub const VERSION: &str = "1.0.0";
/// Longest `Upload-Metadata` header accepted.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;
/// Most key-value pairs accepted in `Upload-Metadata`.
pub const MAX_METADATA_PAIRS: usize = 32;
/// The only body type PATCH accepts.
pub const OFFSET_STREAM: &str = "application/offset+octet-stream";

/// `Tus-Resumable` must be present and `1.0.0`.
pub fn resumable(value: Option<&str>) -> Result<()> {
    match value.map(str::trim) {
        Some(VERSION) => Ok(()),
        _ => Err(UploadError::Version),
    }
}

/// A non-negative decimal integer header (`Upload-Length`, `Upload-Offset`): digits only, no
/// sign, no spaces inside, at most 19 digits (no overflow).
fn number(name: &str, value: Option<&str>) -> Result<u64> {
    let value = value
        .map(str::trim)
        .ok_or_else(|| UploadError::Malformed(format!("{name} is missing")))?;
    if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UploadError::Malformed(format!(
            "{name} must be a non-negative integer"
        )));
    }
    value
        .parse()
        .map_err(|_| UploadError::Malformed(format!("{name} must be a non-negative integer")))
}

/// `Upload-Length` (required: `Upload-Defer-Length` is not supported).
pub fn length(value: Option<&str>, defer: Option<&str>) -> Result<u64> {
    if value.is_none() && defer.is_some() {
        return Err(UploadError::Malformed(
            "Upload-Defer-Length is not supported; send Upload-Length".into(),
        ));
    }
    number("Upload-Length", value)
}

/// `Upload-Offset` (required on PATCH).
pub fn offset(value: Option<&str>) -> Result<u64> {
    number("Upload-Offset", value)
}

/// A PATCH body must be `application/offset+octet-stream` (parameters ignored).
pub fn content_type(value: Option<&str>) -> Result<()> {
    let essence = value
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some(OFFSET_STREAM) => Ok(()),
        _ => Err(UploadError::UnsupportedType(format!(
            "the body must be {OFFSET_STREAM}"
        ))),
    }
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent).
/// Keys are ASCII without spaces or commas, unique; values must decode as base64 and as UTF-8.
pub fn metadata(value: Option<&str>) -> Result<Vec<(String, String)>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    if value.len() > MAX_METADATA_BYTES {
        return Err(UploadError::Malformed(format!(
            "Upload-Metadata is longer than {MAX_METADATA_BYTES} bytes"
        )));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in value.split(',') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        if out.len() == MAX_METADATA_PAIRS {
            return Err(UploadError::Malformed(format!(
                "Upload-Metadata has more than {MAX_METADATA_PAIRS} pairs"
            )));
        }
        let mut parts = pair.split(' ').filter(|p| !p.is_empty());
        let key = parts.next().unwrap_or_default();
        let encoded = parts.next().unwrap_or_default();
        if parts.next().is_some() {
            return Err(UploadError::Malformed(format!(
                "Upload-Metadata pair {key:?} has more than a key and a value"
            )));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UploadError::Malformed(
                "Upload-Metadata keys are printable ASCII".into(),
            ));
        }
        let bytes = STANDARD.decode(encoded).map_err(|_| {
            UploadError::Malformed(format!("Upload-Metadata {key:?} is not base64"))
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| UploadError::Malformed(format!("Upload-Metadata {key:?} is not UTF-8")))?;
        if out.iter().any(|(k, _)| k == key) {
            return Err(UploadError::Malformed(format!(
                "Upload-Metadata names {key:?} twice"
            )));
        }
        out.push((key.to_owned(), text));
    }
    Ok(out)
}

/// A checksum algorithm of the checksum extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// SHA-1 (what tus clients send).
    Sha1,
    /// SHA-256.
    Sha256,
    /// MD5.
    Md5,
}

impl Algorithm {
    /// The names for `Tus-Checksum-Algorithm`.
    pub const ADVERTISED: &'static str = "sha1,sha256,md5";

    fn digest_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Md5 => 16,
        }
    }
}

/// `Upload-Checksum: ALGO BASE64DIGEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The expected digest of the PATCH body.
    pub digest: Vec<u8>,
}

/// `Upload-Checksum` (optional). An unknown algorithm is a `400`, as the extension says.
pub fn checksum(value: Option<&str>) -> Result<Option<Checksum>> {
    let Some(value) = value else { return Ok(None) };
    let bad = |why: &str| UploadError::Malformed(format!("Upload-Checksum {why}"));
    let (name, encoded) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| bad("must be an algorithm and a base64 digest"))?;
    let algorithm = match name.to_ascii_lowercase().as_str() {
        "sha1" => Algorithm::Sha1,
        "sha256" => Algorithm::Sha256,
        "md5" => Algorithm::Md5,
        _ => return Err(bad("names an algorithm this server does not support")),
    };
    let encoded = encoded.trim();
    if encoded.len() > 64 {
        return Err(bad("is too long"));
    }
    let digest = STANDARD
        .decode(encoded)
        .map_err(|_| bad("digest is not base64"))?;
    if digest.len() != algorithm.digest_len() {
        return Err(bad("digest has the wrong length"));
    }
    Ok(Some(Checksum { algorithm, digest }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_table() {
        let cases: &[(Option<&str>, Option<u64>)] = &[
            (Some("0"), Some(0)),
            (Some("1234"), Some(1234)),
            (Some(" 7 "), Some(7)),
            (Some("9223372036854775807"), Some(i64::MAX as u64)),
            (Some("99999999999999999999"), None),
            (Some("-1"), None),
            (Some("+1"), None),
            (Some("1 2"), None),
            (Some("0x10"), None),
            (Some(""), None),
            (None, None),
        ];
        for (value, want) in cases {
            assert_eq!(offset(*value).ok(), *want, "{value:?}");
        }
        assert!(length(None, Some("1")).is_err());
        assert_eq!(length(Some("5"), Some("1")).ok(), Some(5));
    }

    #[test]
    fn version_and_content_type() {
        assert!(resumable(Some("1.0.0")).is_ok());
        assert!(matches!(
            resumable(Some("0.2.2")),
            Err(UploadError::Version)
        ));
        assert!(matches!(resumable(None), Err(UploadError::Version)));
        assert!(content_type(Some("application/offset+octet-stream")).is_ok());
        assert!(content_type(Some("Application/Offset+Octet-Stream; x=1")).is_ok());
        assert!(content_type(Some("application/octet-stream")).is_err());
        assert!(content_type(None).is_err());
    }

    #[test]
    fn metadata_table() {
        // "song.mp3" and "a/b".
        let ok = metadata(Some("filename c29uZy5tcDM=,folder YS9i, empty")).expect("ok");
        assert_eq!(
            ok,
            [
                ("filename".to_owned(), "song.mp3".to_owned()),
                ("folder".to_owned(), "a/b".to_owned()),
                ("empty".to_owned(), String::new()),
            ]
        );
        assert!(metadata(None).expect("none").is_empty());
        for bad in [
            "filename !!!",
            "filename c29uZy5tcDM= extra",
            "filename c29uZy5tcDM=,filename c29uZy5tcDM=",
            "fil\u{e9}name c29uZy5tcDM=",
            "filename /w==", // 0xff: not UTF-8
        ] {
            assert!(metadata(Some(bad)).is_err(), "{bad}");
        }
        let long = "a ".repeat(MAX_METADATA_BYTES);
        assert!(metadata(Some(&long)).is_err());
        let many: Vec<String> = (0..=MAX_METADATA_PAIRS).map(|i| format!("k{i}")).collect();
        assert!(metadata(Some(&many.join(","))).is_err());
    }

    #[test]
    fn checksum_table() {
        // sha1("") = da39a3ee...
        let c = checksum(Some("sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk="))
            .expect("ok")
            .expect("some");
        assert_eq!(c.algorithm, Algorithm::Sha1);
        assert_eq!(
            hex::encode(&c.digest),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert!(checksum(None).expect("none").is_none());
        for bad in [
            "sha1",
            "crc32 AAAAAA==",
            "sha1 2jmj7l5rSw0yVb", // wrong length
            "sha1 ***",
            "md5 2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
        ] {
            assert!(checksum(Some(bad)).is_err(), "{bad}");
        }
    }
}
