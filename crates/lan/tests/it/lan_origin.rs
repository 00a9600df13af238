//! The Origin rule on real sockets: a page on another site, IP-literal ones included, can
//! neither open the WebSocket nor POST; this server's own origins can; the desktop window's
//! origins pass only where the desktop shell trusts them. Also the `Host` header's shape
//! (missing or repeated: `400`), `Authorization: bearer` in any case, and the player page's
//! security headers.
//!
//! Clients connect from `127.0.0.1` (trusted, so only the Host/Origin checks stand between
//! them and the library: the owner's own browser) or from `127.0.0.2` ("a LAN client").

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::lan_common::{client_from, get, lan_options, media, raw, ws_from, LanServer, LAN_IP};

const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

/// The first text frame of a WebSocket, or what ended it.
async fn first_text(ws: &mut WebSocketStream<TcpStream>) -> String {
    match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => t.to_string(),
        other => format!("no text frame: {other:?}"),
    }
}

/// Asserts that a WebSocket handshake from loopback with `headers` is refused with 403,
/// and that nothing of the library came back.
async fn assert_ws_refused(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) {
    match ws_from(LOOPBACK, addr, path, headers).await {
        Err(err) => assert!(err.contains("403"), "{path} {headers:?}: {err}"),
        Ok(mut ws) => {
            let frame = first_text(&mut ws).await;
            panic!("{path} {headers:?}: cross-site WebSocket opened and got {frame:.120}");
        }
    }
}

/// A POST /api/refresh from loopback with `headers`: its status and error code.
async fn post_refresh(server: &LanServer, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = client_from(LOOPBACK).post(server.url("/api/refresh"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.expect("post");
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn ip_literal_and_other_port_pages_cannot_read_or_refresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    media(&server, dir.path(), "song.mp3", 1000).await;
    let port = server.addr.port();
    let foreign = [
        "http://203.0.113.7".to_owned(),
        format!("http://203.0.113.7:{port}"),
        "http://127.0.0.1:9999".to_owned(),
        format!("http://127.0.0.2:{port}"),
        format!("http://[::1]:{}", port.wrapping_add(1)),
        "null".to_owned(),
        "tauri://localhost".to_owned(),
        "http://tauri.localhost".to_owned(),
    ];
    for origin in &foreign {
        for path in ["/ws", "/"] {
            assert_ws_refused(server.addr, path, &[("origin", origin)]).await;
        }
        let (status, code) = post_refresh(&server, &[("origin", origin)]).await;
        assert_eq!((status, code.as_str()), (403, "cross_site"), "{origin}");
    }
    // A foreign Origin with a Host we answer to is still foreign.
    let (status, _) = post_refresh(
        &server,
        &[
            ("origin", "http://203.0.113.7"),
            ("host", &format!("localhost:{port}")),
        ],
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn this_servers_own_origins_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    media(&server, dir.path(), "song.mp3", 1000).await;
    let port = server.addr.port();
    // Same authority as Host (the handshake's Host is 127.0.0.1:PORT).
    let own = format!("http://127.0.0.1:{port}");
    let mut ws = ws_from(LOOPBACK, server.addr, "/ws", &[("origin", &own)])
        .await
        .expect("same-origin websocket");
    let frame = first_text(&mut ws).await;
    assert!(frame.contains("\"media_list\""), "{frame:.120}");
    assert!(frame.contains("song.mp3"), "{frame:.120}");
    assert_eq!(post_refresh(&server, &[("origin", &own)]).await.0, 200);
    // Names: same authority, case and a trailing dot aside.
    let host = format!("localhost:{port}");
    let origin = format!("http://LocalHost.:{port}");
    let pair = [("origin", origin.as_str()), ("host", host.as_str())];
    assert_eq!(post_refresh(&server, &pair).await.0, 200);
    // The address the connection arrived on, with the server's port, whatever the Host.
    let host = format!("testbox.local:{port}");
    let pair = [("origin", own.as_str()), ("host", host.as_str())];
    assert_eq!(post_refresh(&server, &pair).await.0, 200);
    // No Origin (curl, scripts): the Origin rule does not apply.
    assert_eq!(post_refresh(&server, &[]).await.0, 200);
}

#[tokio::test]
async fn desktop_window_origins_pass_only_where_trusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = lan_options();
    opts.trusted_origins = bucketstream_lan::desktop_origins();
    let server = LanServer::start(dir.path(), opts).await;
    for origin in ["tauri://localhost", "http://tauri.localhost"] {
        ws_from(LOOPBACK, server.addr, "/ws", &[("origin", origin)])
            .await
            .expect("desktop window websocket");
        assert_eq!(post_refresh(&server, &[("origin", origin)]).await.0, 200);
    }
    assert_ws_refused(server.addr, "/ws", &[("origin", "http://203.0.113.7")]).await;
}

#[tokio::test]
async fn missing_or_repeated_host_is_a_bad_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let wait = Duration::from_secs(5);
    let addr = server.addr;
    let host = format!("Host: {addr}\r\n");
    let ask = move |head: String| async move {
        let reply = raw(LOOPBACK, addr, head.as_bytes(), wait).await;
        reply.lines().next().unwrap_or_default().to_owned()
    };
    let missing = ask("GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n".into()).await;
    assert!(missing.starts_with("HTTP/1.1 400"), "{missing}");
    let twice = ask(format!(
        "GET /api/health HTTP/1.1\r\n{host}{host}Connection: close\r\n\r\n"
    ))
    .await;
    assert!(twice.starts_with("HTTP/1.1 400"), "{twice}");
    let other = ask(format!(
        "GET /api/health HTTP/1.1\r\n{host}Host: evil.example\r\nConnection: close\r\n\r\n"
    ))
    .await;
    assert!(other.starts_with("HTTP/1.1 400"), "{other}");
    let once = ask(format!(
        "GET /api/health HTTP/1.1\r\n{host}Connection: close\r\n\r\n"
    ))
    .await;
    assert!(once.starts_with("HTTP/1.1 200"), "{once}");
    // HTTP/1.0 has no Host requirement.
    let old = ask("GET /api/health HTTP/1.0\r\n\r\n".into()).await;
    assert!(old.contains(" 200"), "{old}");
}

#[tokio::test]
async fn bearer_scheme_in_any_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let key = server.key();
    let lan = client_from(LAN_IP);
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let auth = format!("{scheme} {key}");
        let resp = get(&lan, server.url("/api/videos"), &[("authorization", &auth)]).await;
        assert_eq!(resp.status(), 200, "{scheme}");
    }
    let lower = format!("bearer {key}");
    ws_from(LAN_IP, server.addr, "/ws", &[("authorization", &lower)])
        .await
        .expect("websocket with a lower-case bearer");
    let wrong = get(
        &lan,
        server.url("/api/videos"),
        &[("authorization", "bearer 00ff")],
    )
    .await;
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn player_page_forbids_framing_and_foreign_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let local = client_from(LOOPBACK);
    for path in ["/", "/app.js"] {
        let resp = get(&local, server.url(path), &[]).await;
        assert_eq!(resp.status(), 200, "{path}");
        let h = resp.headers();
        let csp = h
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let ws = format!("connect-src 'self' ws://{0} wss://{0};", server.addr);
        assert!(csp.contains(&ws), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(
            h.get(header::X_FRAME_OPTIONS).map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
        assert_eq!(
            h.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
    }
}
