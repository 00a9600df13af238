//! How items get what the media library knows of them: the [`Enrich`] hook asked at each
//! listing and at the seed (`seed.rs`) and [`Catalog::apply_meta`] (tags the scanner has just
//! read, pushed as `changed`).
//!
//! The catalog stays ignorant of tags and databases: it only carries [`ItemMeta`] values.

use std::sync::Arc;

use super::{item, Catalog, Change, Event, ItemId, ItemMeta, MediaItem};
use crate::media;
use crate::source::ObjectMeta;

/// What the catalog asks about each listed item: what is known of its content (tags, art),
/// for this version of the object. Implemented by the media library (`bucketstream-library`),
/// which keeps the answers in SQLite; `None` when nothing is known yet.
pub trait Enrich: Send + Sync {
    /// The metadata of `item` (same key, ETag and size), if known.
    fn meta(&self, item: &MediaItem) -> Option<Arc<ItemMeta>>;
}

/// New metadata for one item version, from the media library's scanner.
#[derive(Debug, Clone)]
pub struct MetaUpdate {
    /// The item's id.
    pub id: String,
    /// The ETag the metadata was read from (ignored when the item has changed since).
    pub etag: Option<String>,
    /// The size the metadata was read from.
    pub size: u64,
    /// What was read.
    pub meta: Arc<ItemMeta>,
}

impl Catalog {
    /// Sets where listed items get their metadata (the media library calls this once, before
    /// the first listing; items already in the snapshot are enriched at once).
    pub fn set_enrich(&self, enrich: Arc<dyn Enrich>) {
        *self.enrich.write().unwrap_or_else(|p| p.into_inner()) = Some(enrich);
    }

    /// Waits until a listing in progress (if any) has ended: one that starts after this
    /// returns asks the [`Enrich`] hook as it is now.
    pub async fn settle(&self) {
        drop(self.refresh_lock.lock().await);
    }

    /// Applies metadata the scanner read: each item still at the version read gets it, the
    /// generation moves on and clients get the items as `changed`. Updates for items that are
    /// gone or changed since are dropped (the scanner reads the new version).
    ///
    /// Costs O(batch) besides copying one pointer an item: the other items are shared with
    /// the previous snapshot, the id index too, and nothing is serialised.
    pub async fn apply_meta(&self, updates: &[MetaUpdate]) -> usize {
        if updates.is_empty() {
            return 0;
        }
        let _guard = self.refresh_lock.lock().await;
        let old = self.snapshot();
        let mut replaced = Vec::new();
        for update in updates {
            let Some(index) = old.index_of(&update.id) else {
                continue;
            };
            let item = &old.items[index];
            if item.etag != update.etag || item.size != update.size || item.meta == update.meta {
                continue;
            }
            let mut new = MediaItem::clone(item);
            new.meta = update.meta.clone();
            replaced.push((index, Arc::new(new)));
        }
        if replaced.is_empty() {
            return 0;
        }
        let count = replaced.len();
        let mut items = old.items.clone();
        let mut changed = Vec::with_capacity(count);
        for (index, item) in replaced {
            changed.push(item.clone());
            items[index] = item;
        }
        let snap = Arc::new(old.with_items(items, old.generation + 1));
        self.swap(snap.clone());
        let change = Change {
            changed,
            ..Change::default()
        };
        let _ = self.events.send(Event::Changed(snap, Arc::new(change)));
        count
    }

    /// The items (enriched) and the folder art among `objects`. An object the current
    /// snapshot has at the same version (key, ETag, size, modification time) keeps its item,
    /// shared, unless the media library now knows different metadata for it: a re-listing
    /// that finds nothing new allocates no item.
    pub(super) fn items_of(
        &self,
        objects: &[ObjectMeta],
    ) -> (Vec<Arc<MediaItem>>, Arc<Vec<ObjectMeta>>) {
        self.items_with_ids(objects, &[])
    }

    /// [`Catalog::items_of`], with the ids of the objects when known (`ids[i]` for
    /// `objects[i]`, trusted).
    fn items_with_ids(
        &self,
        objects: &[ObjectMeta],
        ids: &[Option<ItemId>],
    ) -> (Vec<Arc<MediaItem>>, Arc<Vec<ObjectMeta>>) {
        let prefix = self.source.prefix();
        let enrich = self
            .enrich
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let old = self.snapshot();
        let mut folders = item::Folders::default();
        let mut items = Vec::with_capacity(objects.len());
        for (at, o) in objects.iter().enumerate() {
            let same = old.by_key(&o.key).filter(|i| {
                i.etag == o.etag
                    && i.size == o.size
                    && i.modified_ms == o.last_modified.and_then(item::millis)
            });
            if let Some(prev) = same {
                let known = enrich.as_ref().and_then(|e| e.meta(prev));
                match known {
                    Some(meta) if !Arc::ptr_eq(&meta, &prev.meta) && meta != prev.meta => {
                        let mut new = MediaItem::clone(prev);
                        new.meta = meta;
                        items.push(Arc::new(new));
                    }
                    _ => items.push(prev.clone()),
                }
                folders.remember(&prev.folder);
                continue;
            }
            let id = ids.get(at).copied().flatten();
            let Some(mut item) = item::from_object_in(&self.identity, prefix, o, &mut folders, id)
            else {
                continue;
            };
            let known = enrich.as_ref().and_then(|e| e.meta(&item)).or_else(|| {
                // The same content (only its time moved) keeps what it had.
                old.by_key(&o.key)
                    .filter(|p| p.etag == item.etag && p.size == item.size)
                    .map(|p| p.meta.clone())
            });
            if let Some(meta) = known {
                item.meta = meta;
            }
            items.push(Arc::new(item));
        }
        let aside = objects
            .iter()
            .filter(|o| media::kept_aside(&o.key))
            .cloned()
            .collect();
        (items, Arc::new(aside))
    }
}
