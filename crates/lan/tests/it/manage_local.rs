//! The owner's changes over a local folder: a paired LAN device (which may play) refused with
//! nothing touched, cross-site requests and form posts refused while the owner's own page
//! passes, and a local move that never overwrites, never leaves the root (nor follows a link
//! out of it), then a delete. The helpers that send the requests are [`crate::manage`]'s.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::common::{local_source, TestServer};
use crate::lan_common::{client_from, lan_options, LanServer, LAN_IP};
use crate::manage::{code, delete, id_of, move_to, send};

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
