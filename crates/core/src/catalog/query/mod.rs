//! Paging and searching the library on the server (`GET /api/videos?limit=…&q=…`), so a
//! client of a 1,000,000-item library fetches one page instead of the whole list.
//!
//! Decide, then render: [`parse`] turns the query string's pairs into a typed [`Query`] (or a
//! refusal), [`run`] applies it to a [`Snapshot`] (a pure function: no I/O, no lock), and the
//! handler serialises the [`Page`]. The first query of a snapshot builds its search index
//! (`index`: the folded text of every item in one buffer, folder ids, kinds; about 25 to 100
//! bytes an item), and each sort order is built at the first query sorted by it (`order`: 4
//! bytes an item), so a search is one SIMD scan and a sorted page a walk, not a sort.
//!
//! Parameters (any one of them makes the answer a page, `{total, items, generation}`):
//! - `limit`: items per page, 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
//! - `offset`: items to skip (default 0; past the end gives an empty page).
//! - `q`: words separated by whitespace, each of which must occur (as a substring) in the
//!   folded text of the item's title, artist, album, name or folder; folding is NFKD,
//!   combining marks dropped, lowercase, so the search ignores case and accents. At most
//!   [`MAX_Q_BYTES`] bytes and [`MAX_WORDS`] words.
//! - `folder`: only items directly in this folder (`""` is the top); `under`: items in this
//!   folder or any folder below it. Leading and trailing `/` are ignored.
//! - `kind`: `audio` or `video`.
//! - `sort`: `key` (default), `name`, `title`, `artist`, `album`, `modified`, `size`,
//!   `duration`, with a leading `-` for descending. Text sorts compare lowercased characters;
//!   `title` falls back to the name (what players show); items without the value (no artist,
//!   unknown duration…) come last in both directions; ties are broken by key, ascending.
//!
//! A parameter given twice, a value out of range or unknown, and an unknown parameter next
//! to these are refused ([`BadQuery`]); a query string with none of them (say a cache
//! buster) keeps the seed's answer, the whole array.

mod bits;
pub mod fold;
mod index;
#[cfg(test)]
mod index_tests;
mod order;
mod parse;
pub(crate) mod run;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use index::Index;
pub use parse::parse;
pub use run::run;

use super::MediaItem;
use crate::media::Kind;

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `limit`.
pub const MAX_LIMIT: usize = 1000;
/// The longest `q`, in bytes (a search box, not a document).
pub const MAX_Q_BYTES: usize = 512;
/// The most words in `q`.
pub const MAX_WORDS: usize = 16;

/// The parameters that make `/api/videos` answer a page.
pub const PARAMS: [&str; 7] = ["limit", "offset", "q", "folder", "under", "kind", "sort"];

/// A parsed page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Items per page (1..=[`MAX_LIMIT`]).
    pub limit: usize,
    /// Matching items skipped before the page.
    pub offset: usize,
    /// Folded words, each of which must occur in the item's folded text: none empty, none
    /// holding whitespace (what [`parse`] makes; a word spanning two fields never matches).
    pub words: Vec<String>,
    /// Only items directly in this folder.
    pub folder: Option<String>,
    /// Only items in this folder or below.
    pub under: Option<String>,
    /// Only items of this kind.
    pub kind: Option<Kind>,
    /// The order.
    pub sort: Sort,
}

impl Default for Query {
    /// The first page of everything, by key.
    fn default() -> Query {
        Query {
            limit: DEFAULT_LIMIT,
            offset: 0,
            words: Vec::new(),
            folder: None,
            under: None,
            kind: None,
            sort: Sort::default(),
        }
    }
}

/// What to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// The object key (the snapshot's own order).
    #[default]
    Key,
    /// The display name (file name without extension).
    Name,
    /// The title tag, or the name without one.
    Title,
    /// The artist tag.
    Artist,
    /// The album tag.
    Album,
    /// Last modification.
    Modified,
    /// Size in bytes.
    Size,
    /// Duration.
    Duration,
}

impl SortField {
    /// Every field with its name in `sort`.
    pub const NAMES: [(&'static str, SortField); 8] = [
        ("key", SortField::Key),
        ("name", SortField::Name),
        ("title", SortField::Title),
        ("artist", SortField::Artist),
        ("album", SortField::Album),
        ("modified", SortField::Modified),
        ("size", SortField::Size),
        ("duration", SortField::Duration),
    ];
}

/// An order: a field and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    /// The field.
    pub field: SortField,
    /// Largest first.
    pub descending: bool,
}

/// A refused parameter: what to tell the client (`bad_query`, 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuery(pub String);

impl std::fmt::Display for BadQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One page of matches: the body of a paged `/api/videos`.
#[derive(Debug, Serialize)]
pub struct Page<'a> {
    /// Matching items before paging.
    pub total: usize,
    /// The page's items, in order.
    pub items: Vec<&'a MediaItem>,
    /// The library generation the page was cut from.
    pub generation: u64,
}
