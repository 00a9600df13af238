//! One library item as clients see it, and how it is derived from a listed object.
//!
//! The id is opaque and stable: the first 128 bits of SHA-256 over the source identity and the
//! key, in hex. URLs carry only ids, never raw keys, so hostile keys (`../`, `%`, `#`, `?`,
//! unicode, 1 KiB long) never need escaping in a path and never reach a filesystem path.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::meta::ItemMeta;
use crate::media::{self, Kind};
use crate::source::ObjectMeta;

/// An item id: 32 lowercase hex characters stored inline (no heap allocation), reading and
/// serialising as the same string a `String` id did.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId([u8; 32]);

impl ItemId {
    /// The id of 16 digest bytes, in lowercase hex.
    pub fn from_bytes(bytes: &[u8; 16]) -> ItemId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (i, b) in bytes.iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        ItemId(out)
    }

    /// `text` as an id, when it has the shape of one ([`looks_like_id`]).
    pub fn parse(text: &str) -> Option<ItemId> {
        if !looks_like_id(text) {
            return None;
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(text.as_bytes());
        Some(ItemId(out))
    }

    /// The id as text (always ASCII hex, so the empty fallback is unreachable).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Deref for ItemId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for ItemId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for ItemId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ItemId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for ItemId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<ItemId> for String {
    fn eq(&self, other: &ItemId) -> bool {
        self == other.as_str()
    }
}

impl From<ItemId> for String {
    fn from(id: ItemId) -> String {
        id.as_str().to_owned()
    }
}

/// A playable item, as served by `GET /api/videos` and the WebSocket.
///
/// Kept compact (issue #15: at most 1 KiB an item at 1,000,000): the id is inline, the folder
/// is shared by the items of a folder, and `url` and `last_modified` are not stored but made
/// when the item is serialised (from `id` and `modified_ms`), with the same values as ever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaItem {
    /// Opaque stable id (32 hex chars).
    pub id: ItemId,
    /// Display name: the file name without its extension.
    pub name: String,
    /// The object key (S3) or relative path (local), exactly as the source has it.
    pub key: String,
    /// The folder part of the key below the source prefix (`""` at the top, `/`-separated),
    /// shared by every item of the folder.
    pub folder: Arc<str>,
    /// `audio` or `video`.
    pub kind: Kind,
    /// The Content-Type served for it.
    pub content_type: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// Entity tag as the source gave it (quoted).
    pub etag: Option<String>,
    /// Last modification in milliseconds since the Unix epoch (for sorting; `last_modified`
    /// is made from it).
    pub modified_ms: Option<u64>,
    /// Tags, duration and art, `null` until the library has read the object (shared, since
    /// a refresh keeps an unchanged object's values).
    pub meta: Arc<ItemMeta>,
}

impl MediaItem {
    /// Where to play it: a path on this server (`/media/{id}`), valid from any LAN origin.
    pub fn url(&self) -> String {
        format!("/media/{}", self.id)
    }

    /// Last modification, as an HTTP date (the `Last-Modified` header's form).
    pub fn last_modified(&self) -> Option<String> {
        self.modified_ms.and_then(http_date)
    }
}

/// `ms` after the epoch as an HTTP date; `None` past what an HTTP date can show.
fn http_date(ms: u64) -> Option<String> {
    let t = UNIX_EPOCH.checked_add(Duration::from_millis(ms))?;
    // httpdate formats years up to 9999 only (253402300799 is 9999-12-31T23:59:59Z).
    (ms / 1000 <= 253_402_300_799).then(|| httpdate::fmt_http_date(t))
}

/// The `url` field: `/media/{id}`, written without an allocation.
struct Url<'a>(&'a ItemId);

impl Serialize for Url<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("/media/{}", self.0))
    }
}

/// The `last_modified` field, made from `modified_ms`.
struct HttpDateOf(u64);

impl Serialize for HttpDateOf {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match UNIX_EPOCH
            .checked_add(Duration::from_millis(self.0))
            .filter(|_| self.0 / 1000 <= 253_402_300_799)
        {
            Some(t) => s.collect_str(&httpdate::HttpDate::from(t)),
            None => s.serialize_none(),
        }
    }
}

/// The wire form of an item: the fields in the order they always had.
#[derive(Serialize)]
struct Wire<'a> {
    id: &'a ItemId,
    name: &'a str,
    key: &'a str,
    folder: &'a str,
    kind: Kind,
    content_type: &'static str,
    size: u64,
    etag: &'a Option<String>,
    last_modified: Option<HttpDateOf>,
    modified_ms: Option<u64>,
    url: Url<'a>,
    #[serde(flatten)]
    meta: &'a ItemMeta,
}

impl Serialize for MediaItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            id: &self.id,
            name: &self.name,
            key: &self.key,
            folder: &self.folder,
            kind: self.kind,
            content_type: self.content_type,
            size: self.size,
            etag: &self.etag,
            last_modified: self.modified_ms.map(HttpDateOf),
            modified_ms: self.modified_ms,
            url: Url(&self.id),
            meta: &self.meta,
        }
        .serialize(s)
    }
}

/// The id of `key` in the source named `identity`.
pub fn item_id(identity: &str, key: &str) -> ItemId {
    let mut hash = Sha256::new();
    hash.update(identity.as_bytes());
    hash.update([0u8]);
    hash.update(key.as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    ItemId::from_bytes(&first)
}

/// Whether `text` has the shape of an id (so a bad path is refused before any lookup).
pub fn looks_like_id(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Shares folder names between the items of a listing: listings come in key order, so the
/// items of a folder arrive together and the last folder seen is almost always the one asked.
#[derive(Debug, Default)]
pub struct Folders {
    last: Option<Arc<str>>,
}

impl Folders {
    /// `folder` as a shared string (the previous one when equal).
    pub fn intern(&mut self, folder: &str) -> Arc<str> {
        match &self.last {
            Some(last) if &**last == folder => last.clone(),
            _ => {
                let new: Arc<str> = Arc::from(folder);
                self.last = Some(new.clone());
                new
            }
        }
    }

    /// Remembers `folder` (an existing item's) so the next items of that folder share it.
    pub fn remember(&mut self, folder: &Arc<str>) {
        self.last = Some(folder.clone());
    }
}

/// The item for a listed object, or `None` when it is not media.
pub fn from_object(identity: &str, prefix: &str, obj: &ObjectMeta) -> Option<MediaItem> {
    from_object_in(identity, prefix, obj, &mut Folders::default(), None)
}

/// [`from_object`], its folder name shared through `folders`; `id` when the caller knows it
/// already (kept with a saved listing: it is [`item_id`] of the key, not computed again).
pub fn from_object_in(
    identity: &str,
    prefix: &str,
    obj: &ObjectMeta,
    folders: &mut Folders,
    id: Option<ItemId>,
) -> Option<MediaItem> {
    media::classify(&obj.key)?;
    from_object_owned(identity, prefix, obj.clone(), folders, id)
}

/// [`from_object_in`] taking the object: its key and ETag become the item's (no copy).
pub fn from_object_owned(
    identity: &str,
    prefix: &str,
    obj: ObjectMeta,
    folders: &mut Folders,
    id: Option<ItemId>,
) -> Option<MediaItem> {
    let (kind, content_type) = media::classify(&obj.key)?;
    let rel = obj.key.strip_prefix(prefix).unwrap_or(&obj.key);
    let (folder, file) = match rel.rsplit_once('/') {
        Some((folder, file)) => (folder, file),
        None => ("", rel),
    };
    let name = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let name = if name.trim().is_empty() { file } else { name };
    let (name, folder) = (name.to_owned(), folders.intern(folder));
    Some(MediaItem {
        id: id.unwrap_or_else(|| item_id(identity, &obj.key)),
        name,
        key: obj.key,
        folder,
        kind,
        content_type,
        size: obj.size,
        etag: obj.etag,
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

/// `t` in milliseconds since the epoch (`None` before it).
pub fn millis(t: SystemTime) -> Option<u64> {
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
        assert_eq!(&*item.folder, "Jazz/Live");
        assert_eq!(item.kind, Kind::Audio);
        assert_eq!(item.url(), format!("/media/{}", item.id));
        assert!(looks_like_id(&item.id));
        assert_eq!(
            item.last_modified().as_deref(),
            Some("Wed, 21 Oct 2015 07:28:00 GMT")
        );
        assert_eq!(item.modified_ms, Some(1_445_412_480_000));
        let top = from_object("x", "", &obj("a.mp4")).expect("media");
        assert_eq!((&*top.folder, top.name.as_str()), ("", "a"));
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
        assert_eq!(ItemId::parse(&a), Some(a));
        assert_eq!(ItemId::parse("../etc/passwd"), None);
        assert_eq!(format!("{a}"), a.as_str());
        assert_eq!(serde_json::to_string(&a).ok(), Some(format!("\"{a}\"")));
    }

    #[test]
    fn items_of_a_folder_share_its_name() {
        let mut folders = Folders::default();
        let a = from_object_in("s", "", &obj("x/y/a.mp3"), &mut folders, None).expect("media");
        let b = from_object_in("s", "", &obj("x/y/b.mp3"), &mut folders, None).expect("media");
        let c = from_object_in("s", "", &obj("x/c.mp3"), &mut folders, None).expect("media");
        assert!(Arc::ptr_eq(&a.folder, &b.folder));
        assert_eq!((&*a.folder, &*c.folder), ("x/y", "x"));
    }

    /// The JSON of an item, byte for byte as it was when items stored `url` and
    /// `last_modified` as strings (captured from that code).
    #[test]
    fn serialises_exactly_as_before() {
        let tagged_obj = ObjectMeta {
            key: "lib/Jazz/Live/take \"1\".mp3".into(),
            size: 3,
            etag: Some("\"e\"".into()),
            last_modified: Some(UNIX_EPOCH + std::time::Duration::from_millis(1_445_412_480_123)),
        };
        let mut item = from_object("s3://b/", "lib/", &tagged_obj).expect("media");
        assert_eq!(
            serde_json::to_string(&item).ok().as_deref(),
            Some(include_str!("golden/item_untagged.json").trim_end())
        );
        item.meta = Arc::new(ItemMeta {
            title: Some("T".into()),
            track: Some(2),
            bitrate_kbps: Some(128),
            ..ItemMeta::default()
        });
        assert_eq!(
            serde_json::to_string(&item).ok().as_deref(),
            Some(include_str!("golden/item_tagged.json").trim_end())
        );
        let bare = ObjectMeta {
            key: "a.mp4".into(),
            size: 0,
            etag: None,
            last_modified: None,
        };
        let item = from_object("x", "", &bare).expect("media");
        assert_eq!(
            serde_json::to_string(&item).ok().as_deref(),
            Some(include_str!("golden/item_bare.json").trim_end())
        );
        assert_eq!(item.last_modified(), None);
    }
}
