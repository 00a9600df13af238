//! The packed listing kept in a file beside the database and read through a memory map: at
//! 1,000,000 tagged objects it is 250 MB, which SQLite hands back one 4 KiB overflow page at a
//! time into a fresh buffer (about 260 ms, and 250 MB of memory the kernel must zero first),
//! where a map of the file costs neither: the start parses it straight out of the page cache.
//!
//! The database stays the authority. Its `listing_packs` row then holds a pointer (a magic and
//! a token) instead of the blob, and the file starts with the same magic and token: a file
//! written by a save whose database transaction never committed (a crash in between), or left
//! from another database, has another token and is not used (the rows are read instead). The
//! file is written beside its final name, synced, then renamed over it, so a reader sees a
//! whole old file or a whole new one; a map holds the inode it opened even when a later save
//! renames another file over the name.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use memmap2::Mmap;

/// The first bytes of a pack file, and of the pointer to one stored in the database.
const MAGIC: [u8; 8] = *b"BSPACKF1";

/// The length of the header (and of the pointer): the magic and a u64 token.
const HEADER: usize = 16;

/// The pack file of source `sid` of the database at `db`: beside it, named after it.
pub fn path_for(db: &Path, sid: i64) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!("-listing-{sid}.pack"));
    db.with_file_name(name)
}

/// A token no earlier save of this process or of another used (time and a counter).
pub fn new_token() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos
        ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(48)
        ^ u64::from(std::process::id()) << 32
}

/// The pointer stored in the database for the file written with `token`.
pub fn pointer(token: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&token.to_le_bytes());
    out
}

/// The token of a pointer, `None` when `blob` is not one (a packed listing itself).
pub fn token_of(blob: &[u8]) -> Option<u64> {
    let (magic, token) = (blob.get(..8)?, blob.get(8..HEADER)?);
    (blob.len() == HEADER && magic == MAGIC).then(|| {
        let mut t = [0u8; 8];
        t.copy_from_slice(token);
        u64::from_le_bytes(t)
    })
}

/// Writes `data` as the pack file at `path` with `token`: beside it first, synced, then
/// renamed over it.
pub fn write(path: &Path, token: u64, data: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(&pointer(token))?;
        file.write_all(data)?;
        file.sync_all()
    })();
    if let Err(err) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(err);
    }
    Ok(())
}

/// The packed listing in the file at `path`, mapped, when the file is there and was written
/// with `token`; `None` otherwise (missing, another save's, too short).
pub fn open(path: &Path, token: u64) -> std::io::Result<Option<Packed>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    // SAFETY: the file is this library's own, in its data folder, and never written in place:
    // a save writes a new file and renames it over this name, which leaves the inode mapped
    // here unchanged. Only something outside Bucketstream truncating the file while it is read
    // could fault; the map lives only while the start parses it.
    let map = unsafe { Mmap::map(&file)? };
    if map.len() < HEADER || token_of(&map[..HEADER]) != Some(token) {
        return Ok(None);
    }
    Ok(Some(Packed(map)))
}

/// A mapped pack file; derefs to the packed listing after the header.
pub struct Packed(Mmap);

impl std::ops::Deref for Packed {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0[HEADER..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_back_only_with_its_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = path_for(&dir.path().join("library.sqlite3"), 7);
        assert_eq!(
            path.file_name().and_then(|n| n.to_str()),
            Some("library.sqlite3-listing-7.pack")
        );
        assert!(open(&path, 1).expect("open").is_none(), "no file yet");
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        write(&path, a, b"first").expect("write");
        assert_eq!(&*open(&path, a).expect("open").expect("a"), b"first");
        assert!(
            open(&path, b).expect("open").is_none(),
            "another save's token"
        );
        // A mapped file stays whole while a later save renames another over its name.
        let held = open(&path, a).expect("open").expect("held");
        write(&path, b, b"second, longer").expect("rewrite");
        assert_eq!(&*held, b"first");
        assert_eq!(
            &*open(&path, b).expect("open").expect("b"),
            b"second, longer"
        );
        assert!(!dir
            .path()
            .join("library.sqlite3-listing-7.pack.tmp")
            .exists());
    }

    #[test]
    fn short_or_foreign_files_and_pointers_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.pack");
        std::fs::write(&path, b"BSPACK").expect("short");
        assert!(open(&path, 0).expect("open").is_none());
        std::fs::write(&path, [0u8; 64]).expect("zeros");
        assert!(open(&path, 0).expect("open").is_none());
        assert_eq!(token_of(&pointer(42)), Some(42));
        assert_eq!(token_of(b"BSPACKF1"), None);
        let mut long = pointer(42);
        long.push(0);
        assert_eq!(token_of(&long), None, "a pointer is exactly its header");
        assert_eq!(
            token_of(&[2, 0, 0, 0]),
            None,
            "a packed listing is not a pointer"
        );
    }
}
