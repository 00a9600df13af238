//! [`Known`]: what the database holds for each key, in memory, as the catalog's [`Enrich`].
//!
//! Loaded once from SQLite just after the start has served the saved listing (whose packed
//! copy carries the items' metadata, so serving does not wait for this load) and updated by
//! the scanner, so a listing attaches tags
//! without touching the database, and the scanner knows at once which object versions it
//! has already read (successfully or not): those are never read again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bucketstream_core::catalog::{Enrich, ItemMeta, MediaItem, MetaUpdate};

use crate::db::Record;

/// One object version's entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The ETag it was read at.
    pub etag: Option<String>,
    /// The size it was read at.
    pub size: u64,
    /// What was read, with `art` set to the art path.
    pub meta: Arc<ItemMeta>,
    /// Art of its own (embedded, or the poster), by hash.
    pub art_hash: Option<String>,
}

/// key → entry, for one source.
#[derive(Debug, Default)]
pub struct Known(RwLock<HashMap<String, Entry>>);

/// The server path of the art with this hash.
pub fn art_path(hash: &str) -> String {
    format!("/art/{hash}")
}

impl Entry {
    /// The entry of a database record.
    pub fn of(record: &Record) -> Entry {
        let mut meta = record.meta.clone();
        meta.art = record.art_hash.as_deref().map(art_path);
        Entry {
            etag: record.etag.clone(),
            size: record.size,
            meta: Arc::new(meta),
            art_hash: record.art_hash.clone(),
        }
    }

    /// The key and entry of a database record, moved out of it (no copy of its strings).
    pub fn from_record(record: Record) -> (String, Entry) {
        let mut meta = record.meta;
        meta.art = record.art_hash.as_deref().map(art_path);
        let entry = Entry {
            etag: record.etag,
            size: record.size,
            meta: Arc::new(meta),
            art_hash: record.art_hash,
        };
        (record.key, entry)
    }

    /// Whether this entry is for the version `etag`/`size`.
    pub fn is_for(&self, etag: Option<&str>, size: u64) -> bool {
        self.etag.as_deref() == etag && self.size == size
    }
}

impl Known {
    /// The entries of `records`.
    pub fn new(records: impl IntoIterator<Item = (String, Entry)>) -> Known {
        Known(RwLock::new(records.into_iter().collect()))
    }

    /// The entry of `key` when it is for this version.
    pub fn get(&self, key: &str, etag: Option<&str>, size: u64) -> Option<Entry> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(key).filter(|e| e.is_for(etag, size)).cloned()
    }

    /// Whether `key` is known at this version (no copy of the entry).
    pub fn has(&self, key: &str, etag: Option<&str>, size: u64) -> bool {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(key).is_some_and(|e| e.is_for(etag, size))
    }

    /// Records (or replaces) the entry of `key`.
    pub fn insert(&self, key: String, entry: Entry) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.insert(key, entry);
    }

    /// Replaces every entry with those of `records` (the database's, loaded after the start
    /// has served the saved listing).
    pub fn fill(&self, records: impl IntoIterator<Item = (String, Entry)>) {
        let map: HashMap<String, Entry> = records.into_iter().collect();
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = map;
    }

    /// What `items` lack of what is known (their version's entry holds other metadata), as
    /// updates for the catalog; where an item already holds the same metadata, the entry
    /// takes the item's copy, so the two share it instead of keeping it twice.
    pub fn reconcile(&self, items: &[Arc<MediaItem>]) -> Vec<MetaUpdate> {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        let mut updates = Vec::new();
        for item in items {
            let Some(entry) = map.get_mut(&item.key) else {
                continue;
            };
            if !entry.is_for(item.etag.as_deref(), item.size) || entry.meta.is_empty() {
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
        self.0.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Enrich for Known {
    fn meta(&self, item: &MediaItem) -> Option<Arc<ItemMeta>> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        if map.is_empty() {
            // Nothing read yet (a first start): no key hashed for nothing.
            return None;
        }
        map.get(&item.key)
            .filter(|e| e.is_for(item.etag.as_deref(), item.size) && !e.meta.is_empty())
            .map(|e| e.meta.clone())
    }
}
