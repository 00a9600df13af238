//! `/api/uploads`: the tus 1.0.0 endpoints ([`bucketstream_upload`] does the protocol and the
//! writes; this module checks who may upload, reads the request and renders the answer).
//!
//! - `OPTIONS /api/uploads`: capabilities (`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`,
//!   `Tus-Checksum-Algorithm`);
//! - `POST /api/uploads`: creation (and creation-with-upload), `201` with `Location`;
//! - `HEAD|PATCH|DELETE /api/uploads/{id}`: offset, append, termination.
//!
//! The owner (a trusted network: the desktop window, this machine) may always upload; a LAN
//! device only when `lan.uploads` is on, otherwise `403 upload_forbidden`. The gate has already
//! refused cross-site POST/PATCH/DELETE (a page of another site cannot upload through the
//! owner's browser) and the per-client limits count each request until its body ends. A PATCH
//! is written by a task of its own, so a dropped connection ends the body but not the write:
//! what arrived is kept and acknowledged on disk, and the client resumes from it.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use bucketstream_core::error::Error;
use bucketstream_core::library::Viewer;
use bucketstream_upload::tus::{self, parse, Answer};
use bucketstream_upload::UploadError;

use super::api::viewer;
use super::ServerState;

/// Whether `viewer` may upload to this server.
pub fn may_upload(state: &ServerState, viewer: Viewer) -> bool {
    viewer == Viewer::Owner || state.options.uploads
}

fn render(answer: &Answer) -> Response {
    tus::render(answer).map(Body::from)
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The checks every request but OPTIONS makes: permission, then the protocol version.
fn admit(state: &ServerState, req: &Request) -> Result<(), UploadError> {
    if !may_upload(state, viewer(req)) {
        return Err(UploadError::Forbidden);
    }
    parse::resumable(text(req.headers(), "tus-resumable"))
}

/// `OPTIONS /api/uploads`.
pub async fn options(State(state): State<ServerState>) -> Response {
    render(&state.uploads.options())
}

/// `POST /api/uploads`.
pub async fn create(State(state): State<ServerState>, req: Request) -> Response {
    let parsed = (|| {
        admit(&state, &req)?;
        let headers = req.headers();
        let length = parse::length(
            text(headers, "upload-length"),
            text(headers, "upload-defer-length"),
        )?;
        let metadata = parse::metadata(text(headers, "upload-metadata"))?;
        let with_body = headers.contains_key(header::CONTENT_TYPE)
            && parse::content_type(text(headers, header::CONTENT_TYPE.as_str())).is_ok();
        let checksum = if with_body {
            parse::checksum(text(headers, "upload-checksum"))?
        } else {
            None
        };
        Ok::<_, UploadError>((length, metadata, with_body, checksum))
    })();
    let (length, metadata, with_body, checksum) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return render(&Answer::Refused(err)),
    };
    let uploads = state.uploads.clone();
    let body = req.into_body().into_data_stream();
    let task = tokio::spawn(async move {
        let body = with_body.then_some((checksum, body));
        uploads.create(length, &metadata, body).await
    });
    render(&joined(task.await))
}

/// `HEAD /api/uploads/{id}`.
pub async fn head(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    if let Err(err) = admit(&state, &req) {
        return render(&Answer::Refused(err));
    }
    render(&state.uploads.head(&id).await)
}

/// `PATCH /api/uploads/{id}`.
pub async fn patch(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let parsed = (|| {
        admit(&state, &req)?;
        let headers = req.headers();
        parse::content_type(text(headers, header::CONTENT_TYPE.as_str()))?;
        let offset = parse::offset(text(headers, "upload-offset"))?;
        let checksum = parse::checksum(text(headers, "upload-checksum"))?;
        Ok::<_, UploadError>((offset, checksum))
    })();
    let (offset, checksum) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return render(&Answer::Refused(err)),
    };
    let uploads = state.uploads.clone();
    let body = req.into_body().into_data_stream();
    let task = tokio::spawn(async move { uploads.write(&id, offset, checksum, body).await });
    render(&joined(task.await))
}

/// `DELETE /api/uploads/{id}`.
pub async fn terminate(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    if let Err(err) = admit(&state, &req) {
        return render(&Answer::Refused(err));
    }
    render(&state.uploads.terminate(&id).await)
}

/// The answer of a write task (one that panicked is an internal error, its state intact).
fn joined(result: Result<Answer, tokio::task::JoinError>) -> Answer {
    result.unwrap_or_else(|e| {
        Answer::Refused(UploadError::Store(Error::Io(std::io::Error::other(
            e.to_string(),
        ))))
    })
}
