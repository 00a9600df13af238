//! The WebSocket messages: one enum per direction, tagged by `"type"`.
//!
//! Server to client: [`ServerMessage`]. The list is not re-serialised per client: `media_list`
//! carries the snapshot's items, serialised into one frame that the server shares between
//! the clients that ask for it while it is in use (`lan::hub`).
//!
//! Client to server: [`ClientMessage`], parsed by [`ClientMessage::parse`] (which also
//! accepts the seed's bare text `fetch_videos`) and refused with a [`WsRefusal`] otherwise.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{to_json, ErrorCode, ErrorInfo};
use crate::cache::CacheStats;
use std::sync::Arc;

use crate::catalog::MediaItem;
use crate::error::Error;

/// A message from the server.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage<'a> {
    /// The whole list: on connect, and in answer to `fetch_videos`.
    MediaList {
        /// The snapshot's generation.
        generation: u64,
        /// Number of items.
        count: usize,
        /// The items, as `GET /api/videos` sends them.
        items: &'a [Arc<MediaItem>],
    },
    /// The answer to `fetch_videos` with the current generation: the client has the list.
    #[serde(rename = "media_list")]
    MediaListUnchanged {
        /// The snapshot's generation (the one the client sent).
        generation: u64,
        /// Number of items.
        count: usize,
        /// Always `true`.
        unchanged: Unchanged,
    },
    /// What a client that connected with `/ws?list=none` gets on connect and in answer to
    /// `fetch_videos`: the generation and count only (it pages with `GET /api/videos`).
    #[serde(rename = "media_list")]
    MediaListPaged {
        /// The snapshot's generation.
        generation: u64,
        /// Number of items.
        count: usize,
        /// Always `true`: the items are not sent.
        paged: Paged,
    },
    /// One page of the list, for a client that connected with `/ws?list=pages`: the pages of
    /// one snapshot follow each other in order, `offset` 0 first, until `count` items came.
    MediaListPage {
        /// The snapshot's generation (the same on every page of one list).
        generation: u64,
        /// Number of items in the whole list.
        count: usize,
        /// Position of this page's first item in the list.
        offset: usize,
        /// The page's items, as `GET /api/videos` sends them.
        items: &'a [Arc<MediaItem>],
    },
    /// Pushed to everyone when a refresh changes the library.
    LibraryChanged {
        /// The new generation.
        generation: u64,
        /// Number of items now.
        count: usize,
        /// New items.
        added: &'a [Arc<MediaItem>],
        /// Ids of items that are gone.
        removed: &'a [String],
        /// Items whose size, ETag or modification time changed.
        changed: &'a [Arc<MediaItem>],
    },
    /// Refreshes started failing (`ok: false`, on connect too during an outage) or recovered.
    Status {
        /// Whether the last refresh succeeded.
        ok: bool,
        /// Its error, if it failed.
        error: Option<ErrorInfo>,
    },
    /// The last client message was not understood; the connection stays open.
    Error {
        /// Why.
        code: ErrorCode,
        /// A sentence.
        message: String,
    },
    /// The answer to `ping`.
    Pong,
    /// The answer to `stats`: the edge cache counters, as `GET /api/stats`.
    Stats {
        /// `None` without a cache.
        cache: Option<CacheStats>,
    },
    /// Pushed to everyone while the library reads tags and art (at most a few times a
    /// second), and once more when the scan ends; the same figures as `/api/health`'s `scan`.
    ScanProgress(ScanProgress),
}

/// How far the background scan of tags and art is, for `/api/health` and `scan_progress`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ScanProgress {
    /// Whether a scan is running.
    pub running: bool,
    /// Objects read (or failed) in this scan.
    pub done: u64,
    /// Objects this scan has to read (those not already known for their version).
    pub total: u64,
    /// Objects whose tags could not be read (they stay listed under their file name).
    pub failed: u64,
    /// Bytes fetched from the store for tags and art, since the start of the process.
    pub fetched_bytes: u64,
}

/// The `paged: true` of a `media_list` without items for a client that pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paged;

impl Serialize for Paged {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(true)
    }
}

/// The `unchanged: true` of a `media_list` without items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unchanged;

impl Serialize for Unchanged {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(true)
    }
}

impl ServerMessage<'_> {
    /// Every `type` the server sends.
    pub const TYPES: [&'static str; 8] = [
        "media_list",
        "media_list_page",
        "library_changed",
        "status",
        "error",
        "pong",
        "stats",
        "scan_progress",
    ];

    /// `status` for the last refresh: failed with `err`, or fine.
    pub fn status(err: Option<&Error>) -> ServerMessage<'static> {
        ServerMessage::Status {
            ok: err.is_none(),
            error: err.map(ErrorInfo::from),
        }
    }

    /// The JSON text of the frame.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// Why a client message was refused: the code and message of the `error` frame.
pub type WsRefusal = (ErrorCode, String);

impl From<WsRefusal> for ServerMessage<'static> {
    fn from((code, message): WsRefusal) -> Self {
        ServerMessage::Error { code, message }
    }
}

/// A message from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Refresh and send the list. `generation` is the one the client already has (the last
    /// list or change it got): when it is still current the answer carries no items. The bare
    /// text `fetch_videos` means the same without a generation.
    FetchVideos {
        /// Anything but a non-negative integer counts as absent.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "lenient_generation"
        )]
        generation: Option<u64>,
    },
    /// Answered with `pong`.
    Ping,
    /// Answered with `stats`.
    Stats,
}

/// A `generation` that is not a `u64` is ignored, not refused (the answer is then the list).
fn lenient_generation<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(serde_json::Value::deserialize(d)?.as_u64())
}

impl ClientMessage {
    /// Every `type` a client may send.
    pub const TYPES: [&'static str; 3] = ["fetch_videos", "ping", "stats"];

    /// Parses one text message of at most `max` bytes (pure; table-tested in
    /// `bucketstream_lan::ws`).
    pub fn parse(text: &str, max: usize) -> Result<ClientMessage, WsRefusal> {
        if text.len() > max {
            return Err((
                ErrorCode::TooLarge,
                format!(
                    "message of {} bytes exceeds the {max}-byte limit",
                    text.len()
                ),
            ));
        }
        let trimmed = text.trim();
        if trimmed == "fetch_videos" {
            return Ok(ClientMessage::FetchVideos { generation: None });
        }
        if !trimmed.starts_with('{') {
            return Err((
                ErrorCode::UnknownMessage,
                "expected \"fetch_videos\" or a JSON object with a \"type\"".into(),
            ));
        }
        let value: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| (ErrorCode::Malformed, format!("not valid JSON: {e}")))?;
        let Some(kind) = value.get("type").and_then(|t| t.as_str()) else {
            return Err((
                ErrorCode::Malformed,
                "a JSON message needs a string \"type\"".into(),
            ));
        };
        if !ClientMessage::TYPES.contains(&kind) {
            let shown: String = kind.chars().take(64).collect();
            return Err((
                ErrorCode::UnknownType,
                format!("unknown message type {shown:?}"),
            ));
        }
        ClientMessage::deserialize(&value)
            .map_err(|e| (ErrorCode::Malformed, format!("not a valid {kind:?}: {e}")))
    }
}
