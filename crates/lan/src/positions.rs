//! Resume positions over HTTP: where the player (or a Subsonic app) left an item.
//!
//! - `GET /api/items/{id}/position`: `200 {"id", "position_ms", "changed_ms"}`, both `null`
//!   when the item has no position.
//! - `PUT /api/items/{id}/position` `{"position_ms": N}` (JSON): moves it (or makes it); answers
//!   like `GET`.
//! - `DELETE /api/items/{id}/position`: forgets it (the item was played to the end); answers
//!   like `GET`, with `null`s.
//!
//! A position is a row of the library database's bookmarks, the same row Subsonic's
//! `createBookmark`, `getBookmarks` and `deleteBookmark` read and write
//! ([`bucketstream_library::db::Db::set_position`], [`Db::bookmark`],
//! [`Db::delete_bookmark`]): a position set on a phone is where the browser resumes, and the
//! reverse. There is one listener (the owner), so every admitted client shares the positions;
//! the gate has already refused cross-site writes. Without the media library (its database)
//! the endpoints answer `404` and the player keeps positions in the browser only.
//!
//! [`Db::bookmark`]: bucketstream_library::db::Db::bookmark
//! [`Db::delete_bookmark`]: bucketstream_library::db::Db::delete_bookmark

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bucketstream_core::error::Error;
use bucketstream_core::wire::{ErrorBody, ErrorCode};
use bucketstream_library::db::Bookmark;
use serde::{Deserialize, Serialize};

use super::api::{error_body, error_response};
use super::manage::{is_json, MAX_BODY};
use super::ServerState;

/// `PUT /api/items/{id}/position`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPosition {
    /// Where to resume, in ms from the start.
    pub position_ms: u64,
}

/// The answer: an item's position, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Position {
    /// The item.
    pub id: String,
    /// Where to resume (ms from the start); `None`: from the top.
    pub position_ms: Option<u64>,
    /// When it last moved (ms since the Unix epoch).
    pub changed_ms: Option<u64>,
}

impl Position {
    fn of(id: String, mark: Option<Bookmark>) -> Position {
        Position {
            id,
            position_ms: mark.as_ref().map(|b| b.position_ms),
            changed_ms: mark.as_ref().map(|b| b.changed_ms),
        }
    }
}

/// What a handler decided.
#[derive(Debug)]
pub enum Outcome {
    /// The item's position (after the change, if any).
    Found(Position),
    /// The request body is not what the endpoint reads.
    Malformed(String),
    /// No media library on this server: positions stay in the browser.
    Off,
    /// The item is unknown, or the database failed.
    Failed(Error),
}

/// The one place an [`Outcome`] becomes HTTP.
pub fn render(outcome: Outcome) -> Response {
    let mut resp = match outcome {
        Outcome::Found(position) => Json(position).into_response(),
        Outcome::Malformed(message) => error_body(&ErrorBody::new(ErrorCode::Malformed, message)),
        Outcome::Off => error_body(&ErrorBody::new(
            ErrorCode::NotFound,
            "positions are kept in the media library's database, which is off on this server",
        )),
        Outcome::Failed(err) => error_response(&err),
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// What to do to a position.
enum Change {
    Read,
    Set(u64),
    Forget,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

async fn decide(state: &ServerState, id: String, change: Change) -> Outcome {
    let Some(media) = state.media.clone() else {
        return Outcome::Off;
    };
    let Some(key) = state.library.snapshot().get(&id).map(|i| i.key.clone()) else {
        return Outcome::Failed(Error::NotFound);
    };
    let source = state.library.catalog().identity().to_owned();
    let done = tokio::task::spawn_blocking(move || {
        let db = media.db();
        match change {
            Change::Read => db.bookmark(&source, &key),
            Change::Set(ms) => db.set_position(&source, &key, ms, now_ms()).map(Some),
            Change::Forget => db.delete_bookmark(&source, &key).map(|_| None),
        }
    })
    .await;
    match done {
        Ok(Ok(mark)) => Outcome::Found(Position::of(id, mark)),
        Ok(Err(err)) => Outcome::Failed(Error::Io(std::io::Error::other(err.to_string()))),
        Err(err) => Outcome::Failed(Error::Io(std::io::Error::other(err.to_string()))),
    }
}

/// `GET /api/items/{id}/position`.
pub async fn get_position(State(state): State<ServerState>, Path(id): Path<String>) -> Response {
    render(decide(&state, id, Change::Read).await)
}

/// `PUT /api/items/{id}/position`.
pub async fn put_position(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !is_json(content_type) {
        return render(Outcome::Malformed(
            "send the body as JSON (Content-Type: application/json)".into(),
        ));
    }
    let wanted: SetPosition = match to_bytes(req.into_body(), MAX_BODY).await {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(wanted) => wanted,
            Err(e) => return render(Outcome::Malformed(format!("bad JSON body: {e}"))),
        },
        Err(_) => {
            return render(Outcome::Malformed(format!(
                "the body is over {MAX_BODY} bytes or broken"
            )))
        }
    };
    render(decide(&state, id, Change::Set(wanted.position_ms)).await)
}

/// `DELETE /api/items/{id}/position`.
pub async fn delete_position(State(state): State<ServerState>, Path(id): Path<String>) -> Response {
    render(decide(&state, id, Change::Forget).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_render_with_their_status() {
        let found = render(Outcome::Found(Position::of("a".into(), None)));
        assert_eq!(found.status(), 200);
        assert_eq!(found.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(render(Outcome::Malformed("x".into())).status(), 400);
        assert_eq!(render(Outcome::Off).status(), 404);
        assert_eq!(render(Outcome::Failed(Error::NotFound)).status(), 404);
    }

    #[test]
    fn a_position_serializes_with_nulls_when_none() {
        let none = serde_json::to_value(Position::of("a".into(), None)).expect("json");
        assert_eq!(
            none,
            serde_json::json!({"id": "a", "position_ms": null, "changed_ms": null})
        );
        let mark = Bookmark {
            key: "k".into(),
            position_ms: 61_000,
            comment: None,
            created_ms: 1,
            changed_ms: 2,
        };
        let some = serde_json::to_value(Position::of("a".into(), Some(mark))).expect("json");
        assert_eq!(
            some,
            serde_json::json!({"id": "a", "position_ms": 61000, "changed_ms": 2})
        );
    }
}
