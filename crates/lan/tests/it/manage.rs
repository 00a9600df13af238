//! The owner's changes to the library over HTTP, against a real Garage: bucket creation
//! (valid, invalid before any request, taken by another owner), delete and move reflected in
//! `/api/videos` and as one `library_changed`, and a large object moved in parts. A LAN device
//! refused, cross-site requests refused and a local folder's moves: [`crate::manage_local`].

use std::process::Command;

use serde_json::{json, Value};

use crate::common::{http, put, Garage, TestServer};
use bucketstream_core::config::SourceConfig;

/// `method path` with a JSON body (when given) from `client`: the status and the JSON answer.
pub(crate) async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = client.request(method, url);
    if let Some(body) = body {
        req = req.json(&body);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub(crate) fn code(answer: &(u16, Value)) -> (u16, &str) {
    (
        answer.0,
        answer.1["error"]["code"].as_str().unwrap_or_default(),
    )
}

async fn create(server: &TestServer, name: &str) -> (u16, Value) {
    send(
        &http(),
        reqwest::Method::POST,
        server.url("/api/bucket"),
        Some(json!({ "name": name })),
        &[],
    )
    .await
}

pub(crate) async fn delete(server: &TestServer, id: &str) -> (u16, Value) {
    let url = server.url(&format!("/api/items/{id}"));
    send(&http(), reqwest::Method::DELETE, url, None, &[]).await
}

pub(crate) async fn move_to(server: &TestServer, id: &str, body: Value) -> (u16, Value) {
    let url = server.url(&format!("/api/items/{id}/move"));
    send(&http(), reqwest::Method::POST, url, Some(body), &[]).await
}

pub(crate) async fn id_of(server: &TestServer, key: &str) -> String {
    server.by_key().await[key]["id"]
        .as_str()
        .expect("listed")
        .to_owned()
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}-{:x}", nanos % 0xffff_ffff_ffff)
}

/// Creates bucket `name` with a global alias through Garage's admin command: a bucket none of
/// the test's keys may use. (A bucket another key creates through S3 would not do: Garage 2
/// gives S3-created buckets a local alias in that key's own namespace, so the same name is
/// still free for every other key.)
fn admin_bucket(garage: &Garage, name: &str) {
    let bin = std::env::var("GARAGE").unwrap_or_else(|_| "garage".into());
    let out = Command::new(&bin)
        .arg("-c")
        .arg(garage.dir.join("garage.toml"))
        .args(["bucket", "create", name])
        .output()
        .expect("garage bucket create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn buckets_are_created_checked_and_classified() {
    let garage = Garage::shared();
    let client = garage.client();
    let home = garage.bucket(&client, "mgr-home").await;
    let server = TestServer::start(SourceConfig::S3(garage.source(&home)), None).await;

    let name = unique("made");
    let made = create(&server, &name).await;
    assert_eq!(made.0, 201, "{made:?}");
    assert_eq!(made.1, json!({ "name": name, "created": true }));
    client
        .head_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("exists");
    // Again: already ours, which is success.
    let again = create(&server, &name).await;
    assert_eq!(again, (200, json!({ "name": name, "created": false })));

    for bad in [
        "Bad_Name",
        "ab",
        "my..music",
        "192.168.1.2",
        "xn--music",
        "-music",
    ] {
        let answer = create(&server, bad).await;
        assert_eq!(code(&answer), (400, "bucket_name_invalid"), "{bad}");
        assert!(answer.1["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("bucket name")));
    }

    // A bucket of another owner: taken.
    let theirs = unique("theirs");
    admin_bucket(&garage, &theirs);
    assert_eq!(code(&create(&server, &theirs).await), (409, "bucket_taken"));
}

#[tokio::test]
async fn an_invalid_bucket_name_is_refused_before_any_request() {
    // The endpoint does not answer: an invalid name is refused without trying it.
    let garage = Garage::shared();
    let mut cfg = garage.source("unused");
    cfg.endpoint = Some("http://127.0.0.1:9".into());
    let server = TestServer::start(SourceConfig::S3(cfg), None).await;
    let answer = create(&server, "Not.A.Valid_Name").await;
    assert_eq!(code(&answer), (400, "bucket_name_invalid"));
    // A valid one is tried, and the endpoint is found down.
    assert_eq!(code(&create(&server, "fine-name").await).0, 504);
}

#[tokio::test]
async fn delete_and_move_reach_the_bucket_the_list_and_every_socket() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "mgr").await;
    put(&client, &bucket, "a.mp3", b"aaa".to_vec()).await;
    put(&client, &bucket, "Jazz/b c+%.mp3", b"bbbb".to_vec()).await;
    put(&client, &bucket, "taken.mp3", b"t".to_vec()).await;
    let server = TestServer::start(SourceConfig::S3(garage.source(&bucket)), None).await;
    server.refresh().await;
    let mut ws = server.ws("/ws").await;
    ws.until("media_list").await;

    // Delete: gone from the bucket, the list, and one library_changed says so.
    let a = id_of(&server, "a.mp3").await;
    let deleted = delete(&server, &a).await;
    assert_eq!(deleted, (200, json!({ "deleted": a })));
    let changed = ws.until("library_changed").await;
    assert_eq!(changed["removed"], json!([a]));
    assert_eq!(changed["added"], json!([]));
    assert!(!server.by_key().await.contains_key("a.mp3"));
    assert!(client
        .head_object()
        .bucket(&bucket)
        .key("a.mp3")
        .send()
        .await
        .is_err());
    assert_eq!(code(&delete(&server, &a).await), (404, "not_found"));

    // Move (a key that needs URL-encoding as a copy source) into new folders.
    let b = id_of(&server, "Jazz/b c+%.mp3").await;
    let moved = move_to(
        &server,
        &b,
        json!({ "folder": "New/Sub", "name": "b 2.mp3" }),
    )
    .await;
    assert_eq!(moved.0, 200, "{moved:?}");
    assert_eq!(moved.1["key"], "New/Sub/b 2.mp3");
    let changed = ws.until("library_changed").await;
    assert_eq!(changed["removed"], json!([b]));
    assert_eq!(changed["added"][0]["key"], "New/Sub/b 2.mp3");
    let keys = server.by_key().await;
    assert!(keys.contains_key("New/Sub/b 2.mp3") && !keys.contains_key("Jazz/b c+%.mp3"));
    let body = client
        .get_object()
        .bucket(&bucket)
        .key("New/Sub/b 2.mp3")
        .send()
        .await
        .expect("moved object")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    assert_eq!(&body[..], b"bbbb");
    assert!(client
        .head_object()
        .bucket(&bucket)
        .key("Jazz/b c+%.mp3")
        .send()
        .await
        .is_err());

    // Rename only (the folder stays), then onto an existing key: refused, nothing changes.
    let id = moved.1["id"].as_str().expect("id").to_owned();
    let renamed = move_to(&server, &id, json!({ "name": "renamed.mp3" })).await;
    assert_eq!(renamed.1["key"], "New/Sub/renamed.mp3");
    ws.until("library_changed").await;
    let id = renamed.1["id"].as_str().expect("id").to_owned();
    let sorted = |m: std::collections::HashMap<String, Value>| {
        let mut keys: Vec<String> = m.into_keys().collect();
        keys.sort_unstable();
        keys
    };
    let before = sorted(server.by_key().await);
    let onto = move_to(&server, &id, json!({ "folder": "", "name": "taken.mp3" })).await;
    assert_eq!(code(&onto), (409, "target_exists"));
    for hostile in [
        json!({ "folder": "../x" }),
        json!({ "folder": "/abs" }),
        json!({ "folder": "a//b" }),
        json!({ "name": "a\\b.mp3" }),
        json!({ "name": "ctl\u{1}.mp3" }),
        json!({ "name": "notes.txt" }),
        json!({ "name": "" }),
    ] {
        let answer = move_to(&server, &id, hostile.clone()).await;
        assert_eq!(code(&answer), (400, "name_invalid"), "{hostile}");
    }
    assert_eq!(sorted(server.by_key().await), before);
    let listed = client
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("list");
    let mut keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["New/Sub/renamed.mp3", "taken.mp3"]);
}

/// Multipart uploads in progress in `bucket`.
async fn uploads_in_progress(client: &aws_sdk_s3::Client, bucket: &str) -> usize {
    client
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("list uploads")
        .uploads()
        .len()
}

#[tokio::test]
async fn a_large_object_moves_in_parts_and_a_changed_one_leaves_nothing() {
    use bucketstream_core::source::s3::S3Source;
    use bucketstream_core::source::ObjectMeta;
    const MIB: usize = 1 << 20;
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "mgr-parts").await;
    let body = crate::common::bytes(12 * MIB + 7, 11);
    put(&client, &bucket, "big/source.mp4", body.clone()).await;
    let head = client
        .head_object()
        .bucket(&bucket)
        .key("big/source.mp4")
        .send()
        .await
        .expect("head");
    let source = S3Source::new(&garage.source(&bucket)).await;
    let listed = ObjectMeta {
        key: "big/source.mp4".into(),
        size: body.len() as u64,
        etag: head.e_tag().map(str::to_owned),
        last_modified: None,
    };

    // Listed with another ETag (the object changed since): refused, nothing at the target,
    // no upload left behind.
    let stale = ObjectMeta {
        etag: Some("\"0123456789abcdef0123456789abcdef\"".into()),
        ..listed.clone()
    };
    let err = source
        .move_object_with(&stale, "big/moved.mp4", (5 * MIB) as u64, (5 * MIB) as u64)
        .await
        .expect_err("a changed source");
    assert_eq!(err.code(), "changed", "{err}");
    assert!(client
        .head_object()
        .bucket(&bucket)
        .key("big/moved.mp4")
        .send()
        .await
        .is_err());
    assert_eq!(uploads_in_progress(&client, &bucket).await, 0);

    // In three parts of 5 MiB: the same bytes at the new key, the old one gone.
    let moved = source
        .move_object_with(&listed, "big/moved.mp4", (5 * MIB) as u64, (5 * MIB) as u64)
        .await
        .expect("moved in parts");
    assert_eq!(moved.size, body.len() as u64);
    let got = client
        .get_object()
        .bucket(&bucket)
        .key("big/moved.mp4")
        .send()
        .await
        .expect("moved object")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    assert!(got[..] == body[..], "the moved object is byte-exact");
    assert!(client
        .head_object()
        .bucket(&bucket)
        .key("big/source.mp4")
        .send()
        .await
        .is_err());
    assert_eq!(uploads_in_progress(&client, &bucket).await, 0);
}
