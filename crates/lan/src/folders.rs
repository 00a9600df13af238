//! `GET /api/folders?under=X[&kind=audio|video]`: the subfolders of one folder with their
//! item counts, `{generation, under, items, folders: [{name, path, count}]}`, so that a player
//! paging a large library on the server can draw a folder level without the whole list.
//!
//! The work is the core's ([`bucketstream_core::catalog::folders`]: pure, one pass over the
//! snapshot, tens of milliseconds at 1,000,000 items), run on the blocking pool as the
//! searches of `/api/videos` are.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::api::error_body;
use super::ServerState;
use bucketstream_core::catalog::folders;
use bucketstream_core::error::ErrorCode;
use bucketstream_core::wire::ErrorBody;

/// `GET /api/folders`.
pub async fn folders(
    State(state): State<ServerState>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let query = match params {
        Ok(Query(pairs)) => folders::parse(&pairs),
        Err(rejection) => Err(rejection.body_text()),
    };
    let query = match query {
        Ok(query) => query,
        Err(bad) => return error_body(&ErrorBody::new(ErrorCode::BadQuery, bad)),
    };
    let snap = state.library.snapshot();
    let body = tokio::task::spawn_blocking(move || {
        serde_json::to_vec(&folders::subfolders(&snap, &query))
    })
    .await;
    let Ok(Ok(body)) = body else {
        return error_body(&ErrorBody::new(
            ErrorCode::Internal,
            "the folder list could not be made",
        ));
    };
    let mut resp = body.into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
