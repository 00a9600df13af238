//! The owner's changes to the library over HTTP, against a real Garage and a real folder:
//! bucket creation (valid, invalid before any request, taken by another owner), delete and
//! move reflected in `/api/videos` and as one `library_changed`, a LAN device refused with
//! nothing changed, cross-site requests refused, and a local move that never overwrites nor
//! leaves the root.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::common::{http, local_source, put, Garage, TestServer};
use crate::lan_common::{client_from, lan_options, LanServer, LAN_IP};
use bucketstream_core::config::SourceConfig;

/// `method path` with a JSON body (when given) from `client`: the status and the JSON answer.
async fn send(
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

fn code(answer: &(u16, Value)) -> (u16, &str) {
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

async fn delete(server: &TestServer, id: &str) -> (u16, Value) {
    let url = server.url(&format!("/api/items/{id}"));
    send(&http(), reqwest::Method::DELETE, url, None, &[]).await
}

async fn move_to(server: &TestServer, id: &str, body: Value) -> (u16, Value) {
    let url = server.url(&format!("/api/items/{id}/move"));
    send(&http(), reqwest::Method::POST, url, Some(body), &[]).await
}

async fn id_of(server: &TestServer, key: &str) -> String {
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

/// Every file beneath `dir` with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(dir, dir)
}

fn walk(root: &Path, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(root, &path));
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("beneath")
                .to_string_lossy()
                .into_owned();
            out.insert(rel, std::fs::read(&path).unwrap_or_default());
        }
    }
    out
}

#[tokio::test]
async fn a_lan_device_may_not_change_the_library_and_other_sites_neither() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.mp3"), b"a").expect("write");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let id = server.state.library.snapshot().items[0].id;
    let before = tree(dir.path());
    let bearer = format!("Bearer {}", server.key());
    let lan = client_from(LAN_IP);
    let auth = [("authorization", bearer.as_str())];

    // Paired (it may play) but not the owner: 403, nothing touched.
    let health = send(
        &lan,
        reqwest::Method::GET,
        server.url("/api/health"),
        None,
        &auth,
    )
    .await;
    assert_eq!(health.1["permissions"]["manage"], false);
    let url = |p: &str| server.url(p);
    for (method, path, body) in [
        (reqwest::Method::DELETE, format!("/api/items/{id}"), None),
        (
            reqwest::Method::POST,
            format!("/api/items/{id}/move"),
            Some(json!({ "name": "b.mp3" })),
        ),
        (
            reqwest::Method::POST,
            "/api/bucket".to_owned(),
            Some(json!({ "name": "some-bucket" })),
        ),
    ] {
        let answer = send(&lan, method, url(&path), body, &auth).await;
        assert_eq!(code(&answer), (403, "owner_only"), "{path}");
        assert!(answer.1["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("owner")));
    }
    assert_eq!(tree(dir.path()), before);

    // The owner's own page passes the Origin rule; another site's does not, nor a form post.
    let owner = client_from([127, 0, 0, 1]);
    let own = format!("http://{}", server.addr);
    let move_url = url(&format!("/api/items/{id}/move"));
    for origin in ["http://evil.example", "http://192.168.1.66:8080", "null"] {
        let answer = send(
            &owner,
            reqwest::Method::POST,
            move_url.clone(),
            Some(json!({ "name": "b.mp3" })),
            &[("origin", origin)],
        )
        .await;
        assert_eq!(code(&answer), (403, "cross_site"), "{origin}");
        let answer = send(
            &owner,
            reqwest::Method::DELETE,
            url(&format!("/api/items/{id}")),
            None,
            &[("origin", origin)],
        )
        .await;
        assert_eq!(code(&answer), (403, "cross_site"), "{origin}");
    }
    let form = owner
        .post(move_url.clone())
        .header("content-type", "text/plain")
        .body(r#"{"name":"b.mp3"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(form.status(), 400, "a body that is not sent as JSON");
    assert_eq!(tree(dir.path()), before);
    let health = send(&owner, reqwest::Method::GET, url("/api/health"), None, &[]).await;
    assert_eq!(health.1["permissions"]["manage"], true);
    let answer = send(
        &owner,
        reqwest::Method::POST,
        move_url,
        Some(json!({ "name": "b.mp3" })),
        &[("origin", own.as_str())],
    )
    .await;
    assert_eq!(answer.0, 200, "{answer:?}");
    assert_eq!(tree(dir.path()).keys().collect::<Vec<_>>(), ["b.mp3"]);
}

#[tokio::test]
async fn a_local_move_never_overwrites_nor_leaves_the_root() {
    let parent = tempfile::tempdir().expect("tempdir");
    let root = parent.path().join("lib");
    std::fs::create_dir_all(root.join("x")).expect("mkdir");
    std::fs::write(root.join("a.mp3"), b"mine").expect("write");
    std::fs::write(root.join("x/a.mp3"), b"theirs").expect("write");
    std::fs::write(parent.path().join("outside.mp3"), b"out").expect("write");
    let server = TestServer::start(local_source(&root), None).await;
    server.refresh().await;
    let mut ws = server.ws("/ws").await;
    ws.until("media_list").await;
    let id = id_of(&server, "a.mp3").await;

    let before = tree(parent.path());
    for hostile in [
        json!({ "folder": ".." }),
        json!({ "folder": "../lib2" }),
        json!({ "folder": "x/../.." }),
        json!({ "folder": "/tmp" }),
        json!({ "folder": "x\\..\\.." }),
        json!({ "folder": "x//y" }),
        json!({ "folder": "x\ny" }),
        json!({ "name": "../outside.mp3" }),
        json!({ "name": ".hidden.mp3" }),
        json!({ "name": "a\u{0}.mp3" }),
    ] {
        let answer = move_to(&server, &id, hostile.clone()).await;
        assert_eq!(code(&answer), (400, "name_invalid"), "{hostile}");
    }
    assert_eq!(tree(parent.path()), before, "nothing touched");

    let moved = move_to(&server, &id, json!({ "folder": "x" })).await;
    assert_eq!(moved.0, 200, "{moved:?}");
    assert_eq!(moved.1["key"], "x/a (2).mp3");
    let changed = ws.until("library_changed").await;
    assert_eq!(changed["removed"], json!([id]));
    assert_eq!(changed["added"][0]["key"], "x/a (2).mp3");
    assert_eq!(
        std::fs::read(root.join("x/a.mp3")).expect("kept"),
        b"theirs"
    );
    assert_eq!(
        std::fs::read(root.join("x/a (2).mp3")).expect("moved"),
        b"mine"
    );
    assert_eq!(
        std::fs::read(parent.path().join("outside.mp3")).expect("outside"),
        b"out"
    );
    let keys: Vec<String> = server.by_key().await.into_keys().collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.contains(&"x/a (2).mp3".to_owned()));

    // A folder swapped for a link out of the root is not written through.
    let outside = tempfile::tempdir().expect("outside");
    std::os::unix::fs::symlink(outside.path(), root.join("link")).expect("symlink");
    let id = moved.1["id"].as_str().expect("id").to_owned();
    let answer = move_to(&server, &id, json!({ "folder": "link" })).await;
    assert_eq!(code(&answer), (400, "name_invalid"));
    assert!(std::fs::read_dir(outside.path())
        .expect("dir")
        .next()
        .is_none());

    // Delete: the file goes, and so does the item.
    assert_eq!(delete(&server, &id).await.0, 200);
    assert!(!root.join("x/a (2).mp3").exists());
    ws.until("library_changed").await;
    assert_eq!(server.videos().await.len(), 1);
}
