//! The player's files from `ui/`, embedded in the binary so the headless server needs no install.
//!
//! `GET /` is also where the seed's WebSocket clients connect, so a request with an Upgrade
//! header there goes to the WebSocket instead of the page.
//!
//! Every file goes out with a strict `Content-Security-Policy` ([`policy`]): scripts, styles,
//! images and media from this origin only, no inline script, no plug-ins, no framing
//! (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for older browsers), network
//! requests to this origin and its WebSocket only. The player needs nothing more: its
//! modules and style sheets are files, it styles elements through the CSSOM (which CSP does
//! not govern), builds icons as inline SVG elements, and plays `/media/...` URLs.

use axum::extract::{Extension, FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::guard::Keyed;
use super::ws::transport::Upgrade;
use super::ServerState;
use bucketstream_core::media::asset_type;

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
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    file("index.html", host)
}

/// Any other path: an embedded asset or 404.
pub async fn asset(uri: Uri, headers: HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    file(uri.path().trim_start_matches('/'), host)
}

/// The `Content-Security-Policy` of the player's files. `host` is the request's `Host`
/// (already on the gate's allowlist): the WebSocket's `ws://HOST` is listed besides `'self'`
/// for browsers in which `'self'` does not cover `ws:` (CSP Level 2); it is left out when it
/// is not plainly `name[:port]` or `a.b.c.d[:port]` (CSP has no syntax for IPv6 literals).
pub fn policy(host: Option<&str>) -> String {
    let ws = host
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
                && h.bytes().filter(|b| *b == b':').count() <= 1
        })
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         media-src 'self'; connect-src 'self'{ws}; manifest-src 'self'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'; object-src 'none'"
    )
}

fn file(path: &str, host: Option<&str>) -> Response {
    match Assets::get(path) {
        Some(content) => {
            let mut resp = content.data.into_owned().into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&asset_type(path)) {
                h.insert(header::CONTENT_TYPE, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            if let Ok(v) = HeaderValue::from_str(&policy(host)) {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
            resp
        }
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::policy;

    #[test]
    fn policy_lists_the_websocket_of_plain_hosts_only() {
        let p = policy(Some("192.168.1.20:8080"));
        assert!(p.contains("connect-src 'self' ws://192.168.1.20:8080 wss://192.168.1.20:8080;"));
        assert!(p.contains("frame-ancestors 'none'"));
        assert!(!p.contains("unsafe"));
        for odd in [None, Some("[::1]:8080"), Some("a b"), Some("a;b"), Some("")] {
            assert!(policy(odd).contains("connect-src 'self';"), "{odd:?}");
        }
    }
}
