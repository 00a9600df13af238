//! The transcode cache's bookkeeping: file names from what was asked ([`entry_name`]), which
//! finished entries go when the cap is reached ([`evictions`], least recently used first),
//! and what a restart finds of an earlier run's entries ([`recover`]).
//!
//! Only finished outputs are entries: a stream in progress is a `.part` file that becomes an
//! entry when ffmpeg exits cleanly, and is deleted otherwise, so a partial output is never
//! served as if it were whole (Navidrome's rule: never serve bytes the cache does not have).
//! Each entry has a record (`.meta`: where its zero is in the item, its type, its size),
//! written before the entry is renamed into place; a restart keeps an entry only when its
//! record is readable and names its size, and deletes the rest of ours.

use std::path::Path;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::args::{AudioCodec, Profile};

/// Suffix of a finished entry.
pub const ENTRY_SUFFIX: &str = ".out";
/// Suffix of an output being written.
pub const PART_SUFFIX: &str = ".part";
/// Suffix of a finished entry's record.
pub const META_SUFFIX: &str = ".meta";
/// The types an entry can have (those [`super::args::content_type`] gives).
const CONTENT_TYPES: [&str; 3] = ["video/mp4", "audio/mp4", "audio/webm"];

/// The cache file stem of `(item id, etag, profile)`: 64 hex digits, so any id or ETag is
/// safe in a file name and a new version of the item is a new entry.
pub fn entry_name(id: &str, etag: Option<&str>, profile: &Profile) -> String {
    let mut h = Sha256::new();
    // A new version of this program may make other outputs: its entries are others.
    h.update(concat!("bucketstream-transcode-", env!("CARGO_PKG_VERSION"), "\0").as_bytes());
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

/// The record file of entry `name`.
pub fn meta_file(name: &str) -> String {
    format!("{name}{META_SUFFIX}")
}

/// The record of an entry: where its zero is in the item (ms), its type, its size.
pub fn meta_text(start_ms: u64, content_type: &str, size: u64) -> String {
    format!("{start_ms} {content_type} {size}\n")
}

/// Reads a record: `(start_ms, content type, size)`; `None` unless whole and known.
pub fn parse_meta(text: &str) -> Option<(u64, &'static str, u64)> {
    let line = text.strip_suffix('\n')?;
    let mut parts = line.split(' ');
    let start_ms = parts.next()?.parse().ok()?;
    let kind = parts.next()?;
    let content_type = CONTENT_TYPES.into_iter().find(|t| *t == kind)?;
    let size = parts.next()?.parse().ok()?;
    parts
        .next()
        .is_none()
        .then_some((start_ms, content_type, size))
}

/// A finished entry an earlier run left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Its file stem.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where its zero is in the item, ms.
    pub start_ms: u64,
    /// Its Content-Type.
    pub content_type: &'static str,
    /// When it was last served (or made): its file's modification time.
    pub modified: SystemTime,
}

/// The entries an earlier run left in `dir`, oldest first. Deletes the rest of ours: parts
/// (a run that never finished), entries without a readable record or of another size, and
/// records without an entry. Files that are not ours are left alone. Fails only when the
/// folder cannot be read.
pub fn recover(dir: &Path) -> std::io::Result<Vec<Recovered>> {
    let ours: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_ours(n))
        .collect();
    let mut kept = Vec::new();
    for file in &ours {
        let Some(name) = file.strip_suffix(ENTRY_SUFFIX) else {
            continue;
        };
        let record = std::fs::read_to_string(dir.join(meta_file(name)));
        let found = record.ok().as_deref().and_then(parse_meta);
        let on_disk = std::fs::metadata(dir.join(file)).ok();
        match (found, on_disk) {
            (Some((start_ms, content_type, size)), Some(meta)) if meta.len() == size => {
                kept.push(Recovered {
                    name: name.to_owned(),
                    size,
                    start_ms,
                    content_type,
                    modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
            _ => {}
        }
    }
    for file in &ours {
        let stem = file
            .strip_suffix(ENTRY_SUFFIX)
            .or_else(|| file.strip_suffix(META_SUFFIX));
        if !stem.is_some_and(|s| kept.iter().any(|k| k.name == s)) {
            let _ = std::fs::remove_file(dir.join(file));
        }
    }
    kept.sort_by(|a, b| (a.modified, &a.name).cmp(&(b.modified, &b.name)));
    Ok(kept)
}

/// The file of run `run` writing entry `name` (each run has its own, so a stopped run
/// cleaning up never deletes the file of the run that replaced it).
pub fn part_file(name: &str, run: u64) -> String {
    format!("{name}-{run}{PART_SUFFIX}")
}

/// Whether `file_name` is one of ours (an entry, its record or a part): the only files the
/// cache ever deletes in its folder.
pub fn is_ours(file_name: &str) -> bool {
    let hex = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(stem) = file_name
        .strip_suffix(ENTRY_SUFFIX)
        .or_else(|| file_name.strip_suffix(META_SUFFIX))
    {
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
        assert!(is_ours(&meta_file(&a)));
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

    #[test]
    fn records_are_read_only_when_whole_and_known() {
        assert_eq!(
            parse_meta(&meta_text(2005, "video/mp4", 1234)),
            Some((2005, "video/mp4", 1234))
        );
        for bad in [
            "2005 video/mp4 1234",
            "2005 video/mp4\n",
            "2005 text/html 1234\n",
            "x video/mp4 1234\n",
            "2005 video/mp4 1234 more\n",
            "",
        ] {
            assert_eq!(parse_meta(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_restart_keeps_recorded_entries_and_deletes_the_rest_of_ours() {
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        let name = |c: char| c.to_string().repeat(64);
        let put = |file: String, bytes: &[u8]| std::fs::write(d.join(file), bytes).expect("write");
        put(entry_file(&name('a')), b"12345");
        put(
            meta_file(&name('a')),
            meta_text(7, "audio/mp4", 5).as_bytes(),
        );
        put(entry_file(&name('b')), b"123"); // no record
        put(entry_file(&name('c')), b"123"); // a record of another size
        put(
            meta_file(&name('c')),
            meta_text(0, "video/mp4", 4).as_bytes(),
        );
        put(
            meta_file(&name('d')),
            meta_text(0, "video/mp4", 4).as_bytes(),
        ); // no entry
        put(part_file(&name('e'), 3), b"half");
        put("notes.txt".into(), b"not ours");
        put(format!("{}.out", "z".repeat(64)), b"not hex: not ours");
        let kept = recover(d).expect("readable");
        assert_eq!(kept.len(), 1);
        assert_eq!(
            (
                kept[0].name.as_str(),
                kept[0].size,
                kept[0].start_ms,
                kept[0].content_type
            ),
            (name('a').as_str(), 5, 7, "audio/mp4")
        );
        let mut left: Vec<String> = std::fs::read_dir(d)
            .expect("dir")
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        left.sort();
        let mut want = vec![
            entry_file(&name('a')),
            meta_file(&name('a')),
            "notes.txt".to_owned(),
            format!("{}.out", "z".repeat(64)),
        ];
        want.sort();
        assert_eq!(left, want);
    }
}
