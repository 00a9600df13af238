//! A saved listing packed into one blob, so a restart reads 1,000,000 objects in one go
//! instead of stepping through a million SQLite rows (several seconds on a loaded machine).
//!
//! The format is private to this file and versioned by its first byte; a blob that does not
//! parse is ignored (the rows of `listings` are read instead). After the version, the count
//! of objects (u64), so a cut blob is seen as one. Each object: key (u32 length,
//! UTF-8), size (u64), a flags byte (ETag, modification time, item id present), then the
//! ETag (u32 length, UTF-8), the time (i64 seconds, u32 nanoseconds) and the id (32 ASCII
//! hex bytes), each only when its flag is set. Integers little-endian. Version 2 adds a flag
//! for what the scan read of the item ([`meta`]: tags, duration, art), packed after the id,
//! so a restart serves tags without reading the records first; version 1 is still read.
//! Where the database's folder takes files, the blob is kept in a file beside it ([`file`]).

pub mod file;
mod meta;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::SystemTime;

use bucketstream_core::catalog::{Interner, ItemId, ItemMeta};
use bucketstream_core::source::ObjectMeta;

use super::listing::{join_time, split_time};

/// The format's version byte (what is written).
const VERSION: u8 = 2;
/// The version before [`meta`] (read, never written).
const VERSION_1: u8 = 1;
const HAS_ETAG: u8 = 1;
const HAS_TIME: u8 = 2;
const HAS_ID: u8 = 4;
const HAS_META: u8 = 8;

/// `objects` (with `ids[i]` and `metas[i]` for `objects[i]`, when known; an empty meta is
/// not written) packed.
pub fn pack(objects: &[ObjectMeta], ids: &[Option<ItemId>], metas: &[Arc<ItemMeta>]) -> Vec<u8> {
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
        let meta = metas.get(at).filter(|m| !m.is_empty());
        out.push(flags | if meta.is_some() { HAS_META } else { 0 });
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
        if let Some(m) = meta {
            meta::put(&mut out, m);
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
    meta: Option<ItemMeta>,
}

impl Packed<'_> {
    /// The object, owned.
    fn object(&self) -> ObjectMeta {
        ObjectMeta {
            key: self.key.to_owned(),
            size: self.size,
            etag: self.etag.map(str::to_owned),
            last_modified: self.last_modified,
        }
    }
}

/// Reads the version byte: one this file reads (a version 1 blob has no meta flags).
fn version(r: &mut Reader<'_>) -> Option<()> {
    matches!(r.array::<1>()?, [VERSION] | [VERSION_1]).then_some(())
}

/// Reads one object at the head of `r`, checked (UTF-8 text, id shape), sharing its meta's
/// texts through `shared`.
fn next<'a>(r: &mut Reader<'a>, shared: &mut Interner) -> Option<Packed<'a>> {
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
    let meta = if flags & HAS_META != 0 {
        Some(meta::get(r, shared)?)
    } else {
        None
    };
    Some(Packed {
        key,
        size,
        etag,
        last_modified,
        id,
        meta,
    })
}

/// Steps over one object at the head of `r` without checking its text (lengths only).
fn skip(r: &mut Reader<'_>) -> Option<()> {
    let key = usize::try_from(u32::from_le_bytes(r.array()?)).ok()?;
    r.take(key + 8)?;
    let [flags] = r.array()?;
    if flags & HAS_ETAG != 0 {
        let etag = usize::try_from(u32::from_le_bytes(r.array()?)).ok()?;
        r.take(etag)?;
    }
    let time = if flags & HAS_TIME != 0 { 12 } else { 0 };
    let id = if flags & HAS_ID != 0 { 32 } else { 0 };
    r.take(time + id)?;
    if flags & HAS_META != 0 {
        meta::skip(r)?;
    }
    Some(())
}

/// The objects of a packed listing cut into at most `parts` runs of whole objects, in order
/// (for unpacking on several threads with [`unpack_part`]), and the count of objects;
/// `None` when the blob's frame is damaged (another version, cut, count not matching). The
/// objects' text is not checked here: [`unpack_part`] does that.
pub fn split(data: &[u8], parts: usize) -> Option<(Vec<&[u8]>, usize)> {
    let mut r = Reader(data);
    version(&mut r)?;
    let expected = usize::try_from(u64::from_le_bytes(r.array()?)).ok()?;
    let body = r.0;
    let per_part = expected.div_ceil(parts.max(1)).max(1);
    let (mut cuts, mut count) = (Vec::with_capacity(parts + 1), 0);
    cuts.push(0);
    while !r.0.is_empty() {
        skip(&mut r)?;
        count += 1;
        if count % per_part == 0 && !r.0.is_empty() {
            cuts.push(body.len() - r.0.len());
        }
    }
    if count != expected {
        return None;
    }
    cuts.push(body.len());
    let runs = cuts.windows(2).map(|w| &body[w[0]..w[1]]).collect();
    Some((runs, count))
}

/// Hands each object of one run of [`split`] to `each`, in order, with its id and meta when
/// saved, and their count; `None` when an object is damaged (`each` has then seen the
/// objects before it, which the caller drops).
pub fn unpack_part(
    run: &[u8],
    mut each: impl FnMut(ObjectMeta, Option<ItemId>, Option<ItemMeta>),
) -> Option<usize> {
    let mut r = Reader(run);
    let (mut count, mut shared) = (0, Interner::default());
    while !r.0.is_empty() {
        let p = next(&mut r, &mut shared)?;
        each(p.object(), p.id, p.meta);
        count += 1;
    }
    Some(count)
}

/// Hands each object of `data` to `each`, in order: `None` (after the objects before the
/// damage) when the blob is not a whole packed listing.
fn walk<'a>(data: &'a [u8], mut each: impl FnMut(Packed<'a>)) -> Option<usize> {
    let mut r = Reader(data);
    version(&mut r)?;
    let expected = u64::from_le_bytes(r.array()?);
    let (mut count, mut shared) = (0, Interner::default());
    while !r.0.is_empty() {
        each(next(&mut r, &mut shared)?);
        count += 1;
    }
    (u64::try_from(count).ok() == Some(expected)).then_some(count)
}

/// Hands each object of `data` to `each`, in order, and their count; `None`, having handed
/// over nothing, when the blob is not a whole, well-formed packed listing.
pub fn unpack(data: &[u8], mut each: impl FnMut(ObjectMeta, Option<ItemId>)) -> Option<usize> {
    walk(data, |_| {})?;
    walk(data, |p| each(p.object(), p.id))
}

/// Whether `data` is a whole, well-formed packed listing.
#[cfg(test)]
pub(super) fn check(data: &[u8]) -> bool {
    walk(data, |_| {}).is_some()
}
