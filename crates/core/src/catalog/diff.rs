//! What a refresh changed: items added, removed and changed between two snapshots.
//!
//! Pushed to every WebSocket client so players update in place without re-downloading the list.

use std::cmp::Ordering;
use std::sync::Arc;

use serde::Serialize;

use super::item::MediaItem;

/// The difference between two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Items that are new.
    pub added: Vec<Arc<MediaItem>>,
    /// Ids of items that are gone.
    pub removed: Vec<String>,
    /// Items whose size, ETag, modification time or metadata changed (same id).
    pub changed: Vec<Arc<MediaItem>>,
}

impl Change {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Whether `new` differs from `prev` (same key) in what clients see.
fn differs(prev: &Arc<MediaItem>, new: &Arc<MediaItem>) -> bool {
    !Arc::ptr_eq(prev, new)
        && (prev.etag != new.etag
            || prev.size != new.size
            || prev.modified_ms != new.modified_ms
            || prev.meta != new.meta)
}

/// Computes the change from `old` to `new`, both sorted by key with unique keys (as
/// [`super::Snapshot::items`] are): one merge walk, no map of either side; items shared
/// by both are skipped at a pointer comparison. Output in key order.
pub fn diff(old: &[Arc<MediaItem>], new: &[Arc<MediaItem>]) -> Change {
    let mut change = Change::default();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) => a.key.cmp(&b.key),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                change.removed.push(old[i].id.to_string());
                i += 1;
            }
            Ordering::Greater => {
                change.added.push(new[j].clone());
                j += 1;
            }
            Ordering::Equal => {
                if differs(&old[i], &new[j]) {
                    change.changed.push(new[j].clone());
                }
                i += 1;
                j += 1;
            }
        }
    }
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ObjectMeta;

    fn item(key: &str, etag: &str) -> Arc<MediaItem> {
        let obj = ObjectMeta {
            key: key.into(),
            size: 1,
            etag: Some(etag.into()),
            last_modified: None,
        };
        Arc::new(super::super::item::from_object("t", "", &obj).expect("media"))
    }

    #[test]
    fn finds_added_removed_and_changed() {
        let old = vec![item("a.mp3", "1"), item("b.mp3", "1"), item("c.mp3", "1")];
        let new = vec![item("a.mp3", "1"), item("c.mp3", "2"), item("d.mp4", "1")];
        let change = diff(&old, &new);
        assert_eq!(change.added, vec![item("d.mp4", "1")]);
        assert_eq!(change.removed, vec![item("b.mp3", "1").id.to_string()]);
        assert_eq!(change.changed, vec![item("c.mp3", "2")]);
        assert!(!change.is_empty());
        assert!(diff(&new, &new).is_empty());
        assert!(diff(&[], &[]).is_empty());
        assert_eq!(diff(&[], &new).added.len(), 3);
        assert_eq!(diff(&new, &[]).removed.len(), 3);
    }
}
