//! What a refresh changed: items added, removed and changed between two snapshots.
//!
//! Pushed to every WebSocket client so players update in place without re-downloading the list.

use std::collections::HashMap;

use serde::Serialize;

use super::item::MediaItem;

/// The difference between two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Items that are new.
    pub added: Vec<MediaItem>,
    /// Ids of items that are gone.
    pub removed: Vec<String>,
    /// Items whose size, ETag, modification time or metadata changed (same id).
    pub changed: Vec<MediaItem>,
}

impl Change {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Computes the change from `old` to `new` (both in any order; output follows `new`, then `old`).
pub fn diff(old: &[MediaItem], new: &[MediaItem]) -> Change {
    let before: HashMap<&str, &MediaItem> = old.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut change = Change::default();
    for item in new {
        match before.get(item.id.as_str()) {
            None => change.added.push(item.clone()),
            Some(prev) => {
                if prev.etag != item.etag
                    || prev.size != item.size
                    || prev.modified_ms != item.modified_ms
                    || prev.meta != item.meta
                {
                    change.changed.push(item.clone());
                }
            }
        }
    }
    let after: std::collections::HashSet<&str> = new.iter().map(|i| i.id.as_str()).collect();
    change.removed = old
        .iter()
        .filter(|i| !after.contains(i.id.as_str()))
        .map(|i| i.id.clone())
        .collect();
    change
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ObjectMeta;

    fn item(key: &str, etag: &str) -> MediaItem {
        let obj = ObjectMeta {
            key: key.into(),
            size: 1,
            etag: Some(etag.into()),
            last_modified: None,
        };
        super::super::item::from_object("t", "", &obj).expect("media")
    }

    #[test]
    fn finds_added_removed_and_changed() {
        let old = vec![item("a.mp3", "1"), item("b.mp3", "1"), item("c.mp3", "1")];
        let new = vec![item("a.mp3", "1"), item("c.mp3", "2"), item("d.mp4", "1")];
        let change = diff(&old, &new);
        assert_eq!(change.added, vec![item("d.mp4", "1")]);
        assert_eq!(change.removed, vec![item("b.mp3", "1").id]);
        assert_eq!(change.changed, vec![item("c.mp3", "2")]);
        assert!(!change.is_empty());
        assert!(diff(&new, &new).is_empty());
        assert!(diff(&[], &[]).is_empty());
    }
}
