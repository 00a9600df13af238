//! Limits: slowloris and oversized headers are dropped while a normal client keeps
//! streaming; connection counts, requests in flight and WebSocket message rate are bounded
//! per client, and exceeding one never affects another client.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::lan_common::{
    client_from, lan_options, media, raw, tcp_from, ws_from, LanServer, LAN_IP,
};

const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

/// Streams `/media/{id}` from loopback slowly (64 KiB at a time) and returns the byte count.
async fn slow_stream(url: String) -> usize {
    let resp = client_from(LOOPBACK).get(url).send().await.expect("stream");
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let mut total = 0;
    while let Some(chunk) = body.next().await {
        total += chunk.expect("chunk").len();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    total
}

#[tokio::test]
async fn slowloris_and_huge_headers_are_dropped_while_a_stream_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = lan_options();
    opts.limits.header_read_timeout = Duration::from_secs(1);
    let server = LanServer::start(dir.path(), opts).await;
    let len = 3 * 1024 * 1024;
    let id = media(&server, dir.path(), "song.mp3", len).await;
    let streaming = tokio::spawn(slow_stream(server.url(&format!("/media/{id}"))));

    // Slowloris: a header line every 300 ms, never finished.
    let started = Instant::now();
    let mut slow = tcp_from(LAN_IP, server.addr).await;
    slow.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("write");
    let mut dropped = false;
    for i in 0..40 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if slow
            .write_all(format!("x-{i}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            dropped = true;
            break;
        }
        let mut buf = [0u8; 256];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(10), slow.read(&mut buf)).await
        {
            dropped = true;
            break;
        }
    }
    let took = started.elapsed();
    assert!(dropped, "slowloris client was never dropped");
    assert!(took < Duration::from_secs(4), "dropped only after {took:?}");

    // Oversized head: 431 and closed. Too many header fields: 431 too.
    let big = format!(
        "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let reply = raw(LAN_IP, server.addr, big.as_bytes(), Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");
    let many: String = (0..200).map(|i| format!("x-{i}: 1\r\n")).collect();
    let reply = raw(
        LAN_IP,
        server.addr,
        format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n{many}\r\n").as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");

    // The normal client got every byte.
    let got = tokio::time::timeout(Duration::from_secs(60), streaming)
        .await
        .expect("stream finishes")
        .expect("task");
    assert_eq!(got, len);
}

#[tokio::test]
async fn connection_limits_turn_away_only_the_greedy_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = lan_options();
    opts.limits.max_connections_per_client = 3;
    opts.limits.max_connections = 6;
    let server = LanServer::start(dir.path(), opts).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tcp_from(LAN_IP, server.addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reply = raw(LAN_IP, server.addr, b"", Duration::from_secs(3)).await;
    assert!(reply.starts_with("HTTP/1.1 429"), "{reply}");
    assert!(reply.contains("too_many_connections"), "{reply}");
    // Another client is unaffected.
    let ok = client_from(LOOPBACK)
        .get(server.url("/api/health"))
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
    // Fill the server: 3 (LAN_IP) + 2 more; the 6th connection of anyone gets 503.
    for _ in 0..2 {
        held.push(tcp_from([127, 0, 0, 3], server.addr).await);
    }
    let mut sixth = tcp_from([127, 0, 0, 4], server.addr).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reply = raw([127, 0, 0, 5], server.addr, b"", Duration::from_secs(3)).await;
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    let _ = sixth
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await;
    // Closing connections frees their slots.
    drop(held);
    drop(sixth);
    let mut freed = false;
    for _ in 0..50 {
        if server.state.counters.connections() == 0 {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        freed,
        "slots not released: {}",
        server.state.counters.connections()
    );
}

#[tokio::test]
async fn requests_in_flight_are_bounded_per_client_and_stalled_downloads_time_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = lan_options();
    opts.limits.max_requests_per_client = 2;
    opts.limits.idle_timeout = Duration::from_secs(3);
    let server = LanServer::start(dir.path(), opts).await;
    let len = 48 * 1024 * 1024;
    let id = media(&server, dir.path(), "film.mp4", len).await;
    let key = server.key();
    let request = format!(
        "GET /media/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n"
    )
    .into_bytes();
    // Two downloads from a LAN client that stop reading after the first bytes: both stay
    // in flight.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut s = tcp_from(LAN_IP, server.addr).await;
        s.write_all(&request).await.expect("write");
        let mut head = [0u8; 1024];
        let n = s.read(&mut head).await.expect("read");
        assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"));
        stalled.push(s);
    }
    let third = client_from(LAN_IP)
        .get(server.url("/api/health"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("get");
    assert_eq!(third.status(), 429);
    assert!(third.headers().get("retry-after").is_some());
    // Another client is not limited by them.
    let other = client_from([127, 0, 0, 3])
        .get(server.url(&format!("/?key={}", server.key())))
        .send()
        .await
        .expect("get");
    assert_eq!(other.status(), 200);
    let owner = client_from(LOOPBACK)
        .get(server.url("/api/health"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        owner.status(),
        200,
        "loopback is not held to per-client caps"
    );
    // After idle_timeout with no byte moving, the stalled downloads are closed and the
    // slots come back.
    let started = Instant::now();
    let mut back = false;
    while started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let resp = client_from(LAN_IP)
            .get(server.url("/api/health"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("get");
        if resp.status() == 200 {
            back = true;
            break;
        }
    }
    assert!(back, "stalled downloads were never closed");
    // A slot back means one of them was cut; each watchdog ticks on its own, so wait until the
    // server holds no connection before reading (reading would make bytes move again).
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(20) {
        if server.state.counters.connections() == 0 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        closed,
        "{} connections still open",
        server.state.counters.connections()
    );
    for mut s in stalled {
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut rest)).await;
        assert!(rest.len() < len, "a stalled download was not cut");
    }
}

#[tokio::test]
async fn websocket_message_rate_is_limited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = lan_options();
    opts.limits.ws_messages_per_sec = 1;
    opts.limits.ws_burst = 2;
    opts.limits.ws_max_refused = 3;
    let server = LanServer::start(dir.path(), opts).await;
    let mut ws = ws_from(LOOPBACK, server.addr, "/ws", &[])
        .await
        .expect("ws");
    for _ in 0..8 {
        if ws.send(Message::text("{\"type\":\"ping\"}")).await.is_err() {
            break;
        }
    }
    let mut pongs = 0;
    let mut limited = 0;
    let mut close = None;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        match msg {
            Message::Text(t) if t.contains("pong") => pongs += 1,
            Message::Text(t) if t.contains("rate_limited") => limited += 1,
            Message::Close(frame) => {
                close = frame.map(|f| u16::from(f.code));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(pongs, 2, "the burst is answered");
    assert_eq!(limited, 2, "then refusals");
    assert_eq!(close, Some(1008), "then the connection is closed");
    // Others are not affected.
    let mut other = ws_from(LOOPBACK, server.addr, "/", &[]).await.expect("ws");
    other
        .send(Message::text("{\"type\":\"ping\"}"))
        .await
        .expect("send");
    let mut got_pong = false;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(10), other.next()).await
    {
        if matches!(&msg, Message::Text(t) if t.contains("pong")) {
            got_pong = true;
            break;
        }
    }
    assert!(got_pong);
}

#[tokio::test]
async fn odd_host_headers_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let cases: [&[u8]; 4] = [
        b"GET /api/health HTTP/1.1\r\nHost: \xff\xfeevil\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: \r\n\r\n",
        b"GET http://evil.example/api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET http://127.0.0.1/api/health HTTP/1.1\r\nHost: evil.example\r\n\r\n",
    ];
    for req in cases {
        let reply = raw(LOOPBACK, server.addr, req, Duration::from_secs(3)).await;
        assert!(
            reply.starts_with("HTTP/1.1 421") || reply.starts_with("HTTP/1.1 400"),
            "{:?}: {reply}",
            String::from_utf8_lossy(req)
        );
    }
}
