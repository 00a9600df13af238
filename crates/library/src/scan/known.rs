//! [`Known`]: what the database holds for each key, in memory, as the catalog's [`Enrich`].
//!
//! Loaded once from SQLite just after the start has served the saved listing (whose packed
//! copy carries the items' metadata, so serving does not wait for this load) and updated by
//! the scanner, so a listing attaches tags
//! without touching the database, and the scanner knows at once which object versions it
//! has already read (successfully or not): those are never read again.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, RwLock};

use bucketstream_core::catalog::{Enrich, Interner, ItemMeta, MediaItem, MetaUpdate};

use crate::db::Record;

/// One object version's entry: 24 bytes and the metadata it shares with the catalog's item.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The fingerprint of the ETag it was read at ([`Known::fingerprint`]).
    etag: u64,
    /// The size it was read at.
    size: u64,
    /// What was read, with `art` set to the art path.
    pub meta: Arc<ItemMeta>,
}

/// Fingerprint of the key → entry, for one source. Keys and ETags are kept as 64-bit
/// fingerprints under a hash keyed at random per process (so no key can be chosen to collide
/// with another): at 1,000,000 tagged objects this map is 33 bytes a slot where one holding
/// the keys, ETags and art hashes took about 265 bytes an object. A version is still told
/// apart by key, ETag and size together.
#[derive(Debug, Default)]
pub struct Known {
    entries: RwLock<HashMap<u64, Entry>>,
    hasher: RandomState,
    /// The texts the scan's fresh reads share (an album's artist, album, genre, art), as the
    /// packed listing's load shares them after a restart; emptied past [`MAX_SHARED`].
    shared: Mutex<Interner>,
}

/// Distinct texts [`Known`] keeps for sharing; past it, it starts over (texts of objects that
/// left the library would otherwise stay for the process's life).
const MAX_SHARED: usize = 1 << 20;

/// The server path of the art with this hash.
pub fn art_path(hash: &str) -> String {
    format!("/art/{hash}")
}

/// The metadata of a database record as the catalog holds it: `art` set to its art path.
pub fn meta_of(record: &Record) -> Arc<ItemMeta> {
    let mut meta = record.meta.clone();
    meta.art = record.art_hash.as_deref().map(|h| art_path(h).into());
    Arc::new(meta)
}

impl Entry {
    /// The hash of the entry's own art (embedded, the poster, or a folder image's), read
    /// back from its art path.
    pub fn art_hash(&self) -> Option<String> {
        self.meta
            .art
            .as_deref()
            .and_then(|a| a.strip_prefix("/art/"))
            .map(str::to_owned)
    }
}

impl Known {
    /// The fingerprint of `text` (a key or an ETag; `None` is an ETag-less object).
    fn fingerprint(&self, text: Option<&str>) -> u64 {
        self.hasher.hash_one(text)
    }

    /// The key fingerprint and entry of a database record, moved out of it (no copy of its
    /// strings).
    pub fn entry_of(&self, record: Record) -> (u64, Entry) {
        let mut meta = record.meta;
        meta.art = record.art_hash.as_deref().map(|h| art_path(h).into());
        let entry = Entry {
            etag: self.fingerprint(record.etag.as_deref()),
            size: record.size,
            meta: Arc::new(meta),
        };
        (self.fingerprint(Some(&record.key)), entry)
    }

    /// Whether `entry` is for the version `etag`/`size`.
    fn is_for(&self, entry: &Entry, etag: Option<&str>, size: u64) -> bool {
        entry.size == size && entry.etag == self.fingerprint(etag)
    }

    /// The entry of `key` when it is for this version.
    pub fn get(&self, key: &str, etag: Option<&str>, size: u64) -> Option<Entry> {
        let map = self.entries.read().unwrap_or_else(|p| p.into_inner());
        map.get(&self.fingerprint(Some(key)))
            .filter(|e| self.is_for(e, etag, size))
            .cloned()
    }

    /// Whether `key` is known at this version (no copy of the entry).
    pub fn has(&self, key: &str, etag: Option<&str>, size: u64) -> bool {
        let map = self.entries.read().unwrap_or_else(|p| p.into_inner());
        map.get(&self.fingerprint(Some(key)))
            .is_some_and(|e| self.is_for(e, etag, size))
    }

    /// Records (or replaces) `record`, returning its entry; its texts are shared with those
    /// of the records inserted before (the tracks of one album keep one copy of them).
    pub fn insert(&self, record: Record) -> Entry {
        let (key, mut entry) = self.entry_of(record);
        if let Some(meta) = Arc::get_mut(&mut entry.meta) {
            let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
            if shared.len() >= MAX_SHARED {
                *shared = Interner::default();
            }
            shared.share(meta);
        }
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        map.insert(key, entry.clone());
        entry
    }

    /// Replaces every entry with `entries` (made by [`Known::entry_of`] from the database's
    /// records, loaded after the start has served the saved listing).
    pub fn fill(&self, entries: Vec<(u64, Entry)>) {
        let map: HashMap<u64, Entry> = entries.into_iter().collect();
        *self.entries.write().unwrap_or_else(|p| p.into_inner()) = map;
    }

    /// What `items` lack of what is known (their version's entry holds other metadata), as
    /// updates for the catalog; where an item already holds the same metadata, the entry
    /// takes the item's copy, so the two share it instead of keeping it twice.
    pub fn reconcile(&self, items: &[Arc<MediaItem>]) -> Vec<MetaUpdate> {
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let mut updates = Vec::new();
        for item in items {
            let Some(entry) = map.get_mut(&self.fingerprint(Some(&item.key))) else {
                continue;
            };
            if !self.is_for(entry, item.etag.as_deref(), item.size) || entry.meta.is_empty() {
                continue;
            }
            if Arc::ptr_eq(&entry.meta, &item.meta) {
                continue;
            }
            if *entry.meta == *item.meta {
                entry.meta = item.meta.clone();
            } else {
                updates.push(MetaUpdate {
                    id: item.id.to_string(),
                    etag: item.etag.clone(),
                    size: item.size,
                    meta: entry.meta.clone(),
                });
            }
        }
        updates
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Enrich for Known {
    fn meta(&self, item: &MediaItem) -> Option<Arc<ItemMeta>> {
        let map = self.entries.read().unwrap_or_else(|p| p.into_inner());
        if map.is_empty() {
            // Nothing read yet (a first start): no key hashed for nothing.
            return None;
        }
        map.get(&self.fingerprint(Some(&item.key)))
            .filter(|e| self.is_for(e, item.etag.as_deref(), item.size) && !e.meta.is_empty())
            .map(|e| e.meta.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, etag: Option<&str>, size: u64, title: &str, art: Option<&str>) -> Record {
        Record {
            key: key.into(),
            etag: etag.map(str::to_owned),
            size,
            meta: ItemMeta {
                title: Some(title.into()),
                ..ItemMeta::default()
            },
            art_hash: art.map(str::to_owned),
            error: None,
            fetched_bytes: 0,
        }
    }

    #[test]
    fn the_tracks_an_album_scan_reads_share_its_texts() {
        let known = Known::default();
        let track = |key: &str, title: &str| Record {
            meta: ItemMeta {
                artist: Some("Miles Davis".into()),
                album: Some("Kind of Blue".into()),
                genre: Some("Jazz".into()),
                ..record(key, None, 1, title, Some("ab12")).meta
            },
            ..record(key, None, 1, title, Some("ab12"))
        };
        let one = known.insert(track("1.mp3", "So What"));
        let two = known.insert(track("2.mp3", "Freddie Freeloader"));
        let same = |a: &Option<Arc<str>>, b: &Option<Arc<str>>| match (a, b) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        assert!(same(&one.meta.artist, &two.meta.artist));
        assert!(same(&one.meta.album, &two.meta.album));
        assert!(same(&one.meta.genre, &two.meta.genre));
        assert!(same(&one.meta.art, &two.meta.art));
        assert_eq!(two.meta.art.as_deref(), Some("/art/ab12"));
        assert_eq!(two.meta.title.as_deref(), Some("Freddie Freeloader"));
    }

    #[test]
    fn an_entry_is_found_only_for_its_key_etag_and_size() {
        let known = Known::default();
        let entries = vec![
            known.entry_of(record("a.mp3", Some("\"e1\""), 10, "A", Some("ab12"))),
            known.entry_of(record("b.mp3", None, 20, "B", None)),
        ];
        known.fill(entries);
        assert_eq!(known.len(), 2);
        let a = known.get("a.mp3", Some("\"e1\""), 10).expect("a");
        assert_eq!(a.meta.title.as_deref(), Some("A"));
        assert_eq!(a.meta.art.as_deref(), Some("/art/ab12"));
        assert_eq!(a.art_hash().as_deref(), Some("ab12"));
        assert!(known.has("a.mp3", Some("\"e1\""), 10));
        // Another version (ETag, size, an ETag where there was none) or key is not known.
        assert!(!known.has("a.mp3", Some("\"e2\""), 10));
        assert!(!known.has("a.mp3", Some("\"e1\""), 11));
        assert!(!known.has("a.mp3", None, 10));
        assert!(!known.has("A.mp3", Some("\"e1\""), 10));
        assert!(known.has("b.mp3", None, 20));
        assert!(!known.has("b.mp3", Some(""), 20));
        assert_eq!(
            known.get("b.mp3", None, 20).and_then(|e| e.art_hash()),
            None
        );
        // A new read of a key replaces its entry.
        let c = known.insert(record("a.mp3", Some("\"e2\""), 12, "A2", None));
        assert_eq!(c.meta.title.as_deref(), Some("A2"));
        assert!(!known.has("a.mp3", Some("\"e1\""), 10));
        assert!(known.has("a.mp3", Some("\"e2\""), 12));
        assert_eq!(known.len(), 2);
    }

    #[test]
    fn two_processes_fingerprint_differently_and_both_find_their_entries() {
        let (one, two) = (Known::default(), Known::default());
        let r = record("x/y.flac", Some("\"e\""), 5, "Y", None);
        let (k1, _) = one.entry_of(r.clone());
        let (k2, _) = two.entry_of(r.clone());
        assert_ne!(k1, k2, "the fingerprint is keyed per process");
        one.insert(r.clone());
        two.insert(r);
        assert!(one.has("x/y.flac", Some("\"e\""), 5) && two.has("x/y.flac", Some("\"e\""), 5));
    }
}
