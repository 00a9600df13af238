//! LAN access: the key, its cookie, rotation, the loopback exemption, Host and Origin checks,
//! closed CORS, and that neither the key nor a secret shows up where it must not.
//!
//! "A LAN client" connects from 127.0.0.2 while only 127.0.0.1 is trusted (see
//! [`crate::lan_common`]).

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header;
use tokio_tungstenite::tungstenite::Message;

use crate::lan_common::{
    allowed_origin, client_from, cookie_pair, get, lan_options, ws_from, LanServer, LAN_IP,
};

const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

#[tokio::test]
async fn lan_client_needs_the_key_and_loopback_does_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let key = server.key();
    let lan = client_from(LAN_IP);

    // No key: 401, a page telling the person to scan the QR code, no key in it.
    let page = get(&lan, server.url("/"), &[("accept", "text/html")]).await;
    assert_eq!(page.status(), 401);
    let text = page.text().await.expect("body");
    assert!(text.contains("scan the QR code"), "{text}");
    assert!(!text.contains(&key));
    let api = get(&lan, server.url("/api/videos"), &[]).await;
    assert_eq!(api.status(), 401);
    assert_eq!(
        api.json::<serde_json::Value>().await.expect("json")["error"]["code"],
        "unauthorized"
    );
    // Claiming to be local through proxy headers changes nothing.
    let spoof = lan
        .get(server.url("/api/videos"))
        .header("x-forwarded-for", "127.0.0.1")
        .header("x-real-ip", "127.0.0.1")
        .header("forwarded", "for=127.0.0.1")
        .send()
        .await
        .expect("get");
    assert_eq!(spoof.status(), 401);
    // A wrong key or a forged cookie: 401.
    let wrong = get(&lan, server.url("/?key=00ff"), &[]).await;
    assert_eq!(wrong.status(), 401);
    let forged = get(
        &lan,
        server.url("/api/videos"),
        &[("cookie", &format!("bucketstream_lan={key}"))],
    )
    .await;
    assert_eq!(
        forged.status(),
        401,
        "the cookie holds a token, not the key"
    );
    // The WebSocket without the key is refused at the handshake.
    assert!(ws_from(LAN_IP, server.addr, "/ws", &[]).await.is_err());

    // Loopback needs nothing.
    let local = client_from(LOOPBACK);
    let ok = get(&local, server.url("/api/videos"), &[]).await;
    assert_eq!(ok.status(), 200);
    assert!(ws_from(LOOPBACK, server.addr, "/", &[]).await.is_ok());
}

#[tokio::test]
async fn key_becomes_cookie_and_rotation_logs_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let key = server.key();
    let lan = client_from(LAN_IP);

    let paired = lan
        .get(server.url(&format!("/?key={key}&view=list")))
        .send()
        .await
        .expect("pair");
    assert_eq!(paired.status(), 200);
    let set = paired
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("set-cookie")
        .to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    assert!(!set.contains(&key), "the cookie must not hold the key");
    assert_eq!(
        paired.headers().get(header::CACHE_CONTROL).expect("cc"),
        "no-store"
    );
    assert_eq!(
        paired.headers().get(header::REFERRER_POLICY).expect("rp"),
        "no-referrer"
    );
    let cookie = cookie_pair(&paired);
    let page = paired.text().await.expect("page");
    assert!(
        page.contains("url=/?view=list"),
        "reloads without the key: {page}"
    );
    assert!(!page.contains(&key));

    let with_cookie = get(
        &lan,
        server.url("/api/videos"),
        &[("cookie", &format!("other=1; {cookie}"))],
    )
    .await;
    assert_eq!(with_cookie.status(), 200);
    let bearer = lan
        .get(server.url("/api/health"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("get");
    assert_eq!(bearer.status(), 200);
    let mut ws = ws_from(LAN_IP, server.addr, "/ws", &[("cookie", &cookie)])
        .await
        .expect("keyed websocket");
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("frame")
        .expect("open")
        .expect("frame");
    assert!(first.to_text().expect("text").contains("media_list"));

    // Rotate: the cookie stops working and the keyed WebSocket is closed.
    server.state.access.rotate().expect("rotate");
    assert_ne!(server.key(), key);
    let after = get(&lan, server.url("/api/videos"), &[("cookie", &cookie)]).await;
    assert_eq!(after.status(), 401);
    let old_key = get(&lan, server.url(&format!("/?key={key}")), &[]).await;
    assert_eq!(old_key.status(), 401);
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(closed.map(|f| u16::from(f.code)), Some(1008));
    // Loopback clients are not affected by rotation.
    let local = client_from(LOOPBACK);
    assert_eq!(
        get(&local, server.url("/api/videos"), &[]).await.status(),
        200
    );
}

#[tokio::test]
async fn open_to_lan_admits_everyone_but_keeps_host_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let closed = LanServer::start(dir.path(), lan_options()).await;
    let lan = client_from(LAN_IP);
    assert_eq!(
        get(&lan, closed.url("/api/videos"), &[]).await.status(),
        401
    );
    let mut options = lan_options();
    options.open_to_lan = true;
    let open = LanServer::start(dir.path(), options).await;
    assert_eq!(get(&lan, open.url("/api/videos"), &[]).await.status(), 200);
    let evil = get(&lan, open.url("/api/videos"), &[("host", "evil.example")]).await;
    assert_eq!(evil.status(), 421);
}

#[tokio::test]
async fn foreign_host_and_cross_site_websocket_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let local = client_from(LOOPBACK);
    let port = server.addr.port();
    // DNS rebinding: even the trusted loopback client is refused under a foreign name.
    for host in [
        "evil.example",
        "evil.example:80",
        "127.0.0.1.evil.example",
        "localhost.evil.example",
    ] {
        let resp = get(&local, server.url("/api/videos"), &[("host", host)]).await;
        assert_eq!(resp.status(), 421, "{host}");
        let text = resp.text().await.expect("body");
        assert!(!text.contains("\"items\""), "{text}");
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("testbox.local:{port}"),
        format!("[::1]:{port}"),
    ] {
        let resp = get(&local, server.url("/api/health"), &[("host", &host)]).await;
        assert_eq!(resp.status(), 200, "{host}");
    }
    // A cross-site WebSocket is refused at the handshake, on both WebSocket paths.
    for path in ["/ws", "/"] {
        let err = ws_from(
            LOOPBACK,
            server.addr,
            path,
            &[("origin", "https://evil.example")],
        )
        .await
        .expect_err("cross-site websocket must fail");
        assert!(err.contains("403"), "{err}");
        ws_from(LOOPBACK, server.addr, path, &[("origin", "null")])
            .await
            .expect_err("opaque origin must fail");
        ws_from(
            LOOPBACK,
            server.addr,
            path,
            &[("origin", &format!("http://127.0.0.1:{port}"))],
        )
        .await
        .expect("same-origin websocket");
        // The desktop window's origin is trusted only where the desktop shell says so
        // (`LanOptions::trusted_origins`, see lan_origin.rs); a headless server refuses it.
        ws_from(
            LOOPBACK,
            server.addr,
            path,
            &[("origin", "tauri://localhost")],
        )
        .await
        .expect_err("desktop origin on a headless server");
    }
    // A cross-site POST (CSRF) is refused; CORS stays closed.
    let post = local
        .post(server.url("/api/refresh"))
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), 403);
    let get = get(
        &local,
        server.url("/api/videos"),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(allowed_origin(&get), None);
    let preflight = local
        .request(reqwest::Method::OPTIONS, server.url("/api/videos"))
        .header(header::ORIGIN, "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("options");
    assert_eq!(allowed_origin(&preflight), None);
}

#[tokio::test]
async fn cors_opens_only_for_configured_origins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = lan_options();
    opts.cors_origins = vec!["https://player.example".into()];
    let server = LanServer::start(dir.path(), opts).await;
    let local = client_from(LOOPBACK);
    let ok = get(
        &local,
        server.url("/api/videos"),
        &[("origin", "https://player.example")],
    )
    .await;
    assert_eq!(allowed_origin(&ok), Some("https://player.example"));
    // CORS adds `origin` to Vary without dropping the handler's `accept-encoding`.
    let vary: Vec<&str> = ok
        .headers()
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(vary.contains(&"origin"), "{vary:?}");
    assert!(vary.contains(&"accept-encoding"), "{vary:?}");
    // tus-js-client in such a page (the desktop window) may PATCH with the tus headers and
    // read the upload's Location and Upload-Offset.
    let preflight = local
        .request(reqwest::Method::OPTIONS, server.url("/api/uploads"))
        .header(header::ORIGIN, "https://player.example")
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "tus-resumable,upload-offset",
        )
        .send()
        .await
        .expect("options");
    assert_eq!(allowed_origin(&preflight), Some("https://player.example"));
    let said = |resp: &reqwest::Response, name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(said(&preflight, "access-control-allow-methods").contains("PATCH"));
    assert!(said(&preflight, "access-control-allow-headers").contains("upload-offset"));
    assert!(said(&ok, "access-control-expose-headers").contains("location"));
    assert!(said(&ok, "access-control-expose-headers").contains("upload-offset"));
    // The desktop window's player reads where a transcoded stream starts.
    assert!(said(&ok, "access-control-expose-headers").contains("x-start"));
    let other = get(
        &local,
        server.url("/api/videos"),
        &[("origin", "https://other.example")],
    )
    .await;
    assert_eq!(allowed_origin(&other), None);
}

#[tokio::test]
async fn no_key_in_replies_without_it_nor_in_logs() {
    let logs = crate::lan_logs::capture();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let key = server.key();
    let lan = client_from(LAN_IP);
    let mut seen = String::new();
    let requests: Vec<reqwest::RequestBuilder> = vec![
        lan.get(server.url("/")).header(header::ACCEPT, "text/html"),
        lan.get(server.url("/api/videos")),
        lan.get(server.url("/?key=nope")),
        lan.get(server.url("/ws")),
        lan.post(server.url("/api/refresh")),
        lan.get(server.url("/"))
            .header(header::HOST, "evil.example"),
        lan.post(server.url("/api/refresh"))
            .header(header::ORIGIN, "https://evil.example"),
        lan.get(server.url(&format!("/api/videos?key={}", &key[..10]))),
    ];
    for req in requests {
        let resp = req.send().await.expect("send");
        assert!(resp.status().is_client_error(), "{}", resp.status());
        seen.push_str(&format!("{:?}", resp.headers()));
        seen.push_str(&resp.text().await.expect("body"));
    }
    // Pairing, a keyed session and a rotation all log something; none may log the key.
    let paired = lan
        .get(server.url(&format!("/?key={key}")))
        .send()
        .await
        .expect("pair");
    assert_eq!(paired.status(), 200);
    server.state.access.rotate().expect("rotate");
    let new_key = server.key();
    assert!(!seen.contains(&key), "a reply without the key showed it");
    let token_of_new = cookie_pair(
        &lan.get(server.url(&format!("/?key={new_key}")))
            .send()
            .await
            .expect("pair"),
    );
    let logged = logs.text();
    assert!(!logged.is_empty(), "the capture saw no log line at all");
    for secret in [&key, &new_key, &token_of_new] {
        assert!(
            !logged.contains(secret.as_str()),
            "a log line holds a secret"
        );
    }
    assert!(!format!("{:?}", server.state.access.key()).contains(&new_key));
    assert!(!format!("{:?}", lan_options()).contains(&new_key));
}

#[tokio::test]
async fn hostile_ids_never_reach_files_outside_the_library() {
    let root = tempfile::tempdir().expect("tempdir");
    let media_dir = root.path().join("media");
    std::fs::create_dir_all(&media_dir).expect("mkdir");
    let sentinel = "SENTINEL-outside-the-library-7f3a";
    std::fs::write(root.path().join("secret.mp3"), sentinel).expect("write");
    std::fs::write(media_dir.join("ok.mp3"), b"inside").expect("write");
    let server = LanServer::start(&media_dir, lan_options()).await;
    let key = server.key();
    let lan = client_from(LAN_IP);
    let ids = [
        "../secret.mp3",
        "..%2Fsecret.mp3",
        "%2e%2e%2fsecret.mp3",
        "..%5Csecret.mp3",
        "%2Fetc%2Fpasswd",
        "secret.mp3",
        "ok.mp3%00",
        "%00",
        "....%2F%2F..%2F%2Fsecret.mp3",
        "0123456789abcdef0123456789abcdef%2F..",
    ];
    for id in ids {
        for path in [format!("/media/{id}"), format!("/media/x/{id}")] {
            let resp = lan
                .get(server.url(&path))
                .bearer_auth(&key)
                .send()
                .await
                .expect("get");
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            assert!(
                !body.contains(sentinel),
                "{path} leaked a file outside the library"
            );
            assert!(!body.contains("root:"), "{path} leaked /etc/passwd");
            assert!(status.is_client_error(), "{path}: {status}");
        }
    }
}
