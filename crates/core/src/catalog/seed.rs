//! The seed: the last listing, kept by the media library, served at start until the first
//! listing ends, so a restart shows the whole library at once.
//!
//! At 1,000,000 objects the start must take well under a second, so the rows of the saved
//! listing become items one at a time as the database hands them over ([`SeedRows`]): no
//! intermediate list of objects, no key hashed again when the saved item ids check out, one
//! shared string per folder.

use std::sync::Arc;

use super::{item, Catalog, Enrich, ItemId, ItemMeta, MediaItem, Snapshot};
use crate::media;
use crate::source::ObjectMeta;

/// The items of a saved listing, made row by row (from [`Catalog::seed_rows`], handed back
/// to [`Catalog::finish_seed`]). Owns what it needs, so it can fill on a blocking thread.
pub struct SeedRows {
    identity: String,
    prefix: String,
    enrich: Option<Arc<dyn Enrich>>,
    folders: item::Folders,
    items: Vec<Arc<MediaItem>>,
    /// Objects kept aside (folder art, subtitle files).
    aside: Vec<ObjectMeta>,
    /// Whether saved ids are used: decided on the first row that has one (its id must be
    /// the one this catalog gives its key; a listing saved under another identity is not).
    trusted: Option<bool>,
}

impl SeedRows {
    /// Adds one row of the saved listing (its item id when one was saved).
    pub fn push(&mut self, obj: ObjectMeta, id: Option<ItemId>) {
        self.push_with_meta(obj, id, None);
    }

    /// As [`SeedRows::push`], with what was known of the item when the listing was saved
    /// (then the [`Enrich`] hook is not asked: at start it may not have loaded yet).
    pub fn push_with_meta(&mut self, obj: ObjectMeta, id: Option<ItemId>, meta: Option<ItemMeta>) {
        if media::kept_aside(&obj.key) {
            self.aside.push(obj.clone());
        }
        let id = id.filter(|id| {
            *self
                .trusted
                .get_or_insert_with(|| item::item_id(&self.identity, &obj.key) == *id)
        });
        let Some(mut item) =
            item::from_object_owned(&self.identity, &self.prefix, obj, &mut self.folders, id)
        else {
            return;
        };
        match meta {
            Some(meta) if !meta.is_empty() => item.meta = Arc::new(meta),
            _ => {
                if let Some(meta) = self.enrich.as_ref().and_then(|e| e.meta(&item)) {
                    item.meta = meta;
                }
            }
        }
        self.items.push(Arc::new(item));
    }

    /// Adds the items of `next`, made from the rows that follow this one's (the saved
    /// listing read in runs on several threads, joined in order).
    pub fn append(&mut self, next: SeedRows) {
        let mut next_items = next.items;
        if self.items.is_empty() {
            std::mem::swap(&mut self.items, &mut next_items);
        } else {
            self.items.append(&mut next_items);
        }
        self.aside.extend(next.aside);
    }

    /// Items made so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item was made.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl Catalog {
    /// Serves `objects` (the last listing, kept by the media library) until the first listing
    /// ends, so a restart shows the whole library at once. Does nothing once a listing has
    /// succeeded. Sends no event: clients that connect get the list as usual.
    pub async fn seed(&self, objects: &[ObjectMeta]) {
        self.seed_with_ids(objects, &[]).await;
    }

    /// As [`Catalog::seed`], with the item ids saved with the listing (`ids[i]` for
    /// `objects[i]`), so no key is hashed again. The saved ids are used only if the first one
    /// is that object's id in this catalog (a listing saved under another identity is hashed).
    pub async fn seed_with_ids(&self, objects: &[ObjectMeta], ids: &[Option<ItemId>]) {
        let mut rows = self.seed_rows(objects.len());
        for (at, obj) in objects.iter().enumerate() {
            rows.push(obj.clone(), ids.get(at).copied().flatten());
        }
        self.finish_seed(rows).await;
    }

    /// An empty [`SeedRows`] for this catalog (room for `capacity` items).
    pub fn seed_rows(&self, capacity: usize) -> SeedRows {
        SeedRows {
            identity: self.identity.clone(),
            prefix: self.source.prefix().to_owned(),
            enrich: self
                .enrich
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            folders: item::Folders::default(),
            items: Vec::with_capacity(capacity),
            aside: Vec::new(),
            trusted: None,
        }
    }

    /// Serves the items of `rows` as [`Catalog::seed`] does (nothing once a listing has
    /// succeeded).
    pub async fn finish_seed(&self, rows: SeedRows) {
        let _guard = self.refresh_lock.lock().await;
        let old = self.snapshot();
        if old.refreshed_at.is_some() {
            return;
        }
        let mut items = rows.items;
        items.shrink_to_fit();
        let snap = Snapshot::new(items, Arc::new(rows.aside), old.generation + 1, None);
        self.swap(Arc::new(snap));
    }
}
