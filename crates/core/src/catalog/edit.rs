//! Changes the server itself made at the store (an upload completed, an object deleted, renamed
//! or moved), applied to the snapshot at once, so every client sees them without waiting for
//! the next listing (which then finds the same and changes nothing).

use std::sync::Arc;
use std::time::SystemTime;

use super::{diff, item, Catalog, Event, Snapshot};
use crate::media;
use crate::source::ObjectMeta;

/// One edit: objects that now exist (new or replaced, by key) and keys that are gone.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// Objects written (an upload, the new name of a rename).
    pub put: Vec<ObjectMeta>,
    /// Keys deleted (a delete, the old name of a rename).
    pub removed: Vec<String>,
}

impl Catalog {
    /// Applies `edit` to the snapshot: items of removed keys go, put objects are added or
    /// replace the item of the same key (with what the media library knows of them), the
    /// generation moves on and clients get one `library_changed`. The next listing agrees.
    /// Returns the new snapshot (the old one when nothing changed).
    pub async fn apply_edit(&self, edit: &Edit) -> Arc<Snapshot> {
        let _guard = self.refresh_lock.lock().await;
        let old = self.snapshot();
        let gone = |key: &str| {
            edit.removed.iter().any(|k| k == key) || edit.put.iter().any(|o| o.key == key)
        };
        let (put_items, put_art) = self.items_of(&edit.put);
        let mut items: Vec<_> = old
            .items
            .iter()
            .filter(|i| !gone(&i.key))
            .cloned()
            .collect();
        items.extend(put_items);
        // Folder art and subtitle files, each sorted by key, as the old snapshot has them.
        let old_aside: Vec<&ObjectMeta> =
            old.folder_art.iter().chain(old.subtitles.iter()).collect();
        let mut aside: Vec<ObjectMeta> = old_aside
            .iter()
            .filter(|o| !gone(&o.key))
            .map(|o| (*o).clone())
            .collect();
        aside.extend(put_art.iter().cloned());
        aside.sort_by(|a, b| {
            (media::is_subtitle(&a.key), &a.key).cmp(&(media::is_subtitle(&b.key), &b.key))
        });
        let art_changed =
            aside.len() != old_aside.len() || aside.iter().zip(old_aside).any(|(a, b)| a != b);
        // A seeded snapshot (not listed yet) stays unlisted: the first listing still runs.
        let refreshed_at = old.refreshed_at.map(|_| SystemTime::now());
        let snap = Snapshot::new(items, Arc::new(aside), old.generation + 1, refreshed_at);
        let change = diff::diff(&old.items, &snap.items);
        if change.is_empty() && !art_changed {
            return old;
        }
        let snap = Arc::new(snap);
        self.swap(snap.clone());
        tracing::info!(
            added = change.added.len(),
            removed = change.removed.len(),
            changed = change.changed.len(),
            generation = snap.generation,
            "library edited"
        );
        let _ = self
            .events
            .send(Event::Changed(snap.clone(), Arc::new(change)));
        snap
    }

    /// The item a put object becomes (`None` when it is not media), as a listing would make it.
    pub fn item_of(&self, obj: &ObjectMeta) -> Option<item::MediaItem> {
        let (mut items, _) = self.items_of(std::slice::from_ref(obj));
        items
            .pop()
            .filter(|_| media::classify(&obj.key).is_some())
            .map(Arc::unwrap_or_clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{local::LocalSource, Source};
    use std::time::UNIX_EPOCH;

    fn obj(key: &str, etag: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 3,
            etag: Some(etag.into()),
            last_modified: Some(UNIX_EPOCH),
        }
    }

    fn catalog() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = LocalSource::new(&[dir.path().to_owned()]).expect("source");
        (dir, Catalog::new(Arc::new(Source::Local(source))))
    }

    #[tokio::test]
    async fn puts_replaces_and_removes_with_one_event_each() {
        let (_dir, catalog) = catalog();
        catalog.seed(&[obj("a.mp3", "1"), obj("b.mp3", "1")]).await;
        let mut events = catalog.subscribe();
        let before = catalog.snapshot().generation;

        let snap = catalog
            .apply_edit(&Edit {
                put: vec![
                    obj("c.mp3", "1"),
                    obj("a.mp3", "2"),
                    obj("x/cover.jpg", "1"),
                ],
                removed: vec!["b.mp3".into()],
            })
            .await;
        let keys: Vec<_> = snap.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["a.mp3", "c.mp3"]);
        assert_eq!(snap.items[0].etag.as_deref(), Some("2"));
        assert_eq!(snap.folder_art.len(), 1);
        assert_eq!(snap.generation, before + 1);
        assert!(
            snap.refreshed_at.is_none(),
            "a seeded snapshot stays unlisted"
        );
        let Ok(Event::Changed(_, change)) = events.try_recv() else {
            panic!("one change event");
        };
        assert_eq!(change.added.len(), 1);
        assert_eq!(change.removed.len(), 1);
        assert_eq!(change.changed.len(), 1);

        // The same edit again changes nothing and sends nothing.
        let again = catalog
            .apply_edit(&Edit {
                put: vec![obj("c.mp3", "1")],
                removed: vec!["b.mp3".into()],
            })
            .await;
        assert_eq!(again.generation, snap.generation);
        assert!(events.try_recv().is_err());
        assert!(catalog.item_of(&obj("n.txt", "1")).is_none());
        assert_eq!(
            catalog.item_of(&obj("n.flac", "1")).map(|i| i.name),
            Some("n".to_owned())
        );
    }
}
