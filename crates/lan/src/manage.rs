//! The owner's endpoints that change the library: create a bucket, delete, move or rename.
//!
//! - `POST /api/bucket` `{"name": "…"}`: CreateBucket at the library's endpoint; `201`
//!   `{"name", "created": true}`, or `200` with `"created": false` when it was already yours.
//! - `DELETE /api/items/{id}`: DeleteObject (or the file); `200` `{"deleted": id}`.
//! - `POST /api/items/{id}/move` `{"folder": "…", "name": "…"}` (either may be left out: the
//!   item's own): `200` with the item at its new key (a new id).
//!
//! Only the owner ([`Viewer::Owner`]: loopback, a trusted network) may; anyone else gets `403`
//! `owner_only`, before the body is read. The gate has already refused cross-site requests
//! (these are not GET/HEAD/OPTIONS, so a foreign `Origin` is `403 cross_site`); a body must
//! also be sent as `application/json` (which a page of another site cannot do without a CORS
//! preflight that is never granted) and is read up to [`MAX_BODY`] bytes. Each handler decides
//! an [`Outcome`]; [`render`] alone turns it into HTTP.

use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::api::{error_body, error_response};
use super::ServerState;
use bucketstream_core::catalog::MediaItem;
use bucketstream_core::error::Error;
use bucketstream_core::library::Viewer;
use bucketstream_core::source::manage::s3::Created;
use bucketstream_core::wire::{ErrorBody, ErrorCode};

/// The largest request body read (a bucket name, a folder and a file name fit many times).
pub const MAX_BODY: usize = 16 * 1024;

/// What a handler decided.
#[derive(Debug)]
pub enum Outcome {
    /// A bucket was created, or was already the caller's.
    Bucket {
        /// Its name.
        name: String,
        /// What CreateBucket did.
        created: Created,
    },
    /// An item was deleted.
    Deleted(String),
    /// An item was moved or renamed: here it is now.
    Moved(Box<MediaItem>),
    /// The request body is not what the endpoint reads.
    Malformed(String),
    /// The core refused or failed.
    Failed(Error),
}

/// `POST /api/bucket`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBucket {
    /// The bucket name.
    pub name: String,
}

/// `POST /api/items/{id}/move`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Move {
    /// The folder, relative to the library's prefix or root (`""`: its top; absent: where it is).
    pub folder: Option<String>,
    /// The file name with its extension (absent: the current one).
    pub name: Option<String>,
}

/// The one function that turns an [`Outcome`] into HTTP.
pub fn render(outcome: Outcome) -> Response {
    let mut resp = match outcome {
        Outcome::Bucket { name, created } => {
            let new = created == Created::New;
            let status = if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (
                status,
                Json(serde_json::json!({ "name": name, "created": new })),
            )
                .into_response()
        }
        Outcome::Deleted(id) => Json(serde_json::json!({ "deleted": id })).into_response(),
        Outcome::Moved(item) => Json(item).into_response(),
        Outcome::Malformed(message) => error_body(&ErrorBody::new(ErrorCode::Malformed, message)),
        Outcome::Failed(err) => {
            tracing::info!(error = %err.for_owner(), "library change refused");
            error_response(&err)
        }
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `None` for the owner; the refusal for anyone else.
fn owner_only(req: &Request) -> Option<Outcome> {
    let viewer = req.extensions().get::<Viewer>().copied();
    (viewer != Some(Viewer::Owner)).then(|| {
        Outcome::Failed(Error::OwnerOnly(
            "only the owner may change the library: use the Bucketstream window, or a browser on \
             the host itself or on a trusted network"
                .into(),
        ))
    })
}

/// Whether `value` is a JSON media type (`application/json`, with parameters or not).
pub fn is_json(value: Option<&str>) -> bool {
    value
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The body as `T`: JSON, sent as JSON, at most [`MAX_BODY`] bytes.
async fn body<T: DeserializeOwned>(req: Request) -> Result<T, Outcome> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !is_json(content_type) {
        return Err(Outcome::Malformed(
            "send the body as JSON (Content-Type: application/json)".into(),
        ));
    }
    let bytes = to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|_| Outcome::Malformed(format!("the body is over {MAX_BODY} bytes or broken")))?;
    serde_json::from_slice(&bytes).map_err(|e| Outcome::Malformed(format!("bad JSON body: {e}")))
}

async fn decide_create(state: &ServerState, req: Request) -> Outcome {
    if let Some(refused) = owner_only(&req) {
        return refused;
    }
    let wanted: CreateBucket = match body(req).await {
        Ok(b) => b,
        Err(outcome) => return outcome,
    };
    match state.library.create_bucket(&wanted.name).await {
        Ok(created) => Outcome::Bucket {
            name: wanted.name,
            created,
        },
        Err(err) => Outcome::Failed(err),
    }
}

/// `POST /api/bucket`.
pub async fn create_bucket(State(state): State<ServerState>, req: Request) -> Response {
    render(decide_create(&state, req).await)
}

/// `DELETE /api/items/{id}`.
pub async fn delete_item(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    if let Some(refused) = owner_only(&req) {
        return render(refused);
    }
    render(match state.library.delete_item(&id).await {
        Ok(()) => Outcome::Deleted(id),
        Err(err) => Outcome::Failed(err),
    })
}

async fn decide_move(state: &ServerState, id: &str, req: Request) -> Outcome {
    if let Some(refused) = owner_only(&req) {
        return refused;
    }
    let wanted: Move = match body(req).await {
        Ok(b) => b,
        Err(outcome) => return outcome,
    };
    match state
        .library
        .move_item(id, wanted.folder.as_deref(), wanted.name.as_deref())
        .await
    {
        Ok(item) => Outcome::Moved(Box::new(item)),
        Err(err) => Outcome::Failed(err),
    }
}

/// `POST /api/items/{id}/move`.
pub async fn move_item(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    render(decide_move(&state, &id, req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        for (value, want) in [
            (Some("application/json"), true),
            (Some("Application/JSON; charset=utf-8"), true),
            (Some("text/plain"), false),
            (Some("application/x-www-form-urlencoded"), false),
            (Some("multipart/form-data; boundary=x"), false),
            (Some("application/jsonx"), false),
            (None, false),
        ] {
            assert_eq!(is_json(value), want, "{value:?}");
        }
    }

    #[test]
    fn outcomes_render_with_their_status() {
        let created = render(Outcome::Bucket {
            name: "b".into(),
            created: Created::New,
        });
        assert_eq!(created.status(), 201);
        let yours = render(Outcome::Bucket {
            name: "b".into(),
            created: Created::AlreadyYours,
        });
        assert_eq!(yours.status(), 200);
        assert_eq!(render(Outcome::Deleted("x".into())).status(), 200);
        assert_eq!(render(Outcome::Malformed("x".into())).status(), 400);
        assert_eq!(
            render(Outcome::Failed(Error::OwnerOnly("x".into()))).status(),
            403
        );
        assert_eq!(
            render(Outcome::Failed(Error::BucketTaken("b".into()))).status(),
            409
        );
    }
}
