//! How a WebSocket client wants the list (`/ws?list=…`), and the pages of it for those that
//! ask for pages, so that a 1,000,000-item library never travels as one 528 MB frame.
//!
//! - no `list` (or `list=whole`): the whole list in one `media_list`, as the seed did;
//! - `list=none`: `media_list` with `generation`, `count` and `paged: true`, no items; the
//!   client pages with `GET /api/videos` (what the player does above `lan.paging_threshold`);
//! - `list=pages` (`&page=N`, 1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`]): the list as
//!   `media_list_page` frames of N items cut from one snapshot, each serialised only when the
//!   previous one has left the outbox ([`PageCursor`]), never the whole list in one buffer.
//!
//! [`parse`] is pure (table-tested); the handler answers a refusal with `400 bad_query`
//! before the upgrade. Parameters other than `list` and `page` are left to others (the access
//! key travels in the query too).

use std::sync::Arc;

use bucketstream_core::catalog::Snapshot;
use bucketstream_core::wire::{Paged, ServerMessage, Unchanged};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::ServerState;

/// Items per `media_list_page` when `page` is not given.
pub const DEFAULT_PAGE: usize = 5_000;
/// The largest `page`: 10,000 items are about 5 MB of JSON, the outbox's bound.
pub const MAX_PAGE: usize = 10_000;

/// How the list is sent on connect and in answer to `fetch_videos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListMode {
    /// The whole list in one frame (the default: the seed's protocol).
    #[default]
    Whole,
    /// Only the generation and the count.
    None,
    /// The list in pages of this many items.
    Pages(usize),
}

/// Reads `list` and `page` from the WebSocket URL's query pairs; the error is the
/// `bad_query` message (a value unknown or out of range, one of them twice, `page` without
/// `list=pages`).
pub fn parse(pairs: &[(String, String)]) -> Result<ListMode, String> {
    let mut list = None;
    let mut page = None;
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "list" => &mut list,
            "page" => &mut page,
            _ => continue,
        };
        if slot.replace(value.as_str()).is_some() {
            return Err(format!("{name} is given twice"));
        }
    }
    let mode = match list {
        None | Some("whole") => ListMode::Whole,
        Some("none") => ListMode::None,
        Some("pages") => ListMode::Pages(DEFAULT_PAGE),
        Some(other) => {
            let shown: String = other.chars().take(32).collect();
            return Err(format!("list must be whole, none or pages, not {shown:?}"));
        }
    };
    let Some(page) = page else {
        return Ok(mode);
    };
    if mode != ListMode::Pages(DEFAULT_PAGE) {
        return Err("page is only for list=pages".into());
    }
    match page.parse::<usize>() {
        Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(ListMode::Pages(n)),
        _ => Err(format!("page must be a whole number from 1 to {MAX_PAGE}")),
    }
}

/// What the list costs on connect, on `fetch_videos` (`known`: the generation the client
/// says it has) and on a resynchronisation, in `mode`: a frame, or pages to send.
pub(super) fn list_for(
    state: &ServerState,
    mode: ListMode,
    known: Option<u64>,
) -> (Option<Message>, Option<PageCursor>) {
    let snap = state.library.snapshot();
    if known == Some(snap.generation) && snap.refreshed_at.is_some() && mode != ListMode::None {
        let frame = text(&ServerMessage::MediaListUnchanged {
            generation: snap.generation,
            count: snap.items.len(),
            unchanged: Unchanged,
        });
        return (Some(frame), None);
    }
    match mode {
        ListMode::Whole => (Some(Message::Text(state.hub.media_list())), None),
        ListMode::None => {
            let frame = text(&ServerMessage::MediaListPaged {
                generation: snap.generation,
                count: snap.items.len(),
                paged: Paged,
            });
            (Some(frame), None)
        }
        ListMode::Pages(page) => (None, Some(PageCursor::new(snap, page))),
    }
}

fn text(message: &ServerMessage<'_>) -> Message {
    Message::Text(Utf8Bytes::from(message.to_json()))
}

/// The pages of one snapshot still to send to one client.
pub struct PageCursor {
    snap: Arc<Snapshot>,
    page: usize,
    next: usize,
    done: bool,
}

impl PageCursor {
    /// The pages of `snap`, `page` items each (an empty library is one empty page).
    pub fn new(snap: Arc<Snapshot>, page: usize) -> PageCursor {
        PageCursor {
            snap,
            page: page.max(1),
            next: 0,
            done: false,
        }
    }

    /// Whether every page went.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next page's frame, or `None` when every page went.
    pub fn next_frame(&mut self) -> Option<String> {
        if self.done {
            return None;
        }
        let items = &self.snap.items;
        let (start, end) = page_range(items.len(), self.next, self.page);
        self.next = end;
        self.done = end >= items.len();
        let slice = items.get(start..end).unwrap_or(&[]);
        Some(
            ServerMessage::MediaListPage {
                generation: self.snap.generation,
                count: items.len(),
                offset: start,
                items: slice,
            }
            .to_json(),
        )
    }
}

/// The range of the page starting at `offset` of `page` items in a list of `len` (pure).
pub fn page_range(len: usize, offset: usize, page: usize) -> (usize, usize) {
    let start = offset.min(len);
    (start, start.saturating_add(page).min(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn list_mode_table() {
        let ok: &[(&[(&str, &str)], ListMode)] = &[
            (&[], ListMode::Whole),
            (&[("key", "abc")], ListMode::Whole),
            (&[("list", "whole")], ListMode::Whole),
            (&[("list", "none")], ListMode::None),
            (&[("list", "pages")], ListMode::Pages(DEFAULT_PAGE)),
            (&[("list", "pages"), ("page", "1")], ListMode::Pages(1)),
            (&[("page", "250"), ("list", "pages")], ListMode::Pages(250)),
            (
                &[("list", "pages"), ("page", "10000")],
                ListMode::Pages(MAX_PAGE),
            ),
        ];
        for (q, want) in ok {
            assert_eq!(parse(&pairs(q)), Ok(*want), "{q:?}");
        }
        let bad: &[&[(&str, &str)]] = &[
            &[("list", "")],
            &[("list", "None")],
            &[("list", "all")],
            &[("list", "none"), ("list", "none")],
            &[("list", "pages"), ("page", "0")],
            &[("list", "pages"), ("page", "10001")],
            &[("list", "pages"), ("page", "-1")],
            &[("list", "pages"), ("page", "1e3")],
            &[("list", "pages"), ("page", "")],
            &[("list", "pages"), ("page", "5"), ("page", "5")],
            &[("list", "none"), ("page", "5")],
            &[("page", "5")],
        ];
        for q in bad {
            assert!(parse(&pairs(q)).is_err(), "{q:?}");
        }
    }

    #[test]
    fn page_range_table() {
        let cases = [
            ((0, 0, 5), (0, 0)),
            ((12, 0, 5), (0, 5)),
            ((12, 5, 5), (5, 10)),
            ((12, 10, 5), (10, 12)),
            ((12, 12, 5), (12, 12)),
            ((12, 99, 5), (12, 12)),
            ((3, 0, usize::MAX), (0, 3)),
        ];
        for ((len, offset, page), want) in cases {
            assert_eq!(page_range(len, offset, page), want, "{len} {offset} {page}");
        }
    }
}
