//! What the cache may touch on disk: it claims a folder with a marker file and only ever
//! deletes files it can prove are its own chunks or temporaries.
//!
//! A cache folder is ours when it holds the marker [`MARKER`]. At open, a missing or empty
//! folder is claimed (the marker is written); a folder laid out exactly as the cache of
//! version 0.1 (only two-hex-digit folders holding only chunk and temporary names, no marker)
//! is adopted so upgrading users keep their cache; anything else is refused untouched, since
//! `--cache-dir ~` must never cost anyone a document. Inside an owned folder the scan never
//! follows a symbolic link and leaves every name it does not recognise alone.

use std::path::Path;
use std::time::SystemTime;

use super::store::{parse_name, parse_tmp_name, ChunkId};

/// The marker file at the top of a cache folder.
pub const MARKER: &str = "BUCKETSTREAM-CACHE";
/// The cache layout this version writes and reads.
const FORMAT: u32 = 1;

/// Why a folder cannot be the cache.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The folder holds something that is not ours; `found` names one such entry.
    #[error("the folder holds files that are not the cache's (such as {found:?})")]
    Foreign { found: String },
    /// The marker is there but names a layout this version does not know.
    #[error("the cache folder was made by another version (format {0:?})")]
    Format(String),
    /// Reading or writing the folder failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The marker's text: the format, then what the folder is, for a person who finds it.
fn marker_text() -> String {
    format!(
        "bucketstream-cache {FORMAT}\n\
         This folder is the edge chunk cache of Bucketstream. Every file in its two-hex-digit\n\
         subfolders can be fetched again from the library's bucket; deleting the folder only\n\
         empties the cache. Bucketstream deletes nothing here but its own chunk files.\n"
    )
}

/// How a folder came to be ours, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The marker was already there.
    Owned,
    /// The folder was missing or empty: created and marked.
    Created,
    /// A previous version's cache: marked, its chunks kept.
    Adopted,
}

/// Makes sure `dir` is a cache folder we own, creating or adopting it; refuses (touching
/// nothing) a folder that holds anything else.
pub fn claim(dir: &Path) -> Result<Claim, OpenError> {
    std::fs::create_dir_all(dir)?;
    let marker = dir.join(MARKER);
    match std::fs::symlink_metadata(&marker) {
        Ok(meta) if meta.is_file() => {
            let text = std::fs::read_to_string(&marker)?;
            let first = text.lines().next().unwrap_or_default();
            return match first.strip_prefix("bucketstream-cache ") {
                Some(v) if v.trim().parse::<u32>() == Ok(FORMAT) => Ok(Claim::Owned),
                _ => Err(OpenError::Format(first.chars().take(40).collect())),
            };
        }
        // A marker that is a folder or a link is not one we wrote.
        Ok(_) => {
            return Err(OpenError::Foreign {
                found: MARKER.to_owned(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let mut empty = true;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        empty = false;
        if let Some(found) = foreign_in_old_layout(&entry)? {
            return Err(OpenError::Foreign { found });
        }
    }
    std::fs::write(&marker, marker_text())?;
    if empty {
        Ok(Claim::Created)
    } else {
        Ok(Claim::Adopted)
    }
}

/// For a top-level entry of an unmarked folder: `None` when it fits the previous version's
/// layout (a real two-hex-digit folder of chunk and temporary files filed under their own
/// first two digits), else the name of the first entry that does not.
fn foreign_in_old_layout(entry: &std::fs::DirEntry) -> std::io::Result<Option<String>> {
    let name = entry.file_name().to_string_lossy().into_owned();
    // `DirEntry::file_type` does not follow links: a link is never a fan-out folder.
    if !entry.file_type()?.is_dir() || !is_fan_name(&name) {
        return Ok(Some(name));
    }
    for file in std::fs::read_dir(entry.path())? {
        let file = file?;
        let inner = file.file_name().to_string_lossy().into_owned();
        let ours = file.file_type()?.is_file()
            && inner.starts_with(&name)
            && (parse_name(&inner).is_some() || parse_tmp_name(&inner).is_some());
        if !ours {
            return Ok(Some(format!("{name}/{inner}")));
        }
    }
    Ok(None)
}

/// Two lower-case hex digits: the fan-out folders the cache makes.
fn is_fan_name(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A complete chunk found by the scan.
pub struct Found {
    pub mtime: Option<SystemTime>,
    pub id: ChunkId,
    pub len: u64,
}

/// Indexes the complete chunks of an owned folder; deletes torn chunks (length not the one
/// their name says) and temporaries; leaves every other entry alone and says so once.
pub fn scan(dir: &Path) -> std::io::Result<Vec<Found>> {
    let mut found = Vec::new();
    let mut strangers = 0usize;
    let mut example = None;
    let mut stranger = |what: String| {
        strangers += 1;
        example.get_or_insert(what);
    };
    for fan in std::fs::read_dir(dir)?.flatten() {
        let fan_name = fan.file_name().to_string_lossy().into_owned();
        if fan_name == MARKER {
            continue;
        }
        let is_dir = fan.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if !is_dir || !is_fan_name(&fan_name) {
            stranger(fan_name);
            continue;
        }
        for file in std::fs::read_dir(fan.path())?.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            // Not following links: a link named like a chunk is not a chunk we wrote.
            let is_file = file.file_type().map(|t| t.is_file()).unwrap_or(false);
            if !is_file || !name.starts_with(&fan_name) {
                stranger(format!("{fan_name}/{name}"));
                continue;
            }
            if let Some((id, len)) = parse_name(&name) {
                // `DirEntry::metadata` does not follow links either.
                let Ok(meta) = file.metadata() else { continue };
                if meta.len() == len && len > 0 {
                    found.push(Found {
                        mtime: meta.modified().ok(),
                        id,
                        len,
                    });
                } else {
                    tracing::debug!(file = %name, "deleting a torn chunk");
                    let _ = std::fs::remove_file(file.path());
                }
            } else if parse_tmp_name(&name).is_some() {
                let _ = std::fs::remove_file(file.path());
            } else {
                stranger(format!("{fan_name}/{name}"));
            }
        }
    }
    if let Some(example) = example {
        tracing::warn!(
            count = strangers,
            example = %example,
            "the cache folder holds entries the cache did not make; left alone"
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::cache::store::Store;

    const HASH: &str = "0123456789abcdef0123456789abcdef";

    /// The files in the fan-out folders of `dir`.
    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for fan in std::fs::read_dir(dir).expect("read").flatten() {
            if fan.file_type().expect("type").is_dir() {
                for f in std::fs::read_dir(fan.path()).expect("read").flatten() {
                    out.push(f.path());
                }
            }
        }
        out
    }

    /// Every file under `dir` (not following links) with its bytes.
    fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("read").flatten() {
                let t = e.file_type().expect("type");
                if t.is_dir() {
                    stack.push(e.path());
                } else if t.is_file() {
                    out.insert(e.path(), std::fs::read(e.path()).expect("read"));
                } else {
                    out.insert(e.path(), b"(link)".to_vec());
                }
            }
        }
        out
    }

    #[test]
    fn a_folder_of_someone_elses_files_is_refused_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::create_dir(d.join("ab")).expect("mkdir");
        std::fs::write(d.join("notes.txt"), b"my notes").expect("write");
        std::fs::write(d.join("ab/letter.doc"), b"dear").expect("write");
        // Near misses of chunk and temporary names.
        for name in [
            format!("{HASH}-1-2.txt"),
            format!("{HASH}-1.tmp"),
            format!("{HASH}-x-5"),
        ] {
            std::fs::write(d.join("ab").join(name), b"x").expect("write");
        }
        let before = contents(d);
        for _ in 0..2 {
            match Store::open(d, 1 << 20) {
                Err(OpenError::Foreign { .. }) => {}
                Err(other) => panic!("wrong error {other}"),
                Ok(_) => panic!("a foreign folder was accepted"),
            }
            assert_eq!(contents(d), before, "nothing was touched");
        }
        // One user file among chunk-like ones is enough to refuse.
        let only = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(only.path().join("01")).expect("mkdir");
        std::fs::write(only.path().join("01").join(format!("{HASH}-0-3")), b"abc").expect("w");
        std::fs::write(only.path().join("01/photo.jpg"), b"jpg").expect("w");
        assert!(matches!(
            Store::open(only.path(), 1 << 20),
            Err(OpenError::Foreign { found }) if found == "01/photo.jpg"
        ));
    }

    #[test]
    fn a_previous_versions_cache_is_adopted_and_a_new_folder_claimed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().join("new/chunks");
        let store = Store::open(&d, 1 << 20).expect("created");
        assert_eq!(store.len(), 0);
        assert!(d.join(MARKER).is_file(), "marker written");
        drop(store);
        // The 0.1 layout: fan-out folders of chunks and temporaries, no marker.
        let old = tempfile::tempdir().expect("tempdir");
        let o = old.path();
        std::fs::create_dir(o.join("01")).expect("mkdir");
        std::fs::create_dir(o.join("ff")).expect("mkdir");
        std::fs::write(o.join("01").join(format!("{HASH}-0-3")), b"abc").expect("w");
        std::fs::write(o.join("01").join(format!("{HASH}-1-3")), b"a").expect("w"); // torn
        std::fs::write(o.join("01").join(format!("{HASH}-2.7.tmp")), b"ab").expect("w");
        let mut store = Store::open(o, 1 << 20).expect("adopted");
        assert!(o.join(MARKER).is_file());
        assert_eq!(store.len(), 1);
        let id = parse_name(&format!("{HASH}-0-3")).expect("name").0;
        assert_eq!(store.touch(id).map(|t| t.0), Some(3));
        let left: Vec<_> = walk(o);
        assert_eq!(left.len(), 1, "torn and temporary files went: {left:?}");
    }

    #[cfg(unix)]
    #[test]
    fn an_owned_folder_keeps_strangers_and_never_follows_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        drop(Store::open(d, 1 << 20).expect("claimed"));
        std::fs::write(d.join("README"), b"mine").expect("w");
        std::fs::create_dir(d.join("01")).expect("mkdir");
        std::fs::write(d.join("01/keep.doc"), b"mine").expect("w");
        // A temporary-named file in a folder reached through links must survive.
        let outside = tempfile::tempdir().expect("tempdir");
        let victim = outside.path().join(format!("{HASH}-0.1.tmp"));
        std::fs::write(&victim, b"precious").expect("w");
        std::os::unix::fs::symlink(outside.path(), d.join("ab")).expect("link");
        std::os::unix::fs::symlink(&victim, d.join("01").join(format!("{HASH}-3.1.tmp")))
            .expect("link");
        std::os::unix::fs::symlink(&victim, d.join("01").join(format!("{HASH}-4-8")))
            .expect("link");
        let store = Store::open(d, 1 << 20).expect("reopen");
        assert_eq!(store.len(), 0, "a link is never a chunk");
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
        assert_eq!(std::fs::read(d.join("README")).expect("readme"), b"mine");
        assert_eq!(std::fs::read(d.join("01/keep.doc")).expect("doc"), b"mine");
        assert!(d
            .join("01")
            .join(format!("{HASH}-3.1.tmp"))
            .symlink_metadata()
            .is_ok());
    }
}
