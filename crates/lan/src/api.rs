//! JSON endpoints: the library list, health, and an explicit refresh.
//!
//! `/api/videos` is served from the snapshot, never from the source. The whole list is
//! serialised as it is sent, a few hundred items at a time ([`list_body`]): no copy of the
//! list is kept (at 1,000,000 items it is about 530 MB of JSON), and a request holds only
//! its snapshot and the chunk in flight. A client that accepts gzip (every browser) gets a
//! gzipped copy made once per library generation ([`GzipCache`], about a tenth of the
//! JSON; compression is HTTP's business, so the cache lives here, not in the catalog).
//!
//! With paging or search parameters, `/api/videos` answers one page, `{total, items,
//! generation}`, from the core's query engine ([`bucketstream_core::catalog::query`]: parsing
//! and running are pure; this is only its HTTP face). A search scans every item (tens of
//! milliseconds at 1,000,000), so it runs on the blocking pool, not on a worker serving media.
//!
//! `/api/health` shows the whole location (folder paths, the endpoint) only to clients on a
//! trusted network; other admitted clients see folder names and the bucket. `POST
//! /api/refresh` is rate-limited ([`bucketstream_core::catalog`]): its answer says whether it listed.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use tokio::sync::OnceCell;

use super::ServerState;
use bucketstream_core::catalog::{query, ClientRefresh, Snapshot};
use bucketstream_core::error::Error;
use bucketstream_core::error::ErrorCode;
use bucketstream_core::library::Viewer;
use bucketstream_core::wire::ErrorBody;

/// Items serialised per chunk of a streamed list (about 250 KB of JSON).
const LIST_CHUNK_ITEMS: usize = 512;

/// `snap`'s items as a JSON array, gzip-compressed at level 1 (fast; the JSON is repetitive
/// enough that higher levels gain little), serialised into the compressor a chunk at a time.
fn gzip_list(snap: &Snapshot) -> std::io::Result<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(snap.items.len() * 40),
        flate2::Compression::fast(),
    );
    snap.write_json(&mut enc)?;
    let gz = enc.finish().map(Bytes::from);
    bucketstream_core::trim::release_freed_memory();
    gz
}

/// Gives the memory of a whole list's chunks back to the system when the list is sent (or
/// the client went away).
struct TrimOnDrop;

impl Drop for TrimOnDrop {
    fn drop(&mut self) {
        bucketstream_core::trim::release_freed_memory();
    }
}

/// `snap`'s items as a JSON array, as a body streamed in chunks of [`LIST_CHUNK_ITEMS`]
/// items, each serialised when the connection is ready for it: the same bytes as
/// serialising the list whole, with only one chunk in memory at a time.
pub fn list_body(snap: Arc<Snapshot>) -> Body {
    let start = Some((snap, 0usize, TrimOnDrop));
    let chunks = futures_util::stream::unfold(start, |state| async move {
        let (snap, at, trim) = state?;
        let end = at.saturating_add(LIST_CHUNK_ITEMS);
        let mut buf = Vec::with_capacity(LIST_CHUNK_ITEMS * 600);
        if at == 0 {
            buf.push(b'[');
        }
        // Serialising an item into a Vec cannot fail (no map with non-string keys).
        let _ = snap.write_json_range(at..end, &mut buf);
        let next = if end >= snap.items.len() {
            buf.push(b']');
            None
        } else {
            Some((snap, end, trim))
        };
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(buf)), next))
    });
    Body::from_stream(chunks)
}

/// The gzipped `/api/videos` body of the current generation, compressed the first time a
/// client asks and then shared by every reply (the list compresses about tenfold). A
/// snapshot keeps its generation when a refresh changed nothing, so the same generation
/// always means the same JSON.
#[derive(Default)]
pub struct GzipCache {
    current: Mutex<Option<(u64, Arc<OnceCell<Bytes>>)>>,
}

impl GzipCache {
    /// `snap`'s list gzipped (level 1: a 34 MiB list takes well under a second, on the
    /// blocking pool). `None` if compression failed, in which case the plain JSON serves.
    async fn get(&self, snap: &Arc<Snapshot>) -> Option<Bytes> {
        let cell = {
            let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
            match current.as_ref() {
                Some((gen, cell)) if *gen == snap.generation => cell.clone(),
                // A request still holding an older snapshot: compressed for it alone.
                Some((gen, _)) if *gen > snap.generation => Arc::new(OnceCell::new()),
                _ => {
                    let cell = Arc::new(OnceCell::new());
                    *current = Some((snap.generation, cell.clone()));
                    cell
                }
            }
        };
        let snap = snap.clone();
        cell.get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || gzip_list(&snap))
                .await
                .map_err(|_| ())?
                .map_err(|_| ())
        })
        .await
        .ok()
        .cloned()
    }
}

/// `GET /api/videos`: the items as a JSON array, gzipped when the client accepts it; with
/// paging or search parameters ([`bucketstream_core::catalog::query`]) one page of them,
/// `{total, items, generation}`.
pub async fn videos(
    State(state): State<ServerState>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
    request: HeaderMap,
) -> Response {
    let pairs = match params {
        Ok(Query(pairs)) => pairs,
        Err(rejection) => {
            return error_body(&ErrorBody::new(ErrorCode::BadQuery, rejection.body_text()))
        }
    };
    match query::parse(&pairs) {
        Ok(None) => {}
        Ok(Some(query)) => return page(&state, query).await,
        Err(bad) => return error_body(&ErrorBody::new(ErrorCode::BadQuery, bad.0)),
    }
    let snap = state.library.snapshot();
    let gzipped = if accepts_gzip(&request) {
        state.gzip.get(&snap).await
    } else {
        None
    };
    let is_gzip = gzipped.is_some();
    let generation = snap.generation;
    let mut resp = match gzipped {
        Some(gz) => gz.into_response(),
        None => list_body(snap).into_response(),
    };
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if is_gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(gen) = HeaderValue::from_str(&generation.to_string()) {
        headers.insert("x-library-generation", gen);
    }
    resp
}

/// The page `query` asks for, as JSON (no-store, with the generation in a header as the whole
/// list has it).
async fn page(state: &ServerState, query: query::Query) -> Response {
    let snap = state.library.snapshot();
    let generation = snap.generation;
    let body = tokio::task::spawn_blocking(move || {
        let page = query::run(&snap, &query);
        serde_json::to_vec(&page)
    })
    .await;
    let body = match body {
        Ok(Ok(body)) => body,
        _ => {
            return error_body(&ErrorBody::new(
                ErrorCode::Internal,
                "the page could not be made",
            ))
        }
    };
    let mut resp = body.into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(gen) = HeaderValue::from_str(&generation.to_string()) {
        headers.insert("x-library-generation", gen);
    }
    resp
}

/// Whether `Accept-Encoding` lists `gzip` (or `*`) with a non-zero quality (RFC 9110 §12.5.3).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut star = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            let mut parts = entry.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .map(|q| q.trim().parse::<f32>().unwrap_or(0.0))
                .next()
                .unwrap_or(1.0);
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(q > 0.0),
                "*" => star = Some(q > 0.0),
                _ => {}
            }
        }
    }
    gzip.or(star).unwrap_or(false)
}

/// Who is asking, as the gate decided it from the TCP peer (never from headers): the owner
/// on a trusted network; anyone else, or a request the gate did not see, gets the redacted
/// form.
pub(crate) fn viewer(req: &Request) -> Viewer {
    req.extensions()
        .get::<Viewer>()
        .copied()
        .unwrap_or(Viewer::Lan)
}

/// `GET /api/health`.
pub async fn health(State(state): State<ServerState>, req: Request) -> Response {
    let viewer = viewer(&req);
    let mut resp = Json(health_for(&state, viewer)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The library's health for `viewer`, with this server's upload permission (`lan.uploads`)
/// and paging threshold (`lan.paging_threshold`).
fn health_for(state: &ServerState, viewer: Viewer) -> bucketstream_core::library::Health {
    let mut health = state.library.health_for(viewer);
    health.permissions.upload = super::uploads::may_upload(state, viewer);
    health.paging_threshold = state.options.paging_threshold;
    health
}

/// `POST /api/refresh`: a client-driven refresh (rate-limited). Health on success, the error
/// otherwise; either with `refreshed` (whether the source was listed for this request) and,
/// when it was not, `next_refresh_in_ms` (when the listing scheduled for it runs).
pub async fn refresh(State(state): State<ServerState>, req: Request) -> Response {
    let viewer = viewer(&req);
    let (result, next_in) = match state.library.request_refresh().await {
        ClientRefresh::Listed(result) => (result, None),
        ClientRefresh::Throttled { result, next_in } => (result, Some(next_in)),
    };
    let (status, mut body) = match result {
        Ok(_) => (
            StatusCode::OK,
            serde_json::to_value(health_for(&state, viewer)).unwrap_or_default(),
        ),
        Err(err) => {
            let body = ErrorBody::from(&*err);
            (
                status_of(&body),
                serde_json::to_value(body).unwrap_or_default(),
            )
        }
    };
    if let Some(obj) = body.as_object_mut() {
        obj.insert("refreshed".into(), next_in.is_none().into());
        if let Some(next_in) = next_in {
            let ms = u64::try_from(next_in.as_millis()).unwrap_or(u64::MAX);
            obj.insert("next_refresh_in_ms".into(), ms.into());
        }
    }
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /api/stats`: edge cache counters (`{"cache": null}` when there is no cache).
pub async fn stats(State(state): State<ServerState>) -> Response {
    let body = serde_json::json!({ "cache": state.library.cache_stats() });
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The answer for `err`: its status and its [`ErrorBody`].
pub fn error_response(err: &Error) -> Response {
    error_body(&ErrorBody::from(err))
}

/// Renders an [`ErrorBody`] (API, media, the gate, the limits, the WebSocket handshake) with
/// the status of its code: the one place an error becomes an HTTP answer.
pub fn error_body(body: &ErrorBody) -> Response {
    (status_of(body), Json(body)).into_response()
}

fn status_of(body: &ErrorBody) -> StatusCode {
    StatusCode::from_u16(body.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gzipped_list_is_made_once_per_generation_and_is_the_json() {
        let cache = GzipCache::default();
        let snap = Arc::new(Snapshot::default());
        let first = cache.get(&snap).await.expect("gzip");
        let again = cache
            .get(&Arc::new(Snapshot::default()))
            .await
            .expect("gzip");
        assert_eq!(first.as_ptr(), again.as_ptr(), "shared, not made again");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&first[..]), &mut plain)
            .expect("valid gzip");
        assert_eq!(plain, snap.to_json());
    }

    #[tokio::test]
    async fn the_streamed_list_is_the_items_serialised_whole() {
        let catalog_dir = tempfile::tempdir().expect("tempdir");
        for i in 0..(LIST_CHUNK_ITEMS * 2 + 3) {
            std::fs::write(catalog_dir.path().join(format!("{i:04}.mp3")), b"x").expect("write");
        }
        let source =
            bucketstream_core::source::local::LocalSource::new(&[catalog_dir.path().to_owned()])
                .expect("source");
        let catalog = bucketstream_core::catalog::Catalog::new(Arc::new(
            bucketstream_core::source::Source::Local(source),
        ));
        for snap in [
            Arc::new(Snapshot::default()),
            catalog.refresh().await.expect("list"),
        ] {
            let body = axum::body::to_bytes(list_body(snap.clone()), usize::MAX)
                .await
                .expect("body");
            assert_eq!(body, serde_json::to_vec(&snap.items).expect("json"));
        }
    }

    #[test]
    fn accept_encoding_table() {
        let cases: &[(&[&str], bool)] = &[
            (&[], false),
            (&["gzip"], true),
            (&["gzip, deflate, br, zstd"], true),
            (&["br;q=1.0, gzip;q=0.8, *;q=0.1"], true),
            (&["GZIP"], true),
            (&["x-gzip"], true),
            (&["identity"], false),
            (&["gzip;q=0"], false),
            (&["gzip;q=0.000"], false),
            (&["*"], true),
            (&["*;q=0"], false),
            (&["gzip;q=0, *"], false),
            (&["br", "gzip"], true),
            (&["gzip;q=garbage"], false),
            (&["deflate"], false),
            (&["gzipx"], false),
        ];
        for (values, want) in cases {
            let mut headers = HeaderMap::new();
            for v in *values {
                headers.append(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
            }
            assert_eq!(accepts_gzip(&headers), *want, "{values:?}");
        }
    }
}
