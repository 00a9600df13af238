//! Running a [`Query`] over a [`Snapshot`] with its [`Index`]: select the matches as a set of
//! bits (one scan of the folded text for the longest word; the next words scanned too while
//! the candidates are many, then checked only on the remaining hits), count them (`total` is exact), then cut the page from the snapshot's key order
//! or by walking the field's [`Order`].
//!
//! Costs at N items: a query without words or filters is O(page); a filter is one pass over
//! 4 bytes an item; a word is one SIMD scan of the text plus one check per hit; a sorted page
//! walks the order up to its last item (a few small matches are sorted directly instead).

use std::time::Instant;

use memchr::memmem::Finder;

use super::bits::Bits;
use super::fold::fold_into;
use super::index::{Index, MAX_TEXT};
use super::order::compare;
use super::{Page, Query, SortField};
use crate::catalog::{MediaItem, Snapshot};
use crate::media::Kind;

/// Up to this many matches, a sorted page sorts the matches rather than walking the order
/// (which is then not built for such a query).
const SORT_DIRECTLY: usize = 4096;

/// While more than 1/DENSE of the items are candidates, the next word is found by its own
/// scan of the text (then the two sets are intersected) rather than checked on each
/// candidate: at 1,000,000 items a scan costs about what 200,000 checks do.
const DENSE: usize = 8;

/// The page of `snap` that `query` asks for (the snapshot's index is built at its first query).
/// A page in key order with no word and no filter (what a client asks first, and what a
/// restart is timed by) needs no index: it is cut straight from the snapshot.
pub fn run<'a>(snap: &'a Snapshot, query: &Query) -> Page<'a> {
    if needs_no_index(query) {
        return plain(snap, query);
    }
    run_with(snap, index_of(snap), query, SORT_DIRECTLY)
}

/// The index of `snap`, built now if it was not yet.
pub(crate) fn index_of(snap: &Snapshot) -> &Index {
    snap.index.get_or_init(|| {
        let started = Instant::now();
        let index = Index::build(snap, MAX_TEXT);
        tracing::info!(
            items = snap.items.len(),
            bytes = index.bytes(),
            ms = started.elapsed().as_millis() as u64,
            generation = snap.generation,
            text_indexed = index.text().is_some(),
            "search index built"
        );
        index
    })
}

/// Whether `query` is a page in key order of every item.
fn needs_no_index(query: &Query) -> bool {
    query.words.is_empty()
        && query.folder.is_none()
        && query.under.is_none()
        && query.kind.is_none()
        && query.sort.field == SortField::Key
}

/// The page of a query that [`needs_no_index`]: a range of the key-sorted snapshot.
fn plain<'a>(snap: &'a Snapshot, query: &Query) -> Page<'a> {
    let total = snap.items.len();
    let start = query.offset.min(total);
    let end = query.offset.saturating_add(query.limit).min(total);
    let items = if query.sort.descending {
        snap.items[total - end..total - start]
            .iter()
            .rev()
            .map(|item| &**item)
            .collect()
    } else {
        snap.items[start..end].iter().map(|item| &**item).collect()
    };
    Page {
        total,
        items,
        generation: snap.generation,
    }
}

/// [`run`] with this index, sorting up to `sort_directly` matches rather than walking an order.
pub(super) fn run_with<'a>(
    snap: &'a Snapshot,
    index: &Index,
    query: &Query,
    sort_directly: usize,
) -> Page<'a> {
    let (set, total) = select(snap, index, query);
    let ids = if query.offset >= total {
        Vec::new()
    } else {
        page(snap, index, set.as_ref(), total, query, sort_directly)
    };
    let items = ids
        .into_iter()
        .map(|i| {
            let item: &MediaItem = &snap.items[i];
            item
        })
        .collect();
    Page {
        total,
        items,
        generation: snap.generation,
    }
}

/// The matching items (`None`: all of them) and how many.
fn select(snap: &Snapshot, index: &Index, query: &Query) -> (Option<Bits>, usize) {
    let n = snap.items.len();
    let folders = index.folders(snap, query.folder.as_deref(), query.under.as_deref());
    let passes = |i: usize| {
        query
            .kind
            .is_none_or(|kind| index.video.get(i) == (kind == Kind::Video))
            && folders
                .as_ref()
                .is_none_or(|set| set.get(index.folder_of[i] as usize))
    };
    let filtered = query.kind.is_some() || folders.is_some();
    if query.words.is_empty() && !filtered {
        return (None, n);
    }
    let filter_set = || {
        let mut set = Bits::new(n);
        (0..n).filter(|&i| passes(i)).for_each(|i| set.set(i));
        set
    };
    if query.words.is_empty() {
        let set = filter_set();
        let total = set.count();
        return (Some(set), total);
    }
    let mut words = Words::new(index, &query.words);
    let mut matches = Bits::new(n);
    let mut total = 0;
    let mut keep = |i: usize, checked: usize, words: &mut Words| {
        if words.all_from(snap, index, i, checked) {
            matches.set(i);
            total += 1;
        }
    };
    let selective = filtered && {
        let set = filter_set();
        // Few items pass the filters: check the words on those only.
        if set.count() <= n / 8 || index.text().is_none() {
            set.iter_from(0).for_each(|i| keep(i, 0, &mut words));
            true
        } else {
            false
        }
    };
    if !selective {
        match words.dense_hits(index, n) {
            // Every word scanned and no filter: the hits are the matches.
            Some((hits, checked)) if !filtered && checked == words.finders.len() => {
                let total = hits.count();
                return (Some(hits), total);
            }
            Some((hits, checked)) => hits
                .iter_from(0)
                .filter(|&i| passes(i))
                .for_each(|i| keep(i, checked, &mut words)),
            None => (0..n)
                .filter(|&i| passes(i))
                .for_each(|i| keep(i, 0, &mut words)),
        }
    }
    (Some(matches), total)
}

/// The words of a query, longest first (the longest is usually the rarest: its hits are
/// the candidates the others are checked on).
struct Words {
    finders: Vec<Finder<'static>>,
    /// Per word, the folders whose text holds it (with an index).
    folder_hits: Vec<Bits>,
    /// Without an index: item by item folding.
    slow: Option<TextMatch>,
}

impl Words {
    fn new(index: &Index, words: &[String]) -> Words {
        let mut words: Vec<&String> = words.iter().collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let finders: Vec<Finder<'static>> = words
            .iter()
            .map(|w| index.ranks.finder(w.as_bytes()))
            .collect();
        match index.text() {
            Some((_, folder_text)) => Words {
                folder_hits: finders.iter().map(|f| folder_text.hits(f)).collect(),
                finders,
                slow: None,
            },
            None => Words {
                slow: Some(TextMatch::new(finders.clone())),
                finders,
                folder_hits: Vec::new(),
            },
        }
    }

    /// The items holding the first words (in their text or their folder's), each word after
    /// the first scanned while the candidates are dense (more than `n / DENSE` of `n`), and
    /// how many words that was (the others are to be checked on the candidates).
    fn dense_hits(&self, index: &Index, n: usize) -> Option<(Bits, usize)> {
        let mut hits = self.hits(index, 0)?;
        let mut scanned = 1;
        while scanned < self.finders.len() && hits.count() > n / DENSE {
            hits.and(&self.hits(index, scanned)?);
            scanned += 1;
        }
        Some((hits, scanned))
    }

    /// The items holding word `k` (in their text or their folder's).
    fn hits(&self, index: &Index, k: usize) -> Option<Bits> {
        let (text, _) = index.text()?;
        let (finder, folders) = (self.finders.get(k)?, self.folder_hits.get(k)?);
        let mut hits = text.hits(finder);
        if !folders.is_empty() {
            for (i, &f) in index.folder_of.iter().enumerate() {
                if folders.get(f as usize) {
                    hits.set(i);
                }
            }
        }
        Some(hits)
    }

    /// Whether item `i` holds every word from the `from`-th on.
    fn all_from(&mut self, snap: &Snapshot, index: &Index, i: usize, from: usize) -> bool {
        if let Some(slow) = self.slow.as_mut() {
            return slow.matches(&snap.items[i]);
        }
        let Some((text, _)) = index.text() else {
            return false;
        };
        let folder = index.folder_of[i] as usize;
        let own = text.segment(i);
        self.finders
            .iter()
            .zip(&self.folder_hits)
            .skip(from)
            .all(|(finder, folders)| folders.get(folder) || finder.find(own).is_some())
    }
}

/// The item indices of the page: from the key order, or along the sort field's order.
fn page(
    snap: &Snapshot,
    index: &Index,
    set: Option<&Bits>,
    total: usize,
    query: &Query,
    sort_directly: usize,
) -> Vec<usize> {
    let (offset, limit) = (query.offset, query.limit);
    let descending = query.sort.descending;
    match (query.sort.field, set) {
        (SortField::Key, None) => {
            let end = offset.saturating_add(limit).min(total);
            if descending {
                (total - end..total - offset).rev().collect()
            } else {
                (offset..end).collect()
            }
        }
        (SortField::Key, Some(set)) if descending => {
            set.iter_rev_from(offset).take(limit).collect()
        }
        (SortField::Key, Some(set)) => set.iter_from(offset).take(limit).collect(),
        (_, Some(set)) if total <= sort_directly => {
            let mut ids: Vec<usize> = set.iter_from(0).collect();
            let end = offset.saturating_add(limit).min(total);
            let cmp = |a: &usize, b: &usize| compare(query.sort, &snap.items[*a], &snap.items[*b]);
            if end < total {
                ids.select_nth_unstable_by(end - 1, cmp);
            }
            ids.truncate(end);
            ids.sort_unstable_by(cmp);
            ids.drain(offset..).collect()
        }
        (field, None) => index
            .order(snap, field)
            .iter(descending, offset)
            .take(limit)
            .collect(),
        (field, Some(set)) => index
            .order(snap, field)
            .iter(descending, 0)
            .filter(|&i| set.get(i))
            .skip(offset)
            .take(limit)
            .collect(),
    }
}

/// Item by item matching: every word in the item's folded searchable text (name, folder,
/// title, artist, album, each followed by `\n`, so no word spans two fields). What a search
/// does when the text is not indexed, and the tests' reference.
pub(super) struct TextMatch {
    finders: Vec<Finder<'static>>,
    /// The folded text of the item at hand (reused, so a search allocates once).
    buf: Vec<u8>,
}

impl TextMatch {
    /// A matcher for these words.
    pub(super) fn new(finders: Vec<Finder<'static>>) -> TextMatch {
        TextMatch {
            finders,
            buf: Vec::with_capacity(1024),
        }
    }

    /// Whether `item` holds every word.
    pub(super) fn matches(&mut self, item: &MediaItem) -> bool {
        if self.finders.is_empty() {
            return true;
        }
        self.buf.clear();
        let meta = &item.meta;
        let fields = [
            Some(&*item.name),
            Some(&*item.folder),
            meta.title.as_deref(),
            meta.artist.as_deref(),
            meta.album.as_deref(),
        ];
        for field in fields.into_iter().flatten() {
            fold_into(field, &mut self.buf);
            self.buf.push(b'\n');
        }
        self.finders.iter().all(|f| f.find(&self.buf).is_some())
    }
}
