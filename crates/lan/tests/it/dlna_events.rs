//! DLNA events: a control point nobody on the project wrote (`upnp-client subscribe` from
//! PyPI's async-upnp-client) subscribes to both services, gets their initial events, and is
//! told the new `SystemUpdateID` when a file is added to the library. Then the GENA rules by
//! hand: `SEQ` 0 and the SID on the first `NOTIFY`, renewal, `UNSUBSCRIBE`, and the refusals
//! (a callback on another address, an unknown SID, SID with CALLBACK).

use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::common::http;
use crate::dlna::{start_dlna, upnp_client};
use crate::subsonic::{fixtures, Running};

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// The next JSON event upnp-client prints for `service` (a part of its type), within 60 s (a
/// loaded machine starts Python slowly); on failure, upnp-client's log (`log`) is shown.
async fn next_event(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    service: &str,
    log: &std::path::Path,
) -> Value {
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let line = lines
                .next_line()
                .await
                .expect("upnp-client output")
                .expect("upnp-client ended");
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if event["service_type"]
                .as_str()
                .is_some_and(|t| t.contains(service))
            {
                return event;
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| {
        let log = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "no {service} event within 60 s; upnp-client's log ends:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    })
}

/// A server with DLNA on over the Subsonic tests' fixtures in `root`, its data in `data`.
async fn dlna_over_fixtures(root: &tempfile::TempDir, data: &tempfile::TempDir) -> Running {
    fixtures(root.path());
    start_dlna(root.path(), data.path()).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_point_is_told_when_the_library_changes() {
    let (root, data) = (tempdir(), tempdir());
    let server = dlna_over_fixtures(&root, &data).await;
    let device = format!("http://{}/dlna/device.xml", server.addr);
    let log = data.path().join("upnp-client.log");
    let mut child = tokio::process::Command::new(upnp_client())
        .args(["--debug", "subscribe", &device])
        .args(["ContentDirectory", "ConnectionManager"])
        .env("PYTHONUNBUFFERED", "1")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .kill_on_drop(true)
        .spawn()
        .expect("run upnp-client subscribe");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = next_event(&mut lines, "ContentDirectory", &log).await;
    let before = first["state_variables"]["SystemUpdateID"]
        .as_u64()
        .expect("SystemUpdateID in the initial event");
    let cm = next_event(&mut lines, "ConnectionManager", &log).await;
    let source = cm["state_variables"]["SourceProtocolInfo"]
        .as_str()
        .expect("SourceProtocolInfo");
    assert!(source.contains("http-get:*:audio/mpeg:"), "{source}");
    assert_eq!(cm["state_variables"]["CurrentConnectionIDs"], "0");

    // A file is added and the library listed again: the subscriber hears of it.
    std::fs::write(root.path().join("new song.mp3"), [0u8; 512]).expect("write");
    let refreshed = http()
        .post(format!("http://{}/api/refresh", server.addr))
        .send()
        .await
        .expect("refresh");
    assert!(refreshed.status().is_success(), "{}", refreshed.status());
    let changed = next_event(&mut lines, "ContentDirectory", &log).await;
    let after = changed["state_variables"]["SystemUpdateID"]
        .as_u64()
        .expect("SystemUpdateID");
    assert!(after > before, "{before} → {after}");
    child.kill().await.expect("stop upnp-client");
}

/// Sends `method` to the ContentDirectory's event URL with `headers`: status and headers.
async fn gena(
    addr: std::net::SocketAddr,
    method: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http().request(
        method,
        format!("http://{addr}/dlna/events/content-directory"),
    );
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("send")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_follow_the_gena_rules() {
    let (root, data) = (tempdir(), tempdir());
    let server = dlna_over_fixtures(&root, &data).await;
    let addr = server.addr;
    let callback = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("<http://{}/events/7>", callback.local_addr().expect("addr"));

    // Refused: a callback on another address, SID with CALLBACK, an unknown SID, a bad NT.
    let elsewhere = [("CALLBACK", "<http://127.0.0.2:9/x>"), ("NT", "upnp:event")];
    assert_eq!(gena(addr, "SUBSCRIBE", &elsewhere).await.status(), 412);
    let both = [("SID", "uuid:x"), ("CALLBACK", url.as_str())];
    assert_eq!(gena(addr, "SUBSCRIBE", &both).await.status(), 400);
    let unknown = [("SID", "uuid:nobody")];
    assert_eq!(gena(addr, "SUBSCRIBE", &unknown).await.status(), 412);
    assert_eq!(gena(addr, "UNSUBSCRIBE", &unknown).await.status(), 412);
    let bad_nt = [("CALLBACK", url.as_str()), ("NT", "upnp:propchange")];
    assert_eq!(gena(addr, "SUBSCRIBE", &bad_nt).await.status(), 412);

    // A subscription: SID and the timeout asked for, then the initial event, SEQ 0.
    let ok = [
        ("CALLBACK", url.as_str()),
        ("NT", "upnp:event"),
        ("TIMEOUT", "Second-600"),
    ];
    let resp = gena(addr, "SUBSCRIBE", &ok).await;
    assert_eq!(resp.status(), 200);
    let sid = resp.headers()["sid"].to_str().expect("sid").to_owned();
    assert!(sid.starts_with("uuid:"), "{sid}");
    assert_eq!(resp.headers()["timeout"], "Second-600");
    let (mut conn, _) = tokio::time::timeout(Duration::from_secs(10), callback.accept())
        .await
        .expect("an initial event")
        .expect("accept");
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&request).contains("</e:propertyset>") {
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
            .await
            .expect("the event's bytes")
            .expect("read");
        assert!(n > 0, "the event ended early");
        request.extend_from_slice(&buf[..n]);
    }
    conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .await
        .expect("answer");
    let text = String::from_utf8_lossy(&request);
    assert!(text.starts_with("NOTIFY /events/7 HTTP/1.1\r\n"), "{text}");
    for header in [
        format!("SID: {sid}\r\n"),
        "SEQ: 0\r\n".to_owned(),
        "NTS: upnp:propchange\r\n".to_owned(),
    ] {
        assert!(text.contains(&header), "{header:?} in {text}");
    }
    assert!(text.contains("<SystemUpdateID>"), "{text}");

    // Renewed with its SID; then ended, and ended only once.
    let renew = [("SID", sid.as_str()), ("TIMEOUT", "Second-900")];
    let resp = gena(addr, "SUBSCRIBE", &renew).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["sid"].to_str().expect("sid"), sid);
    assert_eq!(resp.headers()["timeout"], "Second-900");
    let end = [("SID", sid.as_str())];
    assert_eq!(gena(addr, "UNSUBSCRIBE", &end).await.status(), 200);
    assert_eq!(gena(addr, "UNSUBSCRIBE", &end).await.status(), 412);
}
