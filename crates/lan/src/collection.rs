//! The media library over HTTP: cover art and posters (`/art/{hash}`), and the grouped
//! views (`/api/albums`, `/api/albums/{id}`, `/api/artists`, `/api/genres`).
//!
//! Art is content-addressed (the hash of the original picture), so an answer never changes:
//! a strong ETag and a year-long immutable `Cache-Control`. Each handler decides an
//! [`Answer`] and [`Answer::render`] turns it into HTTP, in one place.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bucketstream_core::error::Error;
use bucketstream_core::range::if_none_match_hits;
use bucketstream_library::art::{ArtBlob, ArtSize};
use bucketstream_library::views;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::api::error_response;
use super::ServerState;

/// What an art or view request gets.
pub enum Answer {
    /// The picture, with its ETag.
    Art {
        /// Type and bytes.
        blob: ArtBlob,
        /// Strong ETag (hash and size).
        etag: String,
    },
    /// The client has it (`If-None-Match`).
    NotModified {
        /// Its ETag.
        etag: String,
    },
    /// A JSON view.
    View(serde_json::Value),
    /// No such art or album.
    NotFound,
    /// The database failed.
    Failed(Error),
}

impl Answer {
    /// The one place an answer becomes HTTP.
    pub fn render(self) -> Response {
        let immutable = HeaderValue::from_static("public, max-age=31536000, immutable");
        match self {
            Answer::Art { blob, etag } => {
                let mut resp = blob.bytes.into_response();
                let headers = resp.headers_mut();
                if let Ok(mime) = HeaderValue::from_str(&blob.mime) {
                    headers.insert(header::CONTENT_TYPE, mime);
                }
                if let Ok(etag) = HeaderValue::from_str(&etag) {
                    headers.insert(header::ETAG, etag);
                }
                headers.insert(header::CACHE_CONTROL, immutable);
                headers.insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                resp
            }
            Answer::NotModified { etag } => {
                let mut resp = StatusCode::NOT_MODIFIED.into_response();
                if let Ok(etag) = HeaderValue::from_str(&etag) {
                    resp.headers_mut().insert(header::ETAG, etag);
                }
                resp.headers_mut().insert(header::CACHE_CONTROL, immutable);
                resp
            }
            Answer::View(value) => {
                let mut resp = Json(value).into_response();
                resp.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                resp
            }
            Answer::NotFound => error_response(&Error::NotFound),
            Answer::Failed(err) => error_response(&err),
        }
    }
}

/// `?size=` of an art request.
#[derive(Debug, Deserialize)]
pub struct ArtQuery {
    size: Option<String>,
}

/// Whether `text` has the shape of an art hash (64 lowercase hex digits).
fn looks_like_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `GET /art/{hash}?size=N`.
pub async fn art(
    State(state): State<ServerState>,
    Path(hash): Path<String>,
    Query(query): Query<ArtQuery>,
    headers: HeaderMap,
) -> Response {
    let size = ArtSize::from_param(query.size.as_deref());
    decide_art(&state, hash, size, &headers).await.render()
}

/// Art `hash` at the `size` a Subsonic client asked for (`getCoverArt`), rendered like `/art`.
pub(crate) async fn art_with_size(
    state: ServerState,
    hash: String,
    size: Option<String>,
    headers: HeaderMap,
) -> Response {
    let size = ArtSize::from_param(size.as_deref());
    decide_art(&state, hash, size, &headers).await.render()
}

async fn decide_art(
    state: &ServerState,
    hash: String,
    size: ArtSize,
    headers: &HeaderMap,
) -> Answer {
    let Some(media) = state.media.clone() else {
        return Answer::NotFound;
    };
    if !looks_like_hash(&hash) {
        return Answer::NotFound;
    }
    let label = match size {
        ArtSize::Original => "original",
        ArtSize::Small => "small",
        ArtSize::Large => "large",
    };
    let etag = format!("\"{hash}-{label}\"");
    let tags = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if tags.is_some_and(|tags| if_none_match_hits(tags, Some(&etag))) {
        return Answer::NotModified { etag };
    }
    let found = tokio::task::spawn_blocking(move || media.art(&hash, size)).await;
    match found {
        Ok(Ok(Some(blob))) => Answer::Art { blob, etag },
        Ok(Ok(None)) => Answer::NotFound,
        Ok(Err(err)) => Answer::Failed(Error::Io(std::io::Error::other(err.to_string()))),
        Err(err) => Answer::Failed(Error::Io(std::io::Error::other(err.to_string()))),
    }
}

/// The grouped views of one library generation, made once and shared by every request
/// (at 100,000 items grouping takes a noticeable fraction of a second).
pub struct Views {
    generation: u64,
    pub(crate) albums: Vec<views::Album>,
    pub(crate) artists: Vec<views::Artist>,
    pub(crate) genres: Vec<views::Genre>,
}

/// The views of the newest generation asked for.
#[derive(Default)]
pub struct ViewCache(tokio::sync::Mutex<Option<Arc<Views>>>);

impl ViewCache {
    /// The views of the current snapshot, made on the blocking pool when the generation moved.
    pub(crate) async fn get(&self, state: &ServerState) -> Result<Arc<Views>, Error> {
        let snap = state.library.snapshot();
        let mut slot = self.0.lock().await;
        if let Some(views) = slot.as_ref().filter(|v| v.generation == snap.generation) {
            return Ok(views.clone());
        }
        let made = tokio::task::spawn_blocking(move || Views {
            generation: snap.generation,
            albums: views::albums(&snap.items),
            artists: views::artists(&snap.items),
            genres: views::genres(&snap.items),
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
        let made = Arc::new(made);
        *slot = Some(made.clone());
        Ok(made)
    }
}

/// A view as JSON.
fn view<T: Serialize>(value: &T) -> Answer {
    match serde_json::to_value(value) {
        Ok(value) => Answer::View(value),
        Err(err) => Answer::Failed(Error::Io(std::io::Error::other(err.to_string()))),
    }
}

/// `GET /api/albums`: every album, sorted by artist then name.
pub async fn albums(State(state): State<ServerState>) -> Response {
    match state.views.get(&state).await {
        Ok(v) => view(&v.albums),
        Err(err) => Answer::Failed(err),
    }
    .render()
}

/// An album with its tracks in disc and track order.
#[derive(Serialize)]
struct AlbumPage<'a> {
    album: views::Album,
    tracks: Vec<&'a bucketstream_core::catalog::MediaItem>,
}

/// `GET /api/albums/{id}`: the album and its tracks.
pub async fn album(State(state): State<ServerState>, Path(id): Path<String>) -> Response {
    let snap = state.library.snapshot();
    let all = match state.views.get(&state).await {
        Ok(v) => v,
        Err(err) => return Answer::Failed(err).render(),
    };
    match all.albums.iter().find(|a| a.id == id) {
        Some(album) => view(&AlbumPage {
            tracks: views::album_tracks(&snap.items, &id),
            album: album.clone(),
        }),
        None => Answer::NotFound,
    }
    .render()
}

/// `GET /api/artists`.
pub async fn artists(State(state): State<ServerState>) -> Response {
    match state.views.get(&state).await {
        Ok(v) => view(&v.artists),
        Err(err) => Answer::Failed(err),
    }
    .render()
}

/// `GET /api/genres`.
pub async fn genres(State(state): State<ServerState>) -> Response {
    match state.views.get(&state).await {
        Ok(v) => view(&v.genres),
        Err(err) => Answer::Failed(err),
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn art_hashes_are_64_lowercase_hex() {
        assert!(looks_like_hash(&"ab".repeat(32)));
        assert!(!looks_like_hash(&"AB".repeat(32)));
        assert!(!looks_like_hash("../../etc/passwd"));
        assert!(!looks_like_hash(&"a".repeat(63)));
    }
}
