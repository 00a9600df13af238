//! The shared suite against a local folder.

use std::time::Duration;

use crate::common::{local_source, TestServer};
use crate::suite::{self, Backend};

async fn setup() -> (tempfile::TempDir, TestServer, Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server =
        TestServer::start(local_source(dir.path()), Some(Duration::from_millis(500))).await;
    let backend = Backend::Local(dir.path().to_owned());
    (dir, server, backend)
}

#[tokio::test]
async fn local_hostile_keys_round_trip() {
    let (_dir, server, backend) = setup().await;
    suite::hostile_keys_round_trip(&server, &backend).await;
}

#[tokio::test]
async fn local_ranges_are_exact() {
    let (_dir, server, backend) = setup().await;
    suite::ranges_are_exact(&server, &backend).await;
}

#[tokio::test]
async fn local_bad_ids_are_not_found() {
    let (_dir, server, _backend) = setup().await;
    suite::bad_ids_are_not_found(&server).await;
}

#[tokio::test]
async fn local_websocket_protocol() {
    let (_dir, server, backend) = setup().await;
    suite::websocket_protocol(&server, &backend).await;
}

#[tokio::test]
async fn local_health_and_page() {
    let (_dir, server, _backend) = setup().await;
    server.refresh().await;
    suite::health_and_page(&server, "local").await;
}

/// A list longer than one 16 KiB fragment reaches a WebSocket client as one message, and on
/// the wire it is a text frame followed by continuation frames of at most 16 KiB each (read
/// here frame by frame, without a WebSocket library), so the server never buffers it whole.
#[tokio::test]
async fn local_long_list_is_fragmented_on_the_wire() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..300 {
        let name = format!("track {i:03} — a long descriptive title, recorded live.mp3");
        std::fs::write(dir.path().join(name), b"x").expect("write");
    }
    let server = TestServer::start(local_source(dir.path()), None).await;
    server.refresh().await;
    let videos = server.videos().await;
    assert_eq!(videos.len(), 300);

    let mut ws = server.ws("/ws").await;
    let list = ws.until("media_list").await;
    assert_eq!(list["items"], serde_json::Value::Array(videos));

    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        server.addr
    );
    tcp.write_all(request.as_bytes()).await.expect("handshake");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.expect("response head"));
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    // The accept key of RFC 6455 §1.3's example nonce.
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );

    let mut frames: Vec<(bool, u8, Vec<u8>)> = Vec::new();
    while frames.last().is_none_or(|f| !f.0) {
        let b0 = tcp.read_u8().await.expect("frame");
        let b1 = tcp.read_u8().await.expect("frame");
        assert_eq!(b1 & 0x80, 0, "server frames are not masked");
        let len = match b1 & 0x7f {
            126 => u64::from(tcp.read_u16().await.expect("length")),
            127 => tcp.read_u64().await.expect("length"),
            n => u64::from(n),
        };
        let mut payload = vec![0; usize::try_from(len).expect("length")];
        tcp.read_exact(&mut payload).await.expect("payload");
        frames.push((b0 & 0x80 != 0, b0 & 0x0f, payload));
    }
    assert!(frames.len() >= 2, "{} frames", frames.len());
    for (i, (fin, opcode, payload)) in frames.iter().enumerate() {
        assert_eq!(
            *opcode,
            if i == 0 { 1 } else { 0 },
            "frame {i}: text, then continuation"
        );
        assert_eq!(
            *fin,
            i + 1 == frames.len(),
            "frame {i}: only the last is final"
        );
        assert!(
            payload.len() <= 16 * 1024,
            "frame {i}: {} bytes",
            payload.len()
        );
    }
    let whole: Vec<u8> = frames.into_iter().flat_map(|f| f.2).collect();
    let value: serde_json::Value = serde_json::from_slice(&whole).expect("one JSON message");
    assert_eq!(value["type"], "media_list");
    assert_eq!(value["items"], list["items"]);
}

/// Requests that are not a valid WebSocket upgrade get a clear status, not a hang.
#[tokio::test]
async fn local_bad_upgrades_are_refused() {
    let (_dir, server, _backend) = setup().await;
    let cases: &[(&[(&str, &str)], u16)] = &[
        // No Upgrade at all on /ws.
        (&[], 400),
        (&[("connection", "upgrade"), ("upgrade", "websocket")], 426),
        (
            &[
                ("connection", "upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "8"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
            426,
        ),
        (
            &[
                ("connection", "upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "13"),
            ],
            400,
        ),
    ];
    for (headers, want) in cases {
        let mut req = crate::common::http().get(server.url("/ws"));
        for (name, value) in *headers {
            req = req.header(*name, *value);
        }
        let resp = req.send().await.expect("response");
        assert_eq!(resp.status().as_u16(), *want, "{headers:?}");
        if *want == 426 {
            assert_eq!(resp.headers()["sec-websocket-version"], "13");
        }
    }
}
