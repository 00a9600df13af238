//! Running a [`Query`] over a [`Snapshot`]: filter, count, then order only what the page
//! needs (a partial selection, so the first page of a million matches costs one pass and a
//! small sort, not a full sort).

use std::cmp::Ordering;
use std::sync::Arc;

use memchr::memmem::Finder;

use super::fold::fold_into;
use super::{Page, Query, Sort, SortField};
use crate::catalog::{MediaItem, Snapshot};

/// The page of `snap` that `query` asks for.
pub fn run<'a>(snap: &'a Snapshot, query: &Query) -> Page<'a> {
    let mut text = TextMatch::new(&query.words);
    if query.sort == Sort::default() {
        // Key order is the snapshot's: count, keeping only the page (no list of matches).
        let mut total = 0;
        let mut items = Vec::new();
        for item in &snap.items {
            if filters(item, query) && text.matches(item) {
                if total >= query.offset && items.len() < query.limit {
                    items.push(item.as_ref());
                }
                total += 1;
            }
        }
        return Page {
            total,
            items,
            generation: snap.generation,
        };
    }
    let mut matches: Vec<&MediaItem> = snap
        .items
        .iter()
        .map(Arc::as_ref)
        .filter(|item| filters(item, query) && text.matches(item))
        .collect();
    let total = matches.len();
    let start = query.offset.min(total);
    let end = query.offset.saturating_add(query.limit).min(total);
    let items = match query.sort {
        Sort {
            field: SortField::Key,
            descending: true,
        } => matches[total - end..total - start]
            .iter()
            .rev()
            .copied()
            .collect(),
        sort => {
            let cmp = |a: &&MediaItem, b: &&MediaItem| compare(sort, a, b);
            if end > 0 && end < total {
                matches.select_nth_unstable_by(end - 1, cmp);
            }
            matches.truncate(end);
            matches.sort_unstable_by(cmp);
            matches.drain(start..).collect()
        }
    };
    Page {
        total,
        items,
        generation: snap.generation,
    }
}

/// The cheap filters: kind and folder.
fn filters(item: &MediaItem, query: &Query) -> bool {
    query.kind.is_none_or(|kind| item.kind == kind)
        && query.folder.as_deref().is_none_or(|f| &*item.folder == f)
        && query
            .under
            .as_deref()
            .is_none_or(|u| is_under(&item.folder, u))
}

/// Whether `folder` is `under` or below it (everything is under `""`).
fn is_under(folder: &str, under: &str) -> bool {
    under.is_empty()
        || folder
            .strip_prefix(under)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The text filter: every word in the item's folded searchable text.
struct TextMatch {
    finders: Vec<Finder<'static>>,
    /// The folded text of the item at hand (reused, so a search allocates once).
    buf: Vec<u8>,
}

impl TextMatch {
    fn new(words: &[String]) -> TextMatch {
        TextMatch {
            finders: words
                .iter()
                .map(|w| Finder::new(w.as_bytes()).into_owned())
                .collect(),
            buf: Vec::with_capacity(1024),
        }
    }

    fn matches(&mut self, item: &MediaItem) -> bool {
        if self.finders.is_empty() {
            return true;
        }
        self.buf.clear();
        let meta = &item.meta;
        let fields = [
            Some(item.name.as_str()),
            Some(&*item.folder),
            meta.title.as_deref(),
            meta.artist.as_deref(),
            meta.album.as_deref(),
        ];
        for field in fields.into_iter().flatten() {
            fold_into(field, &mut self.buf);
            // Words never hold a newline, so no match spans two fields.
            self.buf.push(b'\n');
        }
        self.finders.iter().all(|f| f.find(&self.buf).is_some())
    }
}

/// `a` against `b` in `sort`'s order: missing values last in both directions, ties by key.
fn compare(sort: Sort, a: &MediaItem, b: &MediaItem) -> Ordering {
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

/// Text compared by lowercased characters (no allocation).
fn text_cmp(a: &str, b: &str) -> Ordering {
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
