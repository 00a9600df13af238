//! JSON endpoints: the library list, health, and an explicit refresh.
//!
//! `/api/videos` is served from the snapshot's pre-serialised JSON: no source call and no
//! serialisation per request, which is what keeps it fast at 100,000 items.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::ServerState;
use crate::error::Error;
use crate::library::ErrorInfo;

/// `GET /api/videos`: the items as a JSON array.
pub async fn videos(State(state): State<ServerState>) -> Response {
    let snap = state.library.snapshot();
    let mut resp = snap.items_json.clone().into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(gen) = HeaderValue::from_str(&snap.generation.to_string()) {
        headers.insert("x-library-generation", gen);
    }
    resp
}

/// `GET /api/health`.
pub async fn health(State(state): State<ServerState>) -> Response {
    let mut resp = Json(state.library.health()).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `POST /api/refresh`: refresh now; health on success, the error otherwise.
pub async fn refresh(State(state): State<ServerState>) -> Response {
    match state.library.refresh().await {
        Ok(_) => Json(state.library.health()).into_response(),
        Err(err) => error_response(&err),
    }
}

/// `GET /api/stats`: edge cache counters (`{"cache": null}` when there is no cache).
pub async fn stats(State(state): State<ServerState>) -> Response {
    let body = serde_json::json!({ "cache": state.library.cache_stats() });
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The JSON error body every endpoint uses: `{"error":{"code","message"}}`.
pub fn error_response(err: &Error) -> Response {
    let status =
        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "error": ErrorInfo::from(err) });
    (status, Json(body)).into_response()
}
