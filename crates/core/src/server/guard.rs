//! The gate every request passes: Host allowlist, Origin checks, closed CORS, then the key.
//!
//! Order matters and is fixed here:
//! 1. `Host` must be an IP literal, `localhost` (or `*.localhost`), the machine's name or
//!    `NAME.local`, or a name the owner added; anything else is `421 Misdirected Request`.
//!    This defeats DNS rebinding: a page at `evil.example` that rebinds its name to the
//!    server's address still sends `Host: evil.example`.
//! 2. A WebSocket handshake, or a request with a side effect (not GET/HEAD/OPTIONS), whose
//!    `Origin` is present and not on the same allowlist is `403`: no cross-site WebSocket,
//!    no cross-site POST.
//! 3. CORS is closed: no `Access-Control-*` header unless the origin is in
//!    [`super::LanOptions::cors_origins`].
//! 4. Clients on a trusted network (loopback by default) pass. So does everyone when the
//!    server is open to the LAN. Others need the key: `?key=KEY` once (answered with the
//!    cookie and a page that reloads the URL without the key), then the cookie; or
//!    `Authorization: Bearer KEY` for scripts. Otherwise `401`.
//!
//! Who the client is comes from the TCP peer address only; `X-Forwarded-For`, `Forwarded`
//! and `X-Real-IP` are never read.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ServerState;

/// Put on every request that passed because it had the key or cookie (not by address):
/// its WebSocket closes when the key is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyed(pub bool);

/// The names accepted in `Host` and `Origin`.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    names: Vec<String>,
}

impl HostPolicy {
    /// `localhost`, `host_name`, `host_name.local` and `extra` (case-insensitive).
    pub fn new(host_name: &str, extra: &[String]) -> HostPolicy {
        let mut names: Vec<String> = vec!["localhost".into()];
        let host = normalise(host_name.trim());
        if !host.is_empty() {
            names.push(format!("{host}.local"));
            names.push(host);
        }
        names.extend(
            extra
                .iter()
                .map(|n| normalise(n.trim()))
                .filter(|n| !n.is_empty()),
        );
        names.sort();
        names.dedup();
        HostPolicy { names }
    }

    /// Whether an authority (`host`, `host:port`, `[v6]:port`) names this server.
    pub fn allows_authority(&self, authority: &str) -> bool {
        match host_of(authority) {
            Some(host) => self.allows_host(host),
            None => false,
        }
    }

    /// Whether a bare host (no port) names this server. A name must be made of the
    /// characters of a DNS name (letters, digits, `-`, `_`, `.`); anything else is refused
    /// before it is compared (found by the fuzzer: `x&/.localhost` passed as a
    /// `.localhost` name).
    pub fn allows_host(&self, host: &str) -> bool {
        if host.parse::<IpAddr>().is_ok() {
            return true;
        }
        let host = normalise(host);
        is_host_name(&host) && (host.ends_with(".localhost") || self.names.contains(&host))
    }

    /// Whether an `Origin` value (`scheme://authority`) is this server's.
    pub fn allows_origin(&self, origin: &str) -> bool {
        match origin.split_once("://") {
            Some((scheme, rest)) if !scheme.is_empty() && !rest.contains('/') => {
                self.allows_authority(rest)
            }
            _ => false,
        }
    }
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Letters, digits, `-`, `_` and `.` only, at most 253 bytes: the shape of a DNS name.
fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The host part of an authority: `[::1]:80` → `::1`, `a.b:80` → `a.b`, `a.b` → `a.b`.
/// `None` for empty or malformed input (userinfo, unbalanced brackets, a bad port).
pub fn host_of(authority: &str) -> Option<&str> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some(host),
            port => valid_port(port.strip_prefix(':')?).then_some(host),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            (valid_port(port) && !host.is_empty()).then_some(host)
        }
        Some(_) => None,
        None => Some(authority),
    }
}

fn valid_port(port: &str) -> bool {
    !port.is_empty() && port.len() <= 5 && port.parse::<u16>().is_ok()
}

/// The middleware: see the module documentation for the order of the checks.
pub async fn gate(State(state): State<ServerState>, mut req: Request, next: Next) -> Response {
    let peer: Option<SocketAddr> = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0);
    let headers = req.headers();
    // Both the request-target's authority (absolute form) and `Host` must name us.
    let named = [
        req.uri().authority().map(|a| a.as_str()),
        // A Host header that is not text names nothing we answer to ("" is refused).
        headers
            .get(header::HOST)
            .map(|v| v.to_str().unwrap_or_default()),
    ];
    for authority in named.into_iter().flatten() {
        if !state.hosts.allows_authority(authority) {
            tracing::debug!(?peer, "refused: Host not on the allowlist");
            return refusal(
                StatusCode::MISDIRECTED_REQUEST,
                "wrong_host",
                "this server does not answer to that host name",
            );
        }
    }
    let origin = header_str(headers, header::ORIGIN).map(str::to_owned);
    let cors_ok = origin
        .as_deref()
        .is_some_and(|o| state.options.cors_origins.iter().any(|c| c == o));
    let is_ws =
        header_str(headers, header::UPGRADE).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let Some(origin) = &origin {
        if (is_ws || unsafe_method) && !cors_ok && !state.hosts.allows_origin(origin) {
            tracing::debug!(?peer, "refused: cross-site Origin");
            return refusal(
                StatusCode::FORBIDDEN,
                "cross_site",
                "cross-site requests are not allowed",
            );
        }
    }
    if cors_ok && req.method() == Method::OPTIONS {
        return with_cors(StatusCode::NO_CONTENT.into_response(), origin.as_deref());
    }
    let keyed = match admit(&state, peer.map(|p| p.ip()), &req) {
        Admit::Pass => false,
        Admit::Keyed => true,
        Admit::Pair => return pairing_page(&state, &req),
        Admit::Refuse => {
            tracing::debug!(?peer, "refused: no valid access key");
            return unauthorized(&req);
        }
    };
    req.extensions_mut().insert(Keyed(keyed));
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

fn admit(state: &ServerState, peer: Option<IpAddr>, req: &Request) -> Admit {
    let access = &state.access;
    if peer.is_some_and(|ip| access.trusted(ip)) || access.open_to_lan() {
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
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|k| access.key_matches(k.trim()));
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
        refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this device is not paired: scan the QR code shown on the Bucketstream host",
        )
    };
    private_headers(&mut resp);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"bucketstream\""),
    );
    resp
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}

fn with_cors(mut resp: Response, origin: Option<&str>) -> Response {
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("range, authorization"),
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
    fn host_allowlist() {
        let p = HostPolicy::new("Mybox", &["media.home.arpa".into()]);
        for ok in [
            "127.0.0.1:8080",
            "192.168.1.20",
            "[::1]:80",
            "[fe80::1]",
            "localhost:8080",
            "LOCALHOST",
            "app.localhost",
            "mybox",
            "mybox.local.",
            "MyBox.Local:8080",
            "media.home.arpa:1",
        ] {
            assert!(p.allows_authority(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "",
            ":80",
            "mybox:",
            "mybox:99999",
            "u@127.0.0.1",
            "[::1",
            "::1",
            "0x7f000001",
            "mybox.local.evil",
            "[::1]x",
            "\n\nhevil&/.localhost\n",
            "a b.localhost",
            " mybox",
            "my%62ox",
        ] {
            assert!(!p.allows_authority(bad), "{bad}");
        }
        assert!(p.allows_origin("http://127.0.0.1:8080"));
        assert!(p.allows_origin("tauri://localhost"));
        assert!(p.allows_origin("http://tauri.localhost"));
        for bad in [
            "null",
            "https://evil.example",
            "http://evil.example:8080",
            "127.0.0.1",
            "http://127.0.0.1/x",
        ] {
            assert!(!p.allows_origin(bad), "{bad}");
        }
    }

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
}
