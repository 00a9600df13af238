//! The search index of one snapshot, built at its first query (`Snapshot`'s one `OnceLock`):
//! every item's folded text in one contiguous buffer, searched with one SIMD substring scan
//! over the whole buffer instead of folding a million items per query.
//!
//! - Item text: name, title, artist, album, folded ([`fold_into`]), each followed by `\n`, the
//!   items back to back; `starts` (4 bytes an item) says where each begins. A word never
//!   holds `\n` (it is cut at whitespace), so a hit lies within one field of one item: hits
//!   never span two fields or two items, exactly as matching item by item.
//! - Folders: each distinct folder once (an item has a folder id, 4 bytes), its folded text in
//!   a buffer of the same shape: a word in a folder matches all its items at once.
//! - Kinds: one bit an item. Sort orders ([`Order`]): built at the first query that needs
//!   each, 4 bytes an item each.
//!
//! Offsets are `u32`: text beyond 4 GiB (never seen: tags are cut at 1,024 characters) is
//! not indexed, and searches then fold item by item as before ([`Index::text`] is `None`).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

use memchr::arch::all::packedpair::HeuristicFrequencyRank;
use memchr::memmem::{Finder, FinderBuilder};

use super::bits::Bits;
use super::fold::fold_into;
use super::order::Order;
use super::SortField;
use crate::catalog::{MediaItem, Snapshot};
use crate::media::Kind;

/// The most text (in bytes) one buffer may hold: offsets are `u32`.
pub const MAX_TEXT: usize = u32::MAX as usize;

/// Segments of folded text back to back: segment `i` is `buf[starts[i]..starts[i + 1]]`.
#[derive(Debug, Default)]
pub struct Text {
    buf: Vec<u8>,
    starts: Vec<u32>,
}

impl Text {
    /// Ends the segment being written; `false` once the buffer is over `max` bytes.
    fn end_segment(&mut self, max: usize) -> bool {
        match u32::try_from(self.buf.len()) {
            Ok(end) if self.buf.len() <= max => {
                self.starts.push(end);
                true
            }
            _ => false,
        }
    }

    fn new() -> Text {
        Text {
            buf: Vec::new(),
            starts: vec![0],
        }
    }

    fn shrink(&mut self) {
        self.buf.shrink_to_fit();
        self.starts.shrink_to_fit();
    }

    /// How many segments.
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Segment `i`'s text (empty past the end).
    pub fn segment(&self, i: usize) -> &[u8] {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => self.buf.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The segments holding `word`: one scan of the whole buffer (the searcher keeps its
    /// state from hit to hit, so a word in every item costs about one step per item); the
    /// hits after the first in a segment are passed over.
    pub fn hits(&self, word: &Finder<'_>) -> Bits {
        let mut hits = Bits::new(self.len());
        let mut seg = 0;
        let mut seg_end = 0;
        for at in word.find_iter(&self.buf) {
            if at < seg_end {
                continue;
            }
            seg = self.segment_at(seg, at);
            hits.set(seg);
            match self.starts.get(seg + 1) {
                Some(&end) => seg_end = end as usize,
                None => break,
            }
        }
        hits
    }

    /// The segment holding byte `at`, searching forward from segment `from` (galloping:
    /// cheap both when hits are dense and when they are far apart).
    fn segment_at(&self, from: usize, at: usize) -> usize {
        let ends = self.starts.get(from + 1..).unwrap_or(&[]);
        // The first segment (from `from`) whose end is past `at`.
        let mut step = 1;
        let mut low = 0;
        while step <= ends.len() && ends[step - 1] as usize <= at {
            low = step;
            step *= 2;
        }
        let high = step.min(ends.len());
        from + low + ends[low..high].partition_point(|&end| end as usize <= at)
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.buf.capacity() + self.starts.capacity() * 4
    }
}

/// What [`super::run`] keeps per snapshot.
pub struct Index {
    /// The items' folded text, `None` when over [`MAX_TEXT`].
    pub text: Option<Text>,
    /// The distinct folders' folded text, `None` when over [`MAX_TEXT`].
    pub folder_text: Option<Text>,
    /// Each item's folder id.
    pub folder_of: Vec<u32>,
    /// For each folder id, an item in it (where its name is read).
    pub folder_item: Vec<u32>,
    /// Folder ids in the order of their names (byte order), for `folder=` and `under=`.
    folders_sorted: Vec<u32>,
    /// The video items.
    pub video: Bits,
    /// Each byte's rank by how often it occurs in the text (0: rarest), for the substring
    /// searcher's prefilter, which otherwise guesses from typical text (and on names made of
    /// a few letters and digits, such as `track-000042`, guesses wrong).
    pub ranks: ByteRanks,
    /// The sort orders, by [`order_slot`], built when first asked for.
    orders: [OnceLock<Order>; 8],
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("items", &self.folder_of.len())
            .field("folders", &self.folder_item.len())
            .field("bytes", &self.bytes())
            .finish()
    }
}

impl Index {
    /// The index of `snap`'s items, text over `max_text` bytes left out (see the module).
    pub fn build(snap: &Snapshot, max_text: usize) -> Index {
        let n = snap.items.len();
        let mut text = Some(Text::new());
        let mut folder_text = Some(Text::new());
        let mut folder_of = Vec::with_capacity(n);
        let mut folder_item: Vec<u32> = Vec::new();
        let mut folder_ids: HashMap<&str, u32> = HashMap::new();
        let mut video = Bits::new(n);
        for (i, item) in snap.items.iter().enumerate() {
            let item: &MediaItem = item;
            let i32 = index(i);
            if item.kind == Kind::Video {
                video.set(i);
            }
            let folder: &str = &item.folder;
            let fid = match folder_ids.get(folder) {
                Some(&fid) => fid,
                None => {
                    let fid = u32::try_from(folder_item.len()).unwrap_or(u32::MAX);
                    folder_ids.insert(folder, fid);
                    folder_item.push(i32);
                    if let Some(t) = folder_text.as_mut() {
                        fold_into(folder, &mut t.buf);
                        t.buf.push(b'\n');
                        if !t.end_segment(max_text) {
                            folder_text = None;
                        }
                    }
                    fid
                }
            };
            folder_of.push(fid);
            if let Some(t) = text.as_mut() {
                let meta = &item.meta;
                let fields = [
                    Some(&*item.name),
                    meta.title.as_deref(),
                    meta.artist.as_deref(),
                    meta.album.as_deref(),
                ];
                for field in fields.into_iter().flatten() {
                    fold_into(field, &mut t.buf);
                    t.buf.push(b'\n');
                }
                if !t.end_segment(max_text) {
                    text = None;
                }
            }
        }
        if let Some(t) = text.as_mut() {
            t.shrink();
        }
        if let Some(t) = folder_text.as_mut() {
            t.shrink();
        }
        folder_item.shrink_to_fit();
        drop(folder_ids);
        let ranks = ByteRanks::of([text.as_ref(), folder_text.as_ref()].into_iter().flatten());
        let folder_name = |f: u32| -> &str { &snap.items[folder_item[f as usize] as usize].folder };
        let mut folders_sorted: Vec<u32> = (0..folder_item.len()).map(index).collect();
        folders_sorted.sort_unstable_by(|&a, &b| folder_name(a).cmp(folder_name(b)));
        Index {
            text,
            folder_text,
            folder_of,
            folder_item,
            folders_sorted,
            video,
            ranks,
            orders: Default::default(),
        }
    }

    /// The items' and the folders' text, when both are indexed.
    pub fn text(&self) -> Option<(&Text, &Text)> {
        Some((self.text.as_ref()?, self.folder_text.as_ref()?))
    }

    /// The folder ids an item's folder must be among for `folder` (exactly that folder)
    /// and `under` (that folder or below; `""` is everything); `None` when neither is given.
    pub fn folders(
        &self,
        snap: &Snapshot,
        folder: Option<&str>,
        under: Option<&str>,
    ) -> Option<Bits> {
        if folder.is_none() && under.is_none() {
            return None;
        }
        let name = |f: u32| -> &str { &snap.items[self.folder_item[f as usize] as usize].folder };
        let sorted = &self.folders_sorted;
        let first_at_or_after = |text: &str| sorted.partition_point(|&f| name(f) < text);
        let exactly = |text: &str| {
            let at = first_at_or_after(text);
            at..at + usize::from(sorted.get(at).is_some_and(|&f| name(f) == text))
        };
        let mut set = Bits::new(self.folder_item.len());
        let mut add = |range: std::ops::Range<usize>| {
            for &f in &sorted[range] {
                set.set(f as usize);
            }
        };
        match under {
            Some("") => add(0..sorted.len()),
            Some(under) => {
                add(exactly(under));
                // Below `u`: names from `u/` up to `u0` (`0` is the byte after `/`).
                add(first_at_or_after(&format!("{under}/"))
                    ..first_at_or_after(&format!("{under}0")));
            }
            None => {}
        }
        if let Some(folder) = folder {
            let mut only = Bits::new(self.folder_item.len());
            for &f in &sorted[exactly(folder)] {
                only.set(f as usize);
            }
            if under.is_some() {
                set.and(&only);
            } else {
                set = only;
            }
        }
        Some(set)
    }

    /// The order of the items by `field` (built at the first call).
    pub fn order(&self, snap: &Snapshot, field: SortField) -> &Order {
        self.orders[order_slot(field)].get_or_init(|| {
            let started = Instant::now();
            let order = Order::build(snap, field);
            tracing::info!(
                ?field,
                items = snap.items.len(),
                bytes = order.bytes(),
                ms = started.elapsed().as_millis() as u64,
                "sort order built"
            );
            order
        })
    }

    /// Bytes held, sort orders included.
    pub fn bytes(&self) -> usize {
        let text = |t: &Option<Text>| t.as_ref().map_or(0, Text::bytes);
        text(&self.text)
            + text(&self.folder_text)
            + self.folder_of.capacity() * 4
            + self.folder_item.capacity() * 4
            + self.folders_sorted.capacity() * 4
            + self.video.bytes()
            + self
                .orders
                .iter()
                .filter_map(OnceLock::get)
                .map(Order::bytes)
                .sum::<usize>()
    }
}

/// Bytes ranked by how often they occur in some text (0: rarest).
#[derive(Debug, Clone, Copy)]
pub struct ByteRanks([u8; 256]);

impl ByteRanks {
    /// The ranks of the bytes of these texts.
    fn of<'a>(texts: impl Iterator<Item = &'a Text>) -> ByteRanks {
        let mut counts = [0u64; 256];
        for text in texts {
            for &b in &text.buf {
                counts[usize::from(b)] += 1;
            }
        }
        let mut bytes: Vec<u8> = (0..=255).collect();
        bytes.sort_by_key(|&b| counts[usize::from(b)]);
        let mut ranks = [0u8; 256];
        for (rank, &b) in bytes.iter().enumerate() {
            ranks[usize::from(b)] = u8::try_from(rank).unwrap_or(u8::MAX);
        }
        ByteRanks(ranks)
    }

    /// A searcher for `word` whose prefilter looks for the word's rarest bytes in this text.
    pub fn finder(&self, word: &[u8]) -> Finder<'static> {
        FinderBuilder::new()
            .build_forward_with_ranker(*self, word)
            .into_owned()
    }
}

impl HeuristicFrequencyRank for ByteRanks {
    fn rank(&self, byte: u8) -> u8 {
        self.0[usize::from(byte)]
    }
}

/// The slot of a field's order (key order is the snapshot's own: its slot stays empty).
fn order_slot(field: SortField) -> usize {
    match field {
        SortField::Key => 0,
        SortField::Name => 1,
        SortField::Title => 2,
        SortField::Artist => 3,
        SortField::Album => 4,
        SortField::Modified => 5,
        SortField::Size => 6,
        SortField::Duration => 7,
    }
}

/// An item or folder index as stored (a snapshot holds far fewer than 2^32 items).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
