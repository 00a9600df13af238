//! A saved listing packed into one blob, so a restart reads 1,000,000 objects in one go
//! instead of stepping through a million SQLite rows (several seconds on a loaded machine).
//!
//! The format is private to this file and versioned by its first byte; a blob that does not
//! parse is ignored (the rows of `listings` are read instead). After the version, the count
//! of objects (u64), so a cut blob is seen as one. Each object: key (u32 length,
//! UTF-8), size (u64), a flags byte (ETag, modification time, item id present), then the
//! ETag (u32 length, UTF-8), the time (i64 seconds, u32 nanoseconds) and the id (32 ASCII
//! hex bytes), each only when its flag is set. Integers little-endian.

use std::time::SystemTime;

use bucketstream_core::catalog::ItemId;
use bucketstream_core::source::ObjectMeta;

use super::listing::{join_time, split_time};

/// The format's version byte.
const VERSION: u8 = 1;
const HAS_ETAG: u8 = 1;
const HAS_TIME: u8 = 2;
const HAS_ID: u8 = 4;

/// `objects` (with `ids[i]` for `objects[i]`, when known) packed.
pub fn pack(objects: &[ObjectMeta], ids: &[Option<ItemId>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + objects.len() * 96);
    out.push(VERSION);
    out.extend_from_slice(
        &u64::try_from(objects.len())
            .unwrap_or(u64::MAX)
            .to_le_bytes(),
    );
    for (at, o) in objects.iter().enumerate() {
        put_str(&mut out, &o.key);
        out.extend_from_slice(&o.size.to_le_bytes());
        let id = ids.get(at).copied().flatten();
        let flags = (if o.etag.is_some() { HAS_ETAG } else { 0 })
            | (if o.last_modified.is_some() {
                HAS_TIME
            } else {
                0
            })
            | (if id.is_some() { HAS_ID } else { 0 });
        out.push(flags);
        if let Some(etag) = &o.etag {
            put_str(&mut out, etag);
        }
        if let Some(t) = o.last_modified {
            let (secs, nanos) = split_time(t);
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&u32::try_from(nanos).unwrap_or(0).to_le_bytes());
        }
        if let Some(id) = id {
            out.extend_from_slice(id.as_bytes());
        }
    }
    out
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&u32::try_from(text.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// Reads a packed blob.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn str(&mut self) -> Option<&'a str> {
        let len = usize::try_from(u32::from_le_bytes(self.array()?)).ok()?;
        std::str::from_utf8(self.take(len)?).ok()
    }
}

/// One object as it lies in the blob (borrowed).
struct Packed<'a> {
    key: &'a str,
    size: u64,
    etag: Option<&'a str>,
    last_modified: Option<SystemTime>,
    id: Option<ItemId>,
}

/// Hands each object of `data` to `each`, in order: `None` (after the objects before the
/// damage) when the blob is not a whole packed listing.
fn walk<'a>(data: &'a [u8], mut each: impl FnMut(Packed<'a>)) -> Option<usize> {
    let mut r = Reader(data);
    if r.array::<1>()? != [VERSION] {
        return None;
    }
    let expected = u64::from_le_bytes(r.array()?);
    let mut count = 0;
    while !r.0.is_empty() {
        let key = r.str()?;
        let size = u64::from_le_bytes(r.array()?);
        let [flags] = r.array()?;
        let etag = if flags & HAS_ETAG != 0 {
            Some(r.str()?)
        } else {
            None
        };
        let last_modified = if flags & HAS_TIME != 0 {
            let secs = i64::from_le_bytes(r.array()?);
            let nanos = u32::from_le_bytes(r.array()?);
            join_time(secs, i64::from(nanos))
        } else {
            None
        };
        let id = if flags & HAS_ID != 0 {
            Some(ItemId::parse(std::str::from_utf8(r.take(32)?).ok()?)?)
        } else {
            None
        };
        each(Packed {
            key,
            size,
            etag,
            last_modified,
            id,
        });
        count += 1;
    }
    (u64::try_from(count).ok() == Some(expected)).then_some(count)
}

/// Hands each object of `data` to `each`, in order, and their count; `None`, having handed
/// over nothing, when the blob is not a whole, well-formed packed listing.
pub fn unpack(data: &[u8], mut each: impl FnMut(ObjectMeta, Option<ItemId>)) -> Option<usize> {
    walk(data, |_| {})?;
    walk(data, |p| {
        each(
            ObjectMeta {
                key: p.key.to_owned(),
                size: p.size,
                etag: p.etag.map(str::to_owned),
                last_modified: p.last_modified,
            },
            p.id,
        );
    })
}

/// Whether `data` is a whole, well-formed packed listing.
#[cfg(test)]
fn check(data: &[u8]) -> bool {
    walk(data, |_| {}).is_some()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn objects() -> Vec<ObjectMeta> {
        vec![
            ObjectMeta {
                key: "z/ünï 日本.mp3".into(),
                size: 5_000_000_000,
                etag: Some("\"abc-12\"".into()),
                last_modified: Some(UNIX_EPOCH + Duration::new(1_445_412_480, 123_456_789)),
            },
            ObjectMeta {
                key: "cover.jpg".into(),
                size: 0,
                etag: None,
                last_modified: Some(UNIX_EPOCH - Duration::new(86_400, 5)),
            },
            ObjectMeta {
                key: String::new(),
                size: 1,
                etag: Some(String::new()),
                last_modified: None,
            },
        ]
    }

    #[test]
    fn packs_and_unpacks_exactly() {
        let objects = objects();
        let id = bucketstream_core::catalog::item::item_id("s", "z/ünï 日本.mp3");
        let data = pack(&objects, &[Some(id), None]);
        let mut back = Vec::new();
        assert_eq!(unpack(&data, |o, i| back.push((o, i))), Some(3));
        let want: Vec<_> = objects.into_iter().zip([Some(id), None, None]).collect();
        assert_eq!(back, want);
        assert!(check(&data));
        assert_eq!(unpack(&pack(&[], &[]), |_, _| {}), Some(0));
    }

    #[test]
    fn damage_is_refused() {
        let data = pack(&objects(), &[]);
        for cut in [0, 1, 9, 13, data.len() - 1] {
            assert!(!check(&data[..cut]), "cut at {cut}");
        }
        let mut other = data.clone();
        other[0] = 9;
        assert!(!check(&other), "another version");
        let mut bad_utf8 = data;
        bad_utf8[13] = 0xff;
        assert!(!check(&bad_utf8));
    }
}
