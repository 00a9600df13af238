//! `GET /api/items/{id}/subtitles` and `GET /subtitles/{id}/{sub}.vtt`: a video's subtitle
//! tracks, and each one as WebVTT for the player's `<track>`.
//!
//! Sidecar files come from the snapshot, which keeps every listed subtitle file aside
//! ([`bucketstream_core::catalog::Snapshot::subtitles`]), so finding them costs no request to
//! the source. Text tracks inside a video are listed by ffprobe reading this server's own
//! loopback `/media` URL (the header only, ranged reads through the edge cache), once per
//! item version. Conversions run on the host (a sidecar read from the source and converted by
//! [`bucketstream_transcode::subtitle::to_webvtt`]; an embedded track extracted by ffmpeg),
//! once per item version and track: their WebVTT is kept in a bounded folder ([`store`]).
//! `?offset=SECONDS` moves the cues for a stream that starts that far into the film.
//!
//! Each handler decides an [`Answer`]; [`render`] alone turns it into HTTP.

mod store;
mod tools;

use std::collections::HashMap;
use std::path::Path as FsPath;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::api::error_body;
use super::ServerState;
use bucketstream_core::catalog::item::looks_like_id;
use bucketstream_core::catalog::MediaItem;
use bucketstream_core::error::{Error, ErrorCode};
use bucketstream_core::media::Kind;
use bucketstream_core::source::ObjectMeta;
use bucketstream_core::wire::ErrorBody;
use bucketstream_transcode::subtitle::{
    self, embedded_tracks, parse_ref, EmbeddedTrack, Format, Sidecar, Track, TrackRef,
};

/// Longest an embedded track's extraction may take: ffmpeg reads the whole video for it
/// (subtitle packets are spread through the file), through the edge cache.
const EXTRACT_TIMEOUT: Duration = Duration::from_secs(600);
/// Embedded track lists kept in memory (one per item version); emptied when full.
const MAX_LISTS: usize = 4096;
/// Largest `?offset=` accepted, in seconds (a week).
const MAX_OFFSET_SECS: f64 = 7.0 * 24.0 * 3600.0;

/// Why a subtitle request fails.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SubtitleError {
    /// The item id is unknown.
    #[error("no such media item")]
    NoItem,
    /// The item has no such track.
    #[error("no such subtitle track")]
    NoTrack,
    /// A query parameter that is refused.
    #[error("{0}")]
    BadQuery(String),
    /// The file or track cannot be read as subtitles (or ffmpeg is missing or failed).
    #[error("the subtitles cannot be read: {0}")]
    Unreadable(String),
    /// The source failed reading a sidecar file.
    #[error("{0}")]
    Source(Arc<Error>),
}

impl SubtitleError {
    /// The error's `{code, message}`.
    pub fn body(&self) -> ErrorBody {
        let code = match self {
            SubtitleError::NoItem | SubtitleError::NoTrack => ErrorCode::NotFound,
            SubtitleError::BadQuery(_) => ErrorCode::BadQuery,
            SubtitleError::Unreadable(_) => ErrorCode::SubtitleUnreadable,
            SubtitleError::Source(err) => return ErrorBody::from(&**err),
        };
        ErrorBody::new(code, self.to_string())
    }
}

/// What a request gets.
#[derive(Debug)]
pub enum Answer {
    /// The tracks of a video (empty for audio or a video without any).
    List(Vec<Track>),
    /// One track as WebVTT; `hit` when it came from the folder of conversions.
    Vtt {
        /// The document.
        text: String,
        /// Served from the store, no conversion run.
        hit: bool,
    },
    /// The request failed.
    Failed(SubtitleError),
}

/// The one place an [`Answer`] becomes HTTP.
pub fn render(answer: Answer) -> Response {
    let (mut resp, cache) = match answer {
        Answer::List(tracks) => (Json(tracks).into_response(), None),
        Answer::Vtt { text, hit } => {
            let mut resp = text.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/vtt; charset=utf-8"),
            );
            (resp, Some(if hit { "hit" } else { "miss" }))
        }
        Answer::Failed(err) => return error_body(&err.body()),
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(cache) = cache {
        h.insert("x-subtitle-cache", HeaderValue::from_static(cache));
    }
    resp
}

/// A conversion under way, shared by the requests that wait for it.
type Conversion = OnceCell<Result<Arc<str>, SubtitleError>>;

/// The server's subtitle state: embedded track lists and the converted WebVTT.
pub struct Subtitles {
    store: store::VttStore,
    /// Embedded text tracks per item version (`id` and ETag), as ffprobe found them.
    embedded: Mutex<HashMap<String, Arc<Vec<EmbeddedTrack>>>>,
    /// Conversions under way, by store name: a second request for one waits for it.
    running: Mutex<HashMap<String, Arc<Conversion>>>,
}

impl Subtitles {
    /// Subtitle state keeping its conversions in `data_dir/subtitles`.
    pub fn new(data_dir: &FsPath) -> Subtitles {
        Subtitles {
            store: store::VttStore::new(data_dir.join("subtitles"), store::MAX_BYTES),
            embedded: Mutex::default(),
            running: Mutex::default(),
        }
    }

    /// The text tracks inside `item` (empty when it cannot hold any, the server's own URL is
    /// not known, or ffprobe fails: a video still plays without its subtitles).
    async fn embedded(&self, state: &ServerState, item: &MediaItem) -> Arc<Vec<EmbeddedTrack>> {
        let Some(base) = state
            .media_base
            .get()
            .filter(|_| tools::may_hold_text(&item.key))
        else {
            return Arc::default();
        };
        let key = format!("{}\0{}", item.id, item.etag.as_deref().unwrap_or(""));
        if let Some(hit) = self.lists().get(&key) {
            return hit.clone();
        }
        let url = format!("{base}{}", item.url());
        let timeout = state.library.config().library.probe_timeout;
        let tracks = match tools::probe(&url, timeout).await {
            Ok(json) => Arc::new(embedded_tracks(&json)),
            Err(err) => {
                tracing::warn!(id = %item.id, error = %err, "cannot list the subtitle tracks");
                return Arc::default();
            }
        };
        let mut lists = self.lists();
        if lists.len() >= MAX_LISTS {
            lists.clear();
        }
        lists.insert(key, tracks.clone());
        tracks
    }

    fn lists(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Vec<EmbeddedTrack>>>> {
        self.embedded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The WebVTT stored as `name`, or made by `convert` (once, however many ask) and stored;
    /// with whether it was stored already.
    async fn webvtt(
        &self,
        name: &str,
        convert: impl std::future::Future<Output = Result<String, SubtitleError>>,
    ) -> Result<(Arc<str>, bool), SubtitleError> {
        if let Some(text) = self.store.get(name).await {
            return Ok((text, true));
        }
        let cell = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name.to_owned())
            .or_default()
            .clone();
        let result = cell
            .get_or_init(|| async {
                let text: Arc<str> = Arc::from(convert.await?);
                self.store.put(name, &text).await;
                Ok(text)
            })
            .await
            .clone();
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.get(name).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            running.remove(name);
        }
        result.map(|text| (text, false))
    }
}

/// A video and its subtitle tracks.
struct Found {
    item: MediaItem,
    /// Sidecars in key order, each with its listed object.
    sidecars: Vec<(Sidecar, ObjectMeta)>,
    embedded: Arc<Vec<EmbeddedTrack>>,
}

/// The item `id` and its tracks.
async fn found(state: &ServerState, id: &str) -> Result<Found, SubtitleError> {
    if !looks_like_id(id) {
        return Err(SubtitleError::NoItem);
    }
    let snap = state.library.snapshot();
    let item = snap.get(id).cloned().ok_or(SubtitleError::NoItem)?;
    if item.kind != Kind::Video {
        return Ok(Found {
            item,
            sidecars: Vec::new(),
            embedded: Arc::default(),
        });
    }
    let files = &snap.subtitles;
    let sidecars = subtitle::sidecars(&item.key, files.iter().map(|o| o.key.as_str()))
        .into_iter()
        .filter_map(|s| {
            let at = files
                .binary_search_by(|o| o.key.as_str().cmp(&s.key))
                .ok()?;
            Some((s, files[at].clone()))
        })
        .collect();
    drop(snap);
    let embedded = state.subtitles.embedded(state, &item).await;
    Ok(Found {
        item,
        sidecars,
        embedded,
    })
}

/// `GET /api/items/{id}/subtitles`.
pub async fn list(State(state): State<ServerState>, Path(id): Path<String>) -> Response {
    render(match found(&state, &id).await {
        Ok(found) => {
            let sidecars: Vec<Sidecar> = found.sidecars.into_iter().map(|(s, _)| s).collect();
            Answer::List(subtitle::list(&sidecars, &found.embedded))
        }
        Err(err) => Answer::Failed(err),
    })
}

/// `GET /subtitles/{id}/{sub}.vtt[?offset=SECONDS]`.
pub async fn vtt(
    State(state): State<ServerState>,
    Path((id, track)): Path<(String, String)>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    render(match vtt_answer(&state, &id, &track, params).await {
        Ok(answer) => answer,
        Err(err) => Answer::Failed(err),
    })
}

async fn vtt_answer(
    state: &ServerState,
    id: &str,
    track: &str,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Answer, SubtitleError> {
    let pairs = params
        .map_err(|r| SubtitleError::BadQuery(r.body_text()))?
        .0;
    let offset_ms = parse_offset(&pairs).map_err(SubtitleError::BadQuery)?;
    let wanted = track
        .strip_suffix(".vtt")
        .and_then(parse_ref)
        .ok_or(SubtitleError::NoTrack)?;
    let found = found(state, id).await?;
    let mut hasher = Sha256::new();
    for part in [
        "bucketstream-subtitle-1",
        found.item.id.as_str(),
        found.item.etag.as_deref().unwrap_or(""),
        &found.item.size.to_string(),
        track,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let (text, hit) = match wanted {
        TrackRef::Sidecar(n) => {
            let (sidecar, obj) = found.sidecars.get(n).ok_or(SubtitleError::NoTrack)?;
            for part in [obj.key.as_str(), obj.etag.as_deref().unwrap_or("")] {
                hasher.update(part.as_bytes());
                hasher.update([0]);
            }
            hasher.update(obj.size.to_le_bytes());
            let name = hex::encode(hasher.finalize());
            state
                .subtitles
                .webvtt(&name, read_sidecar(state, obj, sidecar.format))
                .await?
        }
        TrackRef::Embedded(n) => {
            if !found.embedded.iter().any(|t| t.index == n) {
                return Err(SubtitleError::NoTrack);
            }
            let base = state.media_base.get().ok_or(SubtitleError::NoTrack)?;
            let url = format!("{base}{}", found.item.url());
            let name = hex::encode(hasher.finalize());
            state
                .subtitles
                .webvtt(&name, tools::extract(url, n, EXTRACT_TIMEOUT))
                .await?
        }
    };
    Ok(Answer::Vtt {
        text: subtitle::shift(&text, offset_ms),
        hit,
    })
}

/// A sidecar file read from the source and converted to WebVTT.
async fn read_sidecar(
    state: &ServerState,
    obj: &ObjectMeta,
    format: Format,
) -> Result<String, SubtitleError> {
    if obj.size > subtitle::MAX_INPUT as u64 {
        return Err(SubtitleError::Unreadable(
            subtitle::SubtitleError::TooLarge.to_string(),
        ));
    }
    let source = state.library.catalog().source().clone();
    let source_err = |e: Error| SubtitleError::Source(Arc::new(e));
    let body = source
        .open(&obj.key, obj.etag.as_deref(), obj.size, None)
        .await
        .map_err(source_err)?;
    let mut bytes = Vec::with_capacity(usize::try_from(body.len).unwrap_or(0));
    let mut stream = body.stream;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| source_err(Error::Io(e)))?;
        if bytes.len() + chunk.len() > subtitle::MAX_INPUT {
            return Err(SubtitleError::Unreadable(
                subtitle::SubtitleError::TooLarge.to_string(),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    tokio::task::spawn_blocking(move || subtitle::to_webvtt(&bytes, format))
        .await
        .map_err(|e| SubtitleError::Unreadable(e.to_string()))?
        .map_err(|e| SubtitleError::Unreadable(e.to_string()))
}

/// `?offset=SECONDS` (a non-negative decimal, at most a week) in milliseconds; 0 without
/// it. Any other parameter, a repeated one or a bad number is refused.
pub fn parse_offset(pairs: &[(String, String)]) -> Result<u64, String> {
    let mut offset = None;
    for (name, value) in pairs {
        if name != "offset" {
            return Err(format!("unknown parameter {name:?}"));
        }
        if offset.is_some() {
            return Err("offset given twice".to_owned());
        }
        let secs: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && (0.0..=MAX_OFFSET_SECS).contains(s))
            .ok_or_else(|| format!("offset must be seconds from 0 to {MAX_OFFSET_SECS}"))?;
        offset = Some((secs * 1000.0).round() as u64);
    }
    Ok(offset.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        type Row<'a> = (&'a [(&'a str, &'a str)], Option<u64>);
        let table: &[Row] = &[
            (&[], Some(0)),
            (&[("offset", "0")], Some(0)),
            (&[("offset", "12.5")], Some(12_500)),
            (&[("offset", "0.0004")], Some(0)),
            (&[("offset", "3600")], Some(3_600_000)),
            (&[("offset", "-1")], None),
            (&[("offset", "NaN")], None),
            (&[("offset", "inf")], None),
            (&[("offset", "1e9")], None),
            (&[("offset", "")], None),
            (&[("offset", "1"), ("offset", "2")], None),
            (&[("start", "1")], None),
        ];
        for (list, want) in table {
            assert_eq!(parse_offset(&pairs(list)).ok(), *want, "{list:?}");
        }
    }

    #[test]
    fn errors_have_their_codes() {
        assert_eq!(SubtitleError::NoTrack.body().http_status(), 404);
        assert_eq!(
            SubtitleError::BadQuery("x".into()).body().http_status(),
            400
        );
        let unreadable = SubtitleError::Unreadable("no cue".into()).body();
        assert_eq!(unreadable.http_status(), 422);
        assert_eq!(
            SubtitleError::Source(Arc::new(Error::NotFound))
                .body()
                .http_status(),
            404
        );
    }
}
