//! One library item as clients see it, and how it is derived from a listed object.
//!
//! The id is opaque and stable: the first 128 bits of SHA-256 over the source identity and the
//! key, in hex. URLs carry only ids, never raw keys, so hostile keys (`../`, `%`, `#`, `?`,
//! unicode, 1 KiB long) never need escaping in a path and never reach a filesystem path.

use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::meta::ItemMeta;
use crate::media::{self, Kind};
use crate::source::ObjectMeta;

/// A playable item, as served by `GET /api/videos` and the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaItem {
    /// Opaque stable id (32 hex chars).
    pub id: String,
    /// Display name: the file name without its extension.
    pub name: String,
    /// The object key (S3) or relative path (local), exactly as the source has it.
    pub key: String,
    /// The folder part of the key below the source prefix (`""` at the top, `/`-separated).
    pub folder: String,
    /// `audio` or `video`.
    pub kind: Kind,
    /// The Content-Type served for it.
    pub content_type: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// Entity tag as the source gave it (quoted).
    pub etag: Option<String>,
    /// Last modification, as an HTTP date (the `Last-Modified` header's form).
    pub last_modified: Option<String>,
    /// Last modification in milliseconds since the Unix epoch (for sorting).
    pub modified_ms: Option<u64>,
    /// Where to play it: a path on this server (`/media/{id}`), valid from any LAN origin.
    pub url: String,
    /// Tags, duration and art, `null` until the library has read the object (shared, since
    /// a refresh keeps an unchanged object's values).
    #[serde(flatten)]
    pub meta: Arc<ItemMeta>,
}

/// The id of `key` in the source named `identity`.
pub fn item_id(identity: &str, key: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(identity.as_bytes());
    hash.update([0u8]);
    hash.update(key.as_bytes());
    hex::encode(&hash.finalize()[..16])
}

/// Whether `text` has the shape of an id (so a bad path is refused before any lookup).
pub fn looks_like_id(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The item for a listed object, or `None` when it is not media.
pub fn from_object(identity: &str, prefix: &str, obj: &ObjectMeta) -> Option<MediaItem> {
    let (kind, content_type) = media::classify(&obj.key)?;
    let rel = obj.key.strip_prefix(prefix).unwrap_or(&obj.key);
    let (folder, file) = match rel.rsplit_once('/') {
        Some((folder, file)) => (folder.to_owned(), file),
        None => (String::new(), rel),
    };
    let name = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let name = if name.trim().is_empty() { file } else { name };
    let id = item_id(identity, &obj.key);
    Some(MediaItem {
        url: format!("/media/{id}"),
        id,
        name: name.to_owned(),
        key: obj.key.clone(),
        folder,
        kind,
        content_type,
        size: obj.size,
        etag: obj.etag.clone(),
        last_modified: obj.last_modified.map(httpdate::fmt_http_date),
        modified_ms: obj.last_modified.and_then(millis),
        meta: empty_meta(),
    })
}

/// The one empty [`ItemMeta`] every item starts with until the library has read it: shared, since
/// an `Arc::default()` per item cost about 300 bytes each (measured at 1,000,000 items).
pub fn empty_meta() -> Arc<ItemMeta> {
    static EMPTY: OnceLock<Arc<ItemMeta>> = OnceLock::new();
    EMPTY.get_or_init(Arc::default).clone()
}

fn millis(t: SystemTime) -> Option<u64> {
    t.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(key: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 3,
            etag: Some("\"e\"".into()),
            last_modified: Some(UNIX_EPOCH + std::time::Duration::from_secs(1_445_412_480)),
        }
    }

    #[test]
    fn unread_items_share_one_empty_meta() {
        let a = from_object("s3://b/", "", &obj("a.mp3")).expect("media");
        let b = from_object("s3://b/", "", &obj("b.mp3")).expect("media");
        assert!(Arc::ptr_eq(&a.meta, &b.meta));
        assert!(a.meta.is_empty());
    }

    #[test]
    fn derives_names_folders_and_urls() {
        let item = from_object("s3://b/", "lib/", &obj("lib/Jazz/Live/take 1.mp3")).expect("media");
        assert_eq!(item.name, "take 1");
        assert_eq!(item.folder, "Jazz/Live");
        assert_eq!(item.kind, Kind::Audio);
        assert_eq!(item.url, format!("/media/{}", item.id));
        assert!(looks_like_id(&item.id));
        assert_eq!(
            item.last_modified.as_deref(),
            Some("Wed, 21 Oct 2015 07:28:00 GMT")
        );
        assert_eq!(item.modified_ms, Some(1_445_412_480_000));
        let top = from_object("x", "", &obj("a.mp4")).expect("media");
        assert_eq!((top.folder.as_str(), top.name.as_str()), ("", "a"));
        let dotted = from_object("x", "", &obj(".mp3")).expect("media");
        assert_eq!(dotted.name, ".mp3");
        assert!(from_object("x", "", &obj("readme.md")).is_none());
    }

    #[test]
    fn ids_are_stable_distinct_and_opaque() {
        let a = item_id("s", "../x.mp3");
        assert_eq!(a, item_id("s", "../x.mp3"));
        assert_ne!(a, item_id("s", "../y.mp3"));
        assert_ne!(a, item_id("t", "../x.mp3"));
        assert!(looks_like_id(&a));
        assert!(!looks_like_id("../etc/passwd"));
        assert!(!looks_like_id(&a.to_uppercase()));
    }
}
