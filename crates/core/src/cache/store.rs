//! The on-disk chunk index: file naming, startup scan, LRU order and eviction within the cap.
//!
//! A complete chunk is one file named `{object}-{index}-{len}` under a two-hex-digit fan-out
//! folder, where `object` is a hash of (source, key, ETag): names never derive from the raw
//! key, and a new ETag means new names, so a changed object is never served from old chunks.
//! Files are written as `*.tmp` and renamed once their length is checked; the scan at startup
//! ([`super::folder`]) deletes leftover temporaries and any chunk whose length disagrees with
//! its name (a torn write), and nothing whose name it did not make.
//! Complete files are never written again: only unlinked (eviction, the scan), which is what
//! makes mapping them safe ([`super::map`]). The index also keeps the maps of the most
//! recently used chunks, in the same LRU order, up to a cap.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::folder::{self, OpenError};

/// Identifies a cached object version: 128 bits of SHA-256 over source, key and ETag.
pub type ObjectHash = [u8; 16];

/// One chunk of one object version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId {
    pub object: ObjectHash,
    pub index: u64,
}

/// A complete chunk on disk.
#[derive(Debug, Clone)]
struct Entry {
    len: u64,
    /// LRU clock value of the last use.
    used: u64,
    /// The chunk's map, when kept.
    map: Option<Bytes>,
}

/// The index of complete chunks.
pub struct Store {
    /// Cache folder.
    dir: PathBuf,
    /// Size cap in bytes.
    max_bytes: u64,
    /// Bytes held by complete chunks.
    total: u64,
    /// Complete chunks.
    entries: HashMap<ChunkId, Entry>,
    /// LRU order: clock -> chunk.
    lru: BTreeMap<u64, ChunkId>,
    /// Monotonic use counter.
    clock: u64,
    /// LRU order of the entries that keep a map: clock -> chunk.
    mapped: BTreeMap<u64, ChunkId>,
    /// Maps kept at most.
    max_mapped: usize,
}

impl Store {
    /// Opens the cache folder, claiming it when missing or empty (see [`super::folder`]), and
    /// indexes the chunks a previous run left there. A folder holding anything that is not
    /// the cache's is refused, untouched.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Store, OpenError> {
        let claim = folder::claim(dir)?;
        if claim == folder::Claim::Adopted {
            tracing::info!(dir = %dir.display(), "adopted the cache folder of a previous version");
        }
        let mut store = Store {
            dir: dir.to_owned(),
            max_bytes,
            total: 0,
            entries: HashMap::new(),
            lru: BTreeMap::new(),
            clock: 0,
            mapped: BTreeMap::new(),
            max_mapped: super::map::MAX_MAPPED,
        };
        let mut found = folder::scan(dir)?;
        // Oldest first, so the LRU order survives a restart approximately.
        found.sort_by_key(|f| f.mtime);
        for f in found {
            store.insert(f.id, f.len);
        }
        store.evict();
        Ok(store)
    }

    /// Path of a complete chunk.
    pub fn path(&self, id: ChunkId, len: u64) -> PathBuf {
        let name = format!("{}-{}-{len}", hex::encode(id.object), id.index);
        self.dir.join(&name[..2]).join(name)
    }

    /// A unique temporary path for a chunk being written.
    pub fn tmp_path(&self, id: ChunkId, nonce: u64) -> PathBuf {
        let name = format!("{}-{}.{nonce}.tmp", hex::encode(id.object), id.index);
        self.dir.join(&name[..2]).join(name)
    }

    /// The length of a complete chunk and its kept map, marking it used.
    pub fn touch(&mut self, id: ChunkId) -> Option<(u64, Option<Bytes>)> {
        let entry = self.entries.get_mut(&id)?;
        self.lru.remove(&entry.used);
        let was_mapped = self.mapped.remove(&entry.used).is_some();
        self.clock += 1;
        entry.used = self.clock;
        self.lru.insert(self.clock, id);
        if was_mapped {
            self.mapped.insert(self.clock, id);
        }
        Some((entry.len, entry.map.clone()))
    }

    /// Keeps `map` (the whole chunk) with a complete chunk, dropping the least recently used
    /// kept maps beyond the cap. Ignored when the chunk is gone or already has one. Returns
    /// the maps it let go, for the caller to drop (unmap) after unlocking.
    #[must_use]
    pub fn keep_map(&mut self, id: ChunkId, map: Bytes) -> Vec<Bytes> {
        let mut dropped = Vec::new();
        let Some(entry) = self.entries.get_mut(&id) else {
            return dropped;
        };
        if entry.map.is_some() || map.len() as u64 != entry.len || self.max_mapped == 0 {
            return dropped;
        }
        entry.map = Some(map);
        self.mapped.insert(entry.used, id);
        while self.mapped.len() > self.max_mapped {
            let Some((_, old)) = self.mapped.pop_first() else {
                break;
            };
            if let Some(map) = self.entries.get_mut(&old).and_then(|e| e.map.take()) {
                dropped.push(map);
            }
        }
        dropped
    }

    /// Maps kept now.
    pub fn mapped(&self) -> usize {
        self.mapped.len()
    }

    /// Sets the size cap (tests).
    #[cfg(test)]
    pub fn set_max_bytes(&mut self, n: u64) {
        self.max_bytes = n;
    }

    /// Sets the cap on kept maps (tests use small ones).
    #[cfg(test)]
    pub fn set_max_mapped(&mut self, n: usize) {
        self.max_mapped = n;
    }

    /// Whether a chunk is complete on disk (without marking it used).
    pub fn contains(&self, id: ChunkId) -> bool {
        self.entries.contains_key(&id)
    }

    /// Records a complete chunk (already renamed into place).
    pub fn insert(&mut self, id: ChunkId, len: u64) {
        self.clock += 1;
        if let Some(old) = self.entries.insert(
            id,
            Entry {
                len,
                used: self.clock,
                map: None,
            },
        ) {
            self.lru.remove(&old.used);
            self.mapped.remove(&old.used);
            self.total -= old.len;
        }
        self.lru.insert(self.clock, id);
        self.total += len;
    }

    /// Deletes least recently used chunks until the total fits the cap; returns bytes freed.
    pub fn evict(&mut self) -> u64 {
        let mut freed = 0;
        while self.total > self.max_bytes {
            let Some((&used, &id)) = self.lru.iter().next() else {
                break;
            };
            self.lru.remove(&used);
            self.mapped.remove(&used);
            if let Some(entry) = self.entries.remove(&id) {
                self.total -= entry.len;
                freed += entry.len;
                // A reader's map (or file descriptor) keeps the inode; the name goes now.
                let _ = std::fs::remove_file(self.path(id, entry.len));
            }
        }
        freed
    }

    /// Deletes least recently used chunks until `want` bytes are freed or none is left (the
    /// disk filled up below the cap); returns bytes freed.
    pub fn evict_bytes(&mut self, want: u64) -> u64 {
        let cap = self.max_bytes;
        self.max_bytes = self.total.saturating_sub(want);
        let freed = self.evict();
        self.max_bytes = cap;
        freed
    }

    /// Bytes held.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Number of complete chunks.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The cap.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }
}

/// Parses `{32 hex}-{index}-{len}`.
pub(super) fn parse_name(name: &str) -> Option<(ChunkId, u64)> {
    let mut parts = name.split('-');
    let hash = parts.next()?;
    let index = number(parts.next()?)?;
    let len = number(parts.next()?)?;
    if parts.next().is_some() || hash.len() != 32 {
        return None;
    }
    let mut object = [0u8; 16];
    hex::decode_to_slice(hash, &mut object).ok()?;
    Some((ChunkId { object, index }, len))
}

/// A decimal number written as the cache writes them: digits only (no sign, no space).
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a temporary's name, `{32 hex}-{index}.{nonce}.tmp` (as [`Store::tmp_path`] makes).
pub(super) fn parse_tmp_name(name: &str) -> Option<ChunkId> {
    let stem = name.strip_suffix(".tmp")?;
    let (chunk, nonce) = stem.split_once('.')?;
    number(nonce)?;
    let (hash, index) = chunk.split_once('-')?;
    let index = number(index)?;
    if hash.len() != 32 {
        return None;
    }
    let mut object = [0u8; 16];
    hex::decode_to_slice(hash, &mut object).ok()?;
    Some(ChunkId { object, index })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8, index: u64) -> ChunkId {
        ChunkId {
            object: [n; 16],
            index,
        }
    }

    fn put(store: &mut Store, id: ChunkId, len: u64) {
        let path = store.path(id, len);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, vec![1u8; len as usize]).expect("write");
        store.insert(id, len);
    }

    #[test]
    fn evicts_least_recently_used_within_the_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path(), 300).expect("open");
        put(&mut store, id(1, 0), 100);
        put(&mut store, id(1, 1), 100);
        put(&mut store, id(2, 0), 100);
        assert_eq!(store.touch(id(1, 0)).map(|t| t.0), Some(100)); // now most recent
        put(&mut store, id(3, 0), 100);
        assert_eq!(store.evict(), 100);
        assert!(
            store.touch(id(1, 1)).is_none(),
            "the least recently used went"
        );
        assert!(!store.path(id(1, 1), 100).exists(), "and its file");
        assert!(store.touch(id(1, 0)).is_some());
        assert_eq!(store.total(), 300);
    }

    #[test]
    fn a_restart_keeps_complete_chunks_and_drops_torn_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut store = Store::open(dir.path(), 1 << 20).expect("open");
            put(&mut store, id(1, 0), 100);
            put(&mut store, id(1, 1), 50);
            // A torn write: the name says 100 bytes, the file has 10.
            let torn = store.path(id(2, 0), 100);
            let tmp = store.tmp_path(id(3, 0), 7);
            for p in [&torn, &tmp] {
                std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                std::fs::write(p, [0u8; 10]).expect("write");
            }
        }
        let mut store = Store::open(dir.path(), 1 << 20).expect("reopen");
        assert_eq!(store.len(), 2);
        assert_eq!(store.touch(id(1, 1)).map(|t| t.0), Some(50));
        assert!(store.touch(id(2, 0)).is_none());
        let leftovers: Vec<_> = walk(dir.path());
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }

    #[test]
    fn kept_maps_follow_the_lru_within_their_cap_and_go_with_their_chunk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path(), 300).expect("open");
        store.set_max_mapped(2);
        for i in 0..3 {
            put(&mut store, id(1, i), 100);
        }
        let map = || Bytes::from(vec![7u8; 100]);
        assert!(store.keep_map(id(1, 0), map()).is_empty());
        assert!(store.keep_map(id(1, 1), map()).is_empty());
        assert!(store
            .keep_map(id(1, 2), Bytes::from(vec![7u8; 99]))
            .is_empty()); // refused
        assert_eq!(store.mapped(), 2);
        assert!(store.touch(id(1, 0)).and_then(|t| t.1).is_some()); // 0 now most recent
                                                                    // Over the cap: 1's map, the least recently used, goes.
        assert_eq!(store.keep_map(id(1, 2), map()).len(), 1);
        assert_eq!(store.mapped(), 2);
        assert!(store.touch(id(1, 1)).and_then(|t| t.1).is_none());
        assert!(store.touch(id(1, 2)).and_then(|t| t.1).is_some());
        // Eviction drops the chunk and its map: 0 is now the least recently used.
        put(&mut store, id(2, 0), 100);
        assert_eq!(store.evict(), 100);
        assert!(store.touch(id(1, 0)).is_none());
        assert_eq!(store.mapped(), 1);
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for fan in std::fs::read_dir(dir).expect("read").flatten() {
            if !fan.file_type().expect("type").is_dir() {
                continue;
            }
            for f in std::fs::read_dir(fan.path()).expect("read").flatten() {
                out.push(f.path());
            }
        }
        out
    }

    #[test]
    fn names_round_trip_and_garbage_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 1).expect("open");
        let path = store.path(id(0xab, 42), 1234);
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert_eq!(parse_name(&name), Some((id(0xab, 42), 1234)));
        for bad in [
            "",
            "x-1-2",
            "abababababababababababababababab-1",
            "ab-1-2-3",
            "../etc-1-2",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    const HASH: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn temporary_names_parse_and_near_misses_do_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), 1).expect("open");
        let tmp = store.tmp_path(id(0xab, 42), 9);
        let name = tmp
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert_eq!(parse_tmp_name(&name), Some(id(0xab, 42)));
        for bad in [
            format!("{HASH}-1.tmp"),
            format!("{HASH}-1.x.tmp"),
            format!("{HASH}-+1.2.tmp"),
            format!("{HASH}-1.2.tmp.doc"),
            format!("{HASH}-1-2"),
        ] {
            assert_eq!(parse_tmp_name(&bad), None, "{bad}");
        }
        assert_eq!(parse_name(&format!("{HASH}-+1-2")), None);
        assert_eq!(parse_name(&format!("{HASH}-1-2.txt")), None);
    }
}
