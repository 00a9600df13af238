//! The sort orders of a query: the comparison that defines each (missing values last in both
//! directions, ties by key), and an [`Order`] per field built once per snapshot, so a page of
//! a sorted query is a walk along a permutation instead of a sort of the matches.
//!
//! An [`Order`] holds the ascending permutation only (4 bytes an item) and a bit per
//! position marking where a run of equal values starts (ties): descending is then the runs
//! in reverse, each still in key order, followed by the items without a value.

use std::cmp::Ordering;

use super::bits::Bits;
use super::{Sort, SortField};
use crate::catalog::{MediaItem, Snapshot};

/// `a` against `b` in `sort`'s order: missing values last in both directions, ties by key.
pub fn compare(sort: Sort, a: &MediaItem, b: &MediaItem) -> Ordering {
    let desc = sort.descending;
    let (ma, mb) = (&a.meta, &b.meta);
    let by_value = match sort.field {
        SortField::Key => directed(a.key.cmp(&b.key), desc),
        SortField::Name => directed(text_cmp(&a.name, &b.name), desc),
        SortField::Title => directed(text_cmp(title(a), title(b)), desc),
        SortField::Artist => {
            missing_last(ma.artist.as_deref(), mb.artist.as_deref(), desc, text_cmp)
        }
        SortField::Album => missing_last(ma.album.as_deref(), mb.album.as_deref(), desc, text_cmp),
        SortField::Modified => missing_last(a.modified_ms, b.modified_ms, desc, |x, y| x.cmp(&y)),
        SortField::Size => directed(a.size.cmp(&b.size), desc),
        SortField::Duration => missing_last(ma.duration_ms, mb.duration_ms, desc, |x, y| x.cmp(&y)),
    };
    by_value.then_with(|| a.key.cmp(&b.key))
}

fn directed(order: Ordering, descending: bool) -> Ordering {
    if descending {
        order.reverse()
    } else {
        order
    }
}

/// The title players show: the tag, or the name without one.
fn title(item: &MediaItem) -> &str {
    item.meta.title.as_deref().unwrap_or(&item.name)
}

/// Two optional values in `cmp`'s order (reversed when `descending`), a missing one last.
fn missing_last<T>(
    a: Option<T>,
    b: Option<T>,
    descending: bool,
    cmp: impl Fn(T, T) -> Ordering,
) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => directed(cmp(a, b), descending),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Text compared by lowercased characters (no allocation). Since UTF-8 keeps the order of
/// code points, this is also the byte order of the lowercased UTF-8.
pub fn text_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()));
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// The first 16 bytes of `text` lowercased (UTF-8), big-endian, zero-padded: when two
/// prefixes differ they order the texts as [`text_cmp`] does; when equal, compare in full.
fn text_prefix(text: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let mut at = 0;
    let mut utf8 = [0u8; 4];
    'fill: for c in text.chars().flat_map(char::to_lowercase) {
        for &b in c.encode_utf8(&mut utf8).as_bytes() {
            let Some(slot) = bytes.get_mut(at) else {
                break 'fill;
            };
            *slot = b;
            at += 1;
        }
    }
    u128::from_be_bytes(bytes)
}

/// The items of a snapshot in ascending order of one field.
#[derive(Debug)]
pub struct Order {
    /// Item indices, ascending (ties by key, that is by index); items without a value last.
    perm: Vec<u32>,
    /// How many items have a value (the first `with_value` of `perm`).
    with_value: usize,
    /// Positions in `perm` where a run of equal values starts.
    run_start: Bits,
}

impl Order {
    /// The order of `snap`'s items by `field` (not [`SortField::Key`], the snapshot's own).
    pub fn build(snap: &Snapshot, field: SortField) -> Order {
        let n = snap.items.len();
        let mut missing: Vec<u32> = Vec::new();
        let mut perm: Vec<u32>;
        let mut run_start = Bits::new(n);
        match field {
            SortField::Key | SortField::Size | SortField::Modified | SortField::Duration => {
                let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(n);
                for (i, item) in snap.items.iter().enumerate() {
                    let value = match field {
                        SortField::Size => Some(item.size),
                        SortField::Modified => item.modified_ms,
                        SortField::Duration => item.meta.duration_ms,
                        _ => None,
                    };
                    let i = index(i);
                    match value {
                        Some(v) => keyed.push((v, i)),
                        None => missing.push(i),
                    }
                }
                keyed.sort_unstable();
                for (at, pair) in keyed.windows(2).enumerate() {
                    if pair[0].0 != pair[1].0 {
                        run_start.set(at + 1);
                    }
                }
                perm = keyed.into_iter().map(|(_, i)| i).collect();
            }
            SortField::Name | SortField::Title | SortField::Artist | SortField::Album => {
                let text = |i: u32| -> Option<&str> {
                    let item: &MediaItem = &snap.items[i as usize];
                    match field {
                        SortField::Name => Some(&item.name),
                        SortField::Title => Some(title(item)),
                        SortField::Artist => item.meta.artist.as_deref(),
                        _ => item.meta.album.as_deref(),
                    }
                };
                let mut keyed: Vec<(u128, u32)> = Vec::with_capacity(n);
                for i in (0..n).map(index) {
                    match text(i) {
                        Some(t) => keyed.push((text_prefix(t), i)),
                        None => missing.push(i),
                    }
                }
                let full = |a: u32, b: u32| text_cmp(text(a).unwrap_or(""), text(b).unwrap_or(""));
                keyed.sort_unstable_by(|a, b| {
                    a.0.cmp(&b.0)
                        .then_with(|| full(a.1, b.1))
                        .then(a.1.cmp(&b.1))
                });
                for (at, pair) in keyed.windows(2).enumerate() {
                    if pair[0].0 != pair[1].0 || full(pair[0].1, pair[1].1).is_ne() {
                        run_start.set(at + 1);
                    }
                }
                perm = keyed.into_iter().map(|(_, i)| i).collect();
            }
        }
        let with_value = perm.len();
        if with_value > 0 {
            run_start.set(0);
        }
        perm.extend(missing);
        perm.shrink_to_fit();
        Order {
            perm,
            with_value,
            run_start,
        }
    }

    /// Item indices in this order (`descending`: largest value first, ties still by key,
    /// items without a value still last), the first `skip` of them skipped.
    pub fn iter(&self, descending: bool, skip: usize) -> Box<dyn Iterator<Item = usize> + '_> {
        let as_index = |&i: &u32| i as usize;
        if !descending {
            return Box::new(self.perm.iter().skip(skip).map(as_index));
        }
        if skip >= self.with_value {
            return Box::new(self.tail(skip));
        }
        let mut skip = skip;
        let mut end = self.with_value;
        let runs = std::iter::from_fn(move || loop {
            let start = self.run_start.prev_at_or_below(end.checked_sub(1)?)?;
            let run = start..end;
            end = start;
            if skip >= run.len() {
                // Whole runs are skipped without visiting their items.
                skip -= run.len();
                continue;
            }
            let run = run.start + skip..run.end;
            skip = 0;
            return Some(run);
        });
        let values = runs.flat_map(move |run| self.perm[run].iter().map(as_index));
        Box::new(values.chain(self.tail(self.with_value)))
    }

    /// The positions of `perm` from `from` on (the items without a value from `with_value`).
    fn tail(&self, from: usize) -> impl Iterator<Item = usize> + '_ {
        self.perm[from.min(self.perm.len())..]
            .iter()
            .map(|&i| i as usize)
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.perm.capacity() * 4 + self.run_start.bytes()
    }
}

/// An item index as stored (snapshots hold fewer than 2^32 items; see `Index::build`).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
