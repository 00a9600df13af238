//! The gate every request passes: Host allowlist, Origin checks, closed CORS, then the key.
//!
//! Order matters and is fixed here:
//! 1. An HTTP/1.1 request without a `Host`, or with more than one, is `400` (RFC 9112).
//! 2. `Host` must be an IP literal, `localhost` (or `*.localhost`), the machine's name or
//!    `NAME.local`, or a name the owner added ([`HostPolicy`]); anything else is
//!    `421 Misdirected Request`. This defeats DNS rebinding.
//! 3. A WebSocket handshake, or a request with a side effect (not GET/HEAD/OPTIONS), whose
//!    `Origin` is present and is not this server itself ([`OriginPolicy::decide`]: the
//!    request's own authority, the address the connection arrived on with the server's port,
//!    or an origin or name the owner trusts) is `403`: no cross-site WebSocket, no cross-site
//!    POST, from IP-literal pages neither.
//! 4. CORS is closed: no `Access-Control-*` header unless the origin is in
//!    [`bucketstream_core::config::LanConfig::cors_origins`].
//! 5. Clients on a trusted network (loopback by default) pass. So does everyone when the
//!    server is open to the LAN. Others need the key: `?key=KEY` once (answered with the
//!    cookie and a page that reloads the URL without the key), then the cookie; or
//!    `Authorization: Bearer KEY` (the scheme in any case) for scripts. Otherwise `401`.
//!
//! Who the client is comes from the TCP peer address only; `X-Forwarded-For`, `Forwarded`
//! and `X-Real-IP` are never read.

mod host;
mod origin;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Version};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use host::{host_of, HostPolicy};
pub use origin::{OriginPolicy, OriginVerdict};

use super::api::error_body;
use super::ServerState;
use bucketstream_core::library::Viewer;
use bucketstream_core::wire::{ErrorBody, ErrorCode};

/// Put on every request that passed because it had the key or cookie (not by address):
/// its WebSocket closes when the key is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyed(pub bool);

/// Put on every request: whether it is one of the server's own helpers (ffmpeg reading
/// `/media` with [`super::access::INTERNAL_HEADER`]); `/media` then never redirects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Internal(pub bool);

/// The local address (this machine's address and the server's port) the request's
/// connection arrived on; put on each request by [`super::limits::accept_loop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalAddr(pub SocketAddr);

/// Why the gate turned a request away before looking at the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP/1.1 without a `Host` header.
    MissingHost,
    /// More than one `Host` header.
    DuplicateHost,
    /// `Host` (or the request-target's authority) does not name this server.
    WrongHost,
    /// A WebSocket or state-changing request from another site's page.
    CrossSite(OriginVerdict),
}

impl Refusal {
    /// The answer's code (which carries its status) and message.
    pub fn body(self) -> ErrorBody {
        let (code, message) = match self {
            Refusal::MissingHost => (
                ErrorCode::MissingHost,
                "an HTTP/1.1 request needs a Host header",
            ),
            Refusal::DuplicateHost => (
                ErrorCode::DuplicateHost,
                "a request may carry only one Host header",
            ),
            Refusal::WrongHost => (
                ErrorCode::WrongHost,
                "this server does not answer to that host name",
            ),
            Refusal::CrossSite(_) => (ErrorCode::CrossSite, "cross-site requests are not allowed"),
        };
        ErrorBody::new(code, message)
    }
}

/// The Host and Origin checks (steps 1 to 3 of the module documentation) for a request.
pub fn check_request(
    hosts: &HostPolicy,
    req: &Request,
    local: Option<SocketAddr>,
) -> Result<(), Refusal> {
    let headers = req.headers();
    let mut host_headers = headers.get_all(header::HOST).iter();
    // A Host header that is not text names nothing we answer to ("" is refused).
    let host = host_headers.next().map(|v| v.to_str().unwrap_or_default());
    if host_headers.next().is_some() {
        return Err(Refusal::DuplicateHost);
    }
    if host.is_none() && req.version() >= Version::HTTP_11 {
        return Err(Refusal::MissingHost);
    }
    // Both the request-target's authority (absolute form) and `Host` must name us.
    let named = [req.uri().authority().map(|a| a.as_str()), host];
    if named
        .into_iter()
        .flatten()
        .any(|authority| !hosts.allows_authority(authority))
    {
        return Err(Refusal::WrongHost);
    }
    let is_ws =
        header_str(headers, header::UPGRADE).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !(is_ws || unsafe_method) {
        return Ok(());
    }
    for origin in headers.get_all(header::ORIGIN) {
        // An Origin that is not text is not this server's.
        let verdict = hosts
            .origins()
            .decide(origin.to_str().unwrap_or_default(), host, local);
        if !verdict.allowed() {
            return Err(Refusal::CrossSite(verdict));
        }
    }
    Ok(())
}

/// The middleware: see the module documentation for the order of the checks.
pub async fn gate(State(state): State<ServerState>, mut req: Request, next: Next) -> Response {
    let peer: Option<SocketAddr> = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0);
    let local = req.extensions().get::<LocalAddr>().map(|l| l.0);
    if let Err(refused) = check_request(&state.hosts, &req, local) {
        tracing::debug!(?peer, ?refused, "refused before the key check");
        return error_body(&refused.body());
    }
    let origin = header_str(req.headers(), header::ORIGIN).map(str::to_owned);
    let cors_ok = origin
        .as_deref()
        .is_some_and(|o| state.options.cors_origins.iter().any(|c| c == o));
    if cors_ok && req.method() == Method::OPTIONS {
        return with_cors(StatusCode::NO_CONTENT.into_response(), origin.as_deref());
    }
    // Decided once here; handlers read it from the request (`Viewer`, `Keyed`).
    let internal_header = header_str(
        req.headers(),
        header::HeaderName::from_static(super::access::INTERNAL_HEADER),
    );
    let internal = peer.is_some_and(|p| state.access.internal(p.ip(), internal_header));
    // The server's own helpers (ffmpeg reading `/media` for a transcode) count as the owner.
    let trusted = internal || peer.is_some_and(|p| state.access.trusted(p.ip()));
    let keyed = match admit(&state, trusted, &req) {
        Admit::Pass => false,
        Admit::Keyed => true,
        Admit::Pair => return pairing_page(&state, &req),
        Admit::Refuse => {
            tracing::debug!(?peer, "refused: no valid access key");
            return unauthorized(&req);
        }
    };
    req.extensions_mut().insert(Keyed(keyed));
    req.extensions_mut().insert(Internal(internal));
    req.extensions_mut()
        .insert(if trusted { Viewer::Owner } else { Viewer::Lan });
    let resp = next.run(req).await;
    if cors_ok {
        with_cors(resp, origin.as_deref())
    } else {
        resp
    }
}

enum Admit {
    Pass,
    Keyed,
    Pair,
    Refuse,
}

fn admit(state: &ServerState, trusted: bool, req: &Request) -> Admit {
    let access = &state.access;
    // Subsonic apps sign in on every request with their own credentials (`subsonic`).
    if trusted || access.open_to_lan() || req.uri().path().starts_with("/rest/") {
        return Admit::Pass;
    }
    if let Some(key) = query_key(req.uri().query()) {
        return if access.key_matches(key) {
            Admit::Pair
        } else {
            Admit::Refuse
        };
    }
    let bearer = header_str(req.headers(), header::AUTHORIZATION)
        .and_then(bearer_token)
        .is_some_and(|k| access.key_matches(k));
    let cookie = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .any(|(name, value)| name == super::access::COOKIE_NAME && access.token_matches(value));
    if bearer || cookie {
        Admit::Keyed
    } else {
        Admit::Refuse
    }
}

/// The token of an `Authorization: Bearer TOKEN` value; the scheme name is case-insensitive
/// (RFC 9110 §11.1), spaces around the token are ignored.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The value of the first `key=` query parameter.
pub fn query_key(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| *name == "key")
        .map(|(_, v)| v)
}

/// `path?query` without the `key` parameter; `/` when the path could leave this origin.
pub fn without_key(path: &str, query: Option<&str>) -> String {
    let path = if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
        "/"
    } else {
        path
    };
    let rest: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("key=") && *p != "key")
        .collect();
    if rest.is_empty() {
        path.to_owned()
    } else {
        // A backslash is harmless in a query, but browsers treat it as `/` elsewhere in a
        // URL: encode it so the reload target holds none at all (found by the fuzzer).
        format!("{path}?{}", rest.join("&").replace('\\', "%5C"))
    }
}

fn html_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

fn private_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
}

/// Sets the cookie and reloads the same URL without the key (a same-origin navigation, so
/// the SameSite=Strict cookie goes with it even when the QR code was opened from an app).
fn pairing_page(state: &ServerState, req: &Request) -> Response {
    let target = html_escape(&without_key(req.uri().path(), req.uri().query()));
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\
         <meta http-equiv=\"refresh\" content=\"0;url={target}\"><title>Bucketstream: paired</title>\
         <p>This device is paired. <a href=\"{target}\">Open the library</a>.</p>\n"
    );
    let mut resp = (StatusCode::OK, axum::response::Html(body)).into_response();
    private_headers(&mut resp);
    if let Ok(v) = HeaderValue::from_str(state.access.set_cookie().expose()) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

const UNPAIRED_PAGE: &str = "<!doctype html><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>Bucketstream: pair this device</title>\
<style>body{font:1.1rem system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}</style>\
<h1>Pair this device</h1><p>This Bucketstream server only plays for devices its owner has paired.</p>\
<p>On the computer running Bucketstream, open <b>Settings → LAN</b> (or look at the headless \
server's start-up output) and scan the QR code with this device, or open the pairing link it shows.</p>\
<p>If this device was paired before, the owner may have changed the access key: scan the new code.</p>\n";

fn unauthorized(req: &Request) -> Response {
    let wants_html =
        header_str(req.headers(), header::ACCEPT).is_some_and(|a| a.contains("text/html"));
    let mut resp = if wants_html {
        (
            StatusCode::UNAUTHORIZED,
            axum::response::Html(UNPAIRED_PAGE),
        )
            .into_response()
    } else {
        error_body(&ErrorBody::new(
            ErrorCode::Unauthorized,
            "this device is not paired: scan the QR code shown on the Bucketstream host",
        ))
    };
    private_headers(&mut resp);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"bucketstream\""),
    );
    resp
}

fn with_cors(mut resp: Response, origin: Option<&str>) -> Response {
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        // PATCH, DELETE and the tus headers: the desktop window (`tauri://localhost`) uploads
        // to `/api/uploads` with tus-js-client, which must read `Location` and `Upload-Offset`;
        // PUT: it saves resume positions (`/api/items/{id}/position`). `X-Start`: where a
        // transcoded stream really starts, which the player reads to place its seek bar.
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "range, authorization, content-type, tus-resumable, upload-length, \
                 upload-offset, upload-metadata, upload-checksum, upload-defer-length",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(
                "location, upload-offset, upload-length, upload-expires, upload-metadata, \
                 tus-resumable, tus-version, tus-extension, tus-max-size, tus-checksum-algorithm, \
                 x-start, x-transcode, retry-after",
            ),
        );
        // Appended: the handler may vary on something else too (`/api/videos` on
        // Accept-Encoding), and a cache must key on both.
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_stripped_and_redirect_stays_local() {
        assert_eq!(query_key(Some("a=1&key=abc")), Some("abc"));
        assert_eq!(query_key(Some("keys=1")), None);
        assert_eq!(without_key("/", Some("key=abc")), "/");
        assert_eq!(without_key("/x", Some("a=1&key=abc&b=2")), "/x?a=1&b=2");
        assert_eq!(without_key("//evil.example", Some("key=a")), "/");
        assert_eq!(without_key("/\\evil.example", None), "/");
        assert_eq!(without_key("/", Some("key=abc&x=0\\")), "/?x=0%5C");
        assert_eq!(html_escape("/\"><script>"), "/&quot;&gt;&lt;script&gt;");
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for (value, want) in [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER  abc ", Some("abc")),
            ("bEaReR\tabc", Some("abc")),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearerabc", None),
            ("Basic abc", None),
        ] {
            assert_eq!(bearer_token(value), want, "{value:?}");
        }
    }
}
