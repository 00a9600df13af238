//! The HTTP and WebSocket suite that runs against every source (local folder and Garage).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::common::{bytes, eventually, http, TestServer};

/// Where a test puts objects.
pub enum Backend {
    Local(PathBuf),
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
    },
}

impl Backend {
    pub async fn put(&self, key: &str, data: &[u8]) {
        match self {
            Backend::Local(root) => {
                let path = root.join(key);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).expect("mkdir");
                }
                std::fs::write(path, data).expect("write");
            }
            Backend::S3 { client, bucket } => {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(data.to_vec().into())
                    .send()
                    .await
                    .expect("put object");
            }
        }
    }

    /// Keys this backend can hold that a filesystem could not (`../x`, 900-byte names).
    fn is_s3(&self) -> bool {
        matches!(self, Backend::S3 { .. })
    }
}

/// Keys that must round-trip byte-exact, whatever characters they hold.
pub fn hostile_keys(s3: bool) -> Vec<String> {
    let mut keys: Vec<String> = [
        "with space.mp3",
        "unicod\u{e9} \u{6f22}\u{5b57} \u{1f3b5}.mp3",
        "per%cent%2F%00.mp3",
        "hash#frag.mp3",
        "question?x=1.mp3",
        "plus+sign.mp3",
        "amp&and=.mp3",
        "quote'\"<b>.mp4",
        "<img src=x onerror=alert(1)>.mp3",
        "dir with space/nested/deep.webm",
        "semi;colon,comma.flac",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if s3 {
        keys.push("../x.mp3".into());
        keys.push("a/../../b.mp3".into());
        // (A leading "/" is not tested: Garage drops it on upload, so the key never exists.)
        keys.push("back\\slash.mp3".into());
        keys.push(format!("{}.mp3", "k".repeat(896)));
    } else {
        // 900 bytes of key, as folders of a filesystem-legal length.
        let part = "d".repeat(200);
        keys.push(format!(
            "{part}/{part}/{part}/{part}/{}.mp3",
            "k".repeat(91)
        ));
    }
    keys
}

/// Hostile keys appear in `/api/videos` and stream byte-exact through `/media/{id}`.
pub async fn hostile_keys_round_trip(server: &TestServer, backend: &Backend) {
    let keys = hostile_keys(backend.is_s3());
    for (i, key) in keys.iter().enumerate() {
        backend.put(key, &bytes(1000 + i, i as u64)).await;
    }
    server.refresh().await;
    let items = server.by_key().await;
    for (i, key) in keys.iter().enumerate() {
        let item = items.get(key).unwrap_or_else(|| {
            panic!(
                "{key:?} listed; have {:?}",
                items.keys().collect::<Vec<_>>()
            )
        });
        let id = item["id"].as_str().expect("id");
        assert_eq!(id.len(), 32, "opaque id for {key:?}");
        assert_eq!(item["url"], format!("/media/{id}"));
        let resp = http()
            .get(server.url(&format!("/media/{id}")))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200, "{key:?}");
        let body = resp.bytes().await.expect("body");
        assert_eq!(
            body.as_ref(),
            bytes(1000 + i, i as u64).as_slice(),
            "bytes of {key:?}"
        );
    }
    list_gzip_matches_plain(server).await;
}

/// `/api/videos` with `Accept-Encoding: gzip` is the same JSON, gzipped; without it, plain.
async fn list_gzip_matches_plain(server: &TestServer) {
    use std::io::Read;
    let get = |encoding: &'static str| async move {
        let resp = http()
            .get(server.url("/api/videos"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .expect("get /api/videos");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["vary"], "accept-encoding");
        let gzip = resp.headers().get("content-encoding").map(|v| v.to_owned());
        (gzip, resp.bytes().await.expect("body"))
    };
    let (plain_enc, plain) = get("identity").await;
    assert_eq!(plain_enc, None);
    let (gzip_enc, gzipped) = get("br;q=1, gzip;q=0.5").await;
    assert_eq!(gzip_enc.as_ref().map(|v| v.as_bytes()), Some(&b"gzip"[..]));
    assert!(gzipped.len() < plain.len(), "gzip is smaller");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(gzipped.as_ref())
        .read_to_end(&mut unzipped)
        .expect("valid gzip");
    assert_eq!(unzipped, plain.as_ref(), "same JSON either way");
}

/// Range requests are byte-exact against the source, with the right statuses and headers.
pub async fn ranges_are_exact(server: &TestServer, backend: &Backend) {
    let data = bytes(1 << 20, 7);
    backend.put("ranges/big.mp4", &data).await;
    backend.put("ranges/empty.mp3", b"").await;
    server.refresh().await;
    let items = server.by_key().await;
    let url = server.url(items["ranges/big.mp4"]["url"].as_str().expect("url"));
    let len = data.len() as u64;
    /// (Range header, status, inclusive byte span expected in the body)
    type Case<'a> = (&'a str, u16, Option<(usize, usize)>);
    let cases: &[Case] = &[
        ("bytes=0-0", 206, Some((0, 0))),
        ("bytes=0-99", 206, Some((0, 99))),
        ("bytes=1000-", 206, Some((1000, data.len() - 1))),
        ("bytes=-500", 206, Some((data.len() - 500, data.len() - 1))),
        ("bytes=524288-600000", 206, Some((524_288, 600_000))),
        (
            "bytes=1048000-99999999",
            206,
            Some((1_048_000, data.len() - 1)),
        ),
        ("bytes=1048576-", 416, None),
        ("bytes=5-1", 416, None),
        ("bytes=garbage", 416, None),
        ("bytes=0-1,5-6", 200, Some((0, data.len() - 1))),
        ("items=0-1", 200, Some((0, data.len() - 1))),
    ];
    for (range, status, want) in cases {
        let resp = http()
            .get(&url)
            .header("range", *range)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status().as_u16(), *status, "Range {range}");
        let headers = resp.headers().clone();
        assert_eq!(headers["accept-ranges"], "bytes");
        let body = resp.bytes().await.expect("body");
        match (status, want) {
            (206, Some((a, b))) => {
                assert_eq!(
                    headers["content-range"],
                    format!("bytes {a}-{b}/{len}").as_str()
                );
                assert_eq!(body.as_ref(), &data[*a..=*b], "bytes of {range}");
            }
            (200, Some(_)) => assert_eq!(body.as_ref(), data.as_slice(), "whole body for {range}"),
            (416, None) => {
                assert_eq!(headers["content-range"], format!("bytes */{len}").as_str());
            }
            _ => unreachable!(),
        }
    }
    // Validators, HEAD and If-Range.
    let head = http().head(&url).send().await.expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], len.to_string().as_str());
    assert_eq!(head.headers()["content-type"], "video/mp4");
    let etag = head.headers()["etag"].to_str().expect("etag").to_owned();
    assert!(head.headers().contains_key("last-modified"));
    let ok = http()
        .get(&url)
        .header("range", "bytes=10-19")
        .header("if-range", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 206);
    let stale = http()
        .get(&url)
        .header("range", "bytes=10-19")
        .header("if-range", "\"stale\"")
        .send()
        .await
        .expect("get");
    assert_eq!(
        stale.status(),
        200,
        "a stale If-Range gets the whole object"
    );
    let cached = http()
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(cached.status(), 304);
    // The empty object: 200 empty, and 416 for a range in it.
    let empty = server.url(items["ranges/empty.mp3"]["url"].as_str().expect("url"));
    let resp = http().get(&empty).send().await.expect("get");
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.expect("body").is_empty());
    let resp = http()
        .get(&empty)
        .header("range", "bytes=0-")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], "bytes */0");
}

/// Unknown and malformed ids are 404 with a JSON error; nothing leaks.
pub async fn bad_ids_are_not_found(server: &TestServer) {
    for path in [
        "/media/0123456789abcdef0123456789abcdef",
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/ABCDEF",
        "/media/%00",
    ] {
        let resp = http().get(server.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 404, "{path}");
        let body: Value = resp.json().await.expect("json error");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}

/// The WebSocket protocol: list on connect, fetch_videos, pushes, bad messages.
pub async fn websocket_protocol(server: &TestServer, backend: &Backend) {
    backend.put("ws/first.mp3", b"one").await;
    server.refresh().await;
    let count = server.videos().await.len();
    for path in ["/ws", "/"] {
        let mut ws = server.ws(path).await;
        let list = ws.next_json().await;
        assert_eq!(list["type"], "media_list", "on connect at {path}");
        assert_eq!(list["items"].as_array().map(Vec::len), Some(count));
        assert_eq!(list["count"], count);
    }
    let mut ws = server.ws("/ws").await;
    let mut watcher = server.ws("/ws").await;
    ws.until("media_list").await;
    watcher.until("media_list").await;

    ws.send_text("fetch_videos").await;
    assert_eq!(ws.until("media_list").await["count"], count);
    ws.send_text("{\"type\":\"fetch_videos\"}").await;
    assert_eq!(ws.until("media_list").await["count"], count);
    // A client that says which generation it has gets no items when nothing changed.
    let gen = server.health().await["generation"]
        .as_u64()
        .expect("generation");
    ws.send_text(&format!(
        "{{\"type\":\"fetch_videos\",\"generation\":{gen}}}"
    ))
    .await;
    let same = ws.until("media_list").await;
    assert_eq!(
        (same["unchanged"].clone(), same["count"].clone()),
        (Value::Bool(true), count.into())
    );
    assert!(same.get("items").is_none(), "{same}");
    ws.send_text(&format!(
        "{{\"type\":\"fetch_videos\",\"generation\":{}}}",
        gen + 1000
    ))
    .await;
    assert_eq!(
        ws.until("media_list").await["items"]
            .as_array()
            .map(Vec::len),
        Some(count)
    );

    for (text, code) in [
        ("{not json", "malformed"),
        ("{\"type\":\"launch\"}", "unknown_type"),
        ("hello", "unknown_message"),
    ] {
        ws.send_text(text).await;
        let err = ws.next_json().await;
        assert_eq!(err["type"], "error", "{text}");
        assert_eq!(err["code"], code, "{text}");
    }
    ws.send_text(&"x".repeat(5000)).await;
    assert_eq!(ws.next_json().await["code"], "too_large");
    ws.send_text("{\"type\":\"ping\"}").await;
    assert_eq!(
        ws.next_json().await["type"],
        "pong",
        "the connection survived bad input"
    );

    // A change is pushed to every client without asking (the background refresh finds it).
    backend.put("ws/second.mp4", b"two").await;
    let pushed = watcher.until("library_changed").await;
    let added: Vec<&str> = pushed["added"]
        .as_array()
        .expect("added")
        .iter()
        .filter_map(|i| i["key"].as_str())
        .collect();
    assert_eq!(added, vec!["ws/second.mp4"]);
    assert_eq!(pushed["count"], count + 1);
    assert_eq!(ws.until("library_changed").await["count"], count + 1);
}

/// `/api/health` describes the source and the last refresh; the page is served at `/`.
pub async fn health_and_page(server: &TestServer, source: &str) {
    let health = server.health().await;
    assert_eq!(health["source"], source);
    assert_eq!(health["ok"], true);
    assert!(health["last_refresh"].is_string(), "{health}");
    assert!(health["count"].as_u64().is_some());
    let page = http().get(server.url("/")).send().await.expect("page");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/html"));
    eventually(5, "a second health read", || async {
        server.health().await["ok"] == true
    })
    .await;
    let _ = Duration::ZERO;
}
