//! The player's files from `ui/`, embedded in the binary so the headless server needs no install.
//!
//! `GET /` is also where the seed's WebSocket clients connect, so a request with an Upgrade
//! header there goes to the WebSocket instead of the page.

use axum::extract::{Extension, FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::guard::Keyed;
use super::ws::transport::Upgrade;
use super::ServerState;
use crate::media::asset_type;

#[derive(RustEmbed)]
#[folder = "../../ui"]
#[exclude = "*.md"]
struct Assets;

/// `GET /`: the WebSocket when asked for, the player page otherwise.
pub async fn root(State(state): State<ServerState>, req: Request) -> Response {
    let wants_ws = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_ws {
        let (mut parts, _body) = req.into_parts();
        let keyed = parts.extensions.get::<Keyed>().copied().map(Extension);
        return match Upgrade::from_request_parts(&mut parts, &state).await {
            Ok(upgrade) => super::ws::upgrade(State(state), keyed, upgrade).await,
            Err(rejection) => rejection.into_response(),
        };
    }
    file("index.html")
}

/// Any other path: an embedded asset or 404.
pub async fn asset(uri: Uri) -> Response {
    file(uri.path().trim_start_matches('/'))
}

fn file(path: &str) -> Response {
    match Assets::get(path) {
        Some(content) => {
            let mut resp = content.data.into_owned().into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&asset_type(path)) {
                h.insert(header::CONTENT_TYPE, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            h.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            resp
        }
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}
