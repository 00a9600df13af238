//! The transcode cache's bookkeeping: file names from what was asked ([`entry_name`]), and
//! which finished entries go when the cap is reached ([`evictions`], least recently used
//! first).
//!
//! Only finished outputs are entries: a stream in progress is a `.part` file that becomes an
//! entry when ffmpeg exits cleanly, and is deleted otherwise, so a partial output is never
//! served as if it were whole (Navidrome's rule: never serve bytes the cache does not have).

use sha2::{Digest, Sha256};

use super::args::{AudioCodec, Profile};

/// Suffix of a finished entry.
pub const ENTRY_SUFFIX: &str = ".out";
/// Suffix of an output being written.
pub const PART_SUFFIX: &str = ".part";

/// The cache file stem of `(item id, etag, profile)`: 64 hex digits, so any id or ETag is
/// safe in a file name and a new version of the item is a new entry.
pub fn entry_name(id: &str, etag: Option<&str>, profile: &Profile) -> String {
    let mut h = Sha256::new();
    h.update(b"bucketstream-transcode-v1\0");
    for part in [
        id,
        etag.unwrap_or(""),
        profile.mode.as_str(),
        &profile.start_ms.to_string(),
        &profile
            .max_bitrate_kbps
            .map(|k| k.to_string())
            .unwrap_or_default(),
        match profile.codec {
            AudioCodec::Aac => "aac",
            AudioCodec::Opus => "opus",
        },
    ] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The file of a finished entry.
pub fn entry_file(name: &str) -> String {
    format!("{name}{ENTRY_SUFFIX}")
}

/// The file of run `run` writing entry `name` (each run has its own, so a stopped run
/// cleaning up never deletes the file of the run that replaced it).
pub fn part_file(name: &str, run: u64) -> String {
    format!("{name}-{run}{PART_SUFFIX}")
}

/// Whether `file_name` is one of ours (an entry or a part): the only files the cache ever
/// deletes in its folder.
pub fn is_ours(file_name: &str) -> bool {
    let hex = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(stem) = file_name.strip_suffix(ENTRY_SUFFIX) {
        return hex(stem);
    }
    let Some(stem) = file_name.strip_suffix(PART_SUFFIX) else {
        return false;
    };
    stem.split_once('-').is_some_and(|(name, run)| {
        hex(name) && !run.is_empty() && run.bytes().all(|b| b.is_ascii_digit())
    })
}

/// A finished entry as the eviction sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its file stem.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last served (a counter, higher is more recent).
    pub used: u64,
}

/// The entries to delete, least recently used first, so that the rest fit in `cap` bytes.
pub fn evictions(entries: &[Entry], cap: u64) -> Vec<String> {
    let mut total: u64 = entries.iter().map(|e| e.size).sum();
    let mut order: Vec<&Entry> = entries.iter().collect();
    order.sort_by_key(|e| (e.used, e.name.clone()));
    let mut out = Vec::new();
    for e in order {
        if total <= cap {
            break;
        }
        total -= e.size;
        out.push(e.name.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::args::Mode;
    use super::*;

    fn p(mode: Mode, start_ms: u64, max: Option<u32>, codec: AudioCodec) -> Profile {
        Profile {
            mode,
            start_ms,
            max_bitrate_kbps: max,
            codec,
        }
    }

    #[test]
    fn names_differ_by_every_part_of_the_key() {
        let base = p(Mode::Remux, 0, None, AudioCodec::Aac);
        let a = entry_name("id1", Some("\"e1\""), &base);
        let variants = [
            entry_name("id2", Some("\"e1\""), &base),
            entry_name("id1", Some("\"e2\""), &base),
            entry_name("id1", None, &base),
            entry_name(
                "id1",
                Some("\"e1\""),
                &p(Mode::Full, 0, None, AudioCodec::Aac),
            ),
            entry_name(
                "id1",
                Some("\"e1\""),
                &p(Mode::Remux, 1, None, AudioCodec::Aac),
            ),
            entry_name(
                "id1",
                Some("\"e1\""),
                &p(Mode::Remux, 0, Some(1), AudioCodec::Aac),
            ),
            entry_name(
                "id1",
                Some("\"e1\""),
                &p(Mode::Remux, 0, None, AudioCodec::Opus),
            ),
            // Parts do not run into each other.
            entry_name("id1\"e1\"", Some(""), &base),
        ];
        for v in &variants {
            assert_ne!(&a, v);
        }
        assert_eq!(a, entry_name("id1", Some("\"e1\""), &base), "stable");
        assert!(is_ours(&entry_file(&a)));
        assert!(is_ours(&part_file(&a, 17)));
        for not in [
            "",
            ".out",
            "x.out",
            &format!("{a}.mp4"),
            &format!("{}.out", &a[1..]),
            &format!("{a}.part"),
            &format!("{a}-.part"),
            &format!("{a}-1x.part"),
        ] {
            assert!(!is_ours(not), "{not}");
        }
    }

    #[test]
    fn the_least_recently_used_go_first_until_the_rest_fit() {
        let e = |name: &str, size, used| Entry {
            name: name.to_owned(),
            size,
            used,
        };
        let entries = [e("a", 40, 3), e("b", 30, 1), e("c", 50, 2), e("d", 10, 4)];
        let cases: &[(u64, &[&str])] = &[
            (1000, &[]),
            (130, &[]),
            (129, &["b"]),
            (100, &["b"]),
            (99, &["b", "c"]),
            (10, &["b", "c", "a"]),
            (0, &["b", "c", "a", "d"]),
        ];
        for (cap, want) in cases {
            assert_eq!(evictions(&entries, *cap), *want, "cap {cap}");
        }
        assert!(evictions(&[], 0).is_empty());
    }
}
