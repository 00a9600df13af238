//! The WebSocket's list modes (`/ws?list=none`, `/ws?list=pages&page=N`) over a local folder:
//! the count only, the list in pages that add up to `/api/videos`, a change pushed after
//! connecting, `fetch_videos` in each mode, and the 400s before the upgrade; with them
//! `/api/folders` and the paging threshold in `/api/health`.

use serde_json::Value;
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::common::{http, local_source, TestServer, Ws};

/// A library of 23 files in a few folders.
async fn server() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().expect("tempdir");
    let folders = ["", "Pop", "Pop/live", "Jazz"];
    for i in 0..23usize {
        let folder = folders[i % folders.len()];
        let ext = if i % 3 == 0 { "mp4" } else { "mp3" };
        let path = dir.path().join(folder).join(format!("t{i:02}.{ext}"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, b"x").expect("write");
    }
    let server = TestServer::start(local_source(dir.path()), None).await;
    server.refresh().await;
    (dir, server)
}

/// Adds `name` to the folder and refreshes.
async fn add(server: &TestServer, dir: &tempfile::TempDir, name: &str) {
    std::fs::write(dir.path().join(name), b"new").expect("write");
    server.refresh().await;
}

/// Reads `media_list_page` frames until `count` items came; checks their order.
async fn pages(ws: &mut Ws, page: usize) -> (u64, Vec<Value>) {
    let mut items: Vec<Value> = Vec::new();
    let mut generation = None;
    loop {
        let frame = ws.next_json().await;
        assert_eq!(frame["type"], "media_list_page", "{frame}");
        let gen = frame["generation"].as_u64().expect("generation");
        assert_eq!(*generation.get_or_insert(gen), gen, "one snapshot");
        assert_eq!(frame["offset"].as_u64(), Some(items.len() as u64));
        let got = frame["items"].as_array().expect("items");
        let count = frame["count"].as_u64().expect("count") as usize;
        assert_eq!(
            got.len(),
            page.min(count - items.len()),
            "a full page but the last"
        );
        items.extend(got.iter().cloned());
        if items.len() == count {
            return (gen, items);
        }
    }
}

#[tokio::test]
async fn list_none_sends_the_count_and_deltas() {
    let (dir, server) = server().await;
    let generation = server.library.snapshot().generation;
    let mut ws = server.ws("/ws?list=none").await;
    let first = ws.next_json().await;
    assert_eq!(first["type"], "media_list");
    assert_eq!(first["count"], 23);
    assert_eq!(first["generation"], generation);
    assert_eq!(first["paged"], true);
    assert!(first.get("items").is_none(), "no items: {first}");

    // fetch_videos: the count again, with or without a generation.
    for ask in [
        "fetch_videos".to_owned(),
        format!("{{\"type\":\"fetch_videos\",\"generation\":{generation}}}"),
    ] {
        ws.send_text(&ask).await;
        let again = ws.until("media_list").await;
        assert_eq!(
            (&again["count"], &again["paged"]),
            (&23.into(), &true.into())
        );
        assert!(again.get("items").is_none());
    }

    // A change after connecting arrives as in the whole-list mode.
    add(&server, &dir, "late.mp3").await;
    let pushed = ws.until("library_changed").await;
    assert_eq!(pushed["count"], 24);
    assert_eq!(pushed["added"][0]["key"], "late.mp3");
    assert!(pushed["generation"].as_u64() > Some(generation));
}

#[tokio::test]
async fn list_pages_add_up_to_the_list() {
    let (dir, server) = server().await;
    let whole = server.videos().await;
    let mut ws = server.ws("/ws?list=pages&page=5").await;
    let (generation, items) = pages(&mut ws, 5).await;
    assert_eq!(items, whole, "the pages are the list, in order");
    assert_eq!(generation, server.library.snapshot().generation);

    // The default page holds the whole of this small library.
    let mut big = server.ws("/ws?list=pages").await;
    assert_eq!(pages(&mut big, 5000).await.1, whole);

    // fetch_videos with the current generation: unchanged; without: the pages again.
    ws.send_text(&format!(
        "{{\"type\":\"fetch_videos\",\"generation\":{generation}}}"
    ))
    .await;
    let same = ws.next_json().await;
    assert_eq!(
        (&same["type"], &same["unchanged"]),
        (&"media_list".into(), &true.into())
    );
    ws.send_text("fetch_videos").await;
    assert_eq!(pages(&mut ws, 5).await.1, whole);

    // A change after the pages.
    add(&server, &dir, "late.mp4").await;
    let pushed = ws.until("library_changed").await;
    assert_eq!(pushed["count"], 24);
    assert_eq!(pushed["added"][0]["key"], "late.mp4");
    ws.send_text("fetch_videos").await;
    let (_, after) = pages(&mut ws, 5).await;
    assert_eq!(after, server.videos().await);
}

#[tokio::test]
async fn the_default_is_the_whole_list() {
    let (_dir, server) = server().await;
    let whole = server.videos().await;
    for path in ["/ws", "/ws?list=whole", "/ws?key=x&_=1"] {
        let mut ws = server.ws(path).await;
        let first = ws.next_json().await;
        assert_eq!(first["type"], "media_list", "{path}");
        assert_eq!(first["items"].as_array(), Some(&whole), "{path}");
    }
}

#[tokio::test]
async fn bad_list_values_are_refused_before_the_upgrade() {
    let (_dir, server) = server().await;
    for query in [
        "list=bogus",
        "list=",
        "list=pages&page=0",
        "list=pages&page=10001",
        "list=pages&page=x",
        "page=5",
        "list=none&page=5",
        "list=none&list=none",
    ] {
        let url = format!("ws://{}/ws?{query}", server.addr);
        match tokio_tungstenite::connect_async(url).await {
            Err(WsError::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), 400, "{query}");
                let body: Value =
                    serde_json::from_slice(resp.body().as_deref().unwrap_or_default())
                        .expect("json body");
                assert_eq!(body["error"]["code"], "bad_query", "{query}");
            }
            Ok(_) => panic!("{query}: upgraded"),
            Err(other) => panic!("{query}: {other}"),
        }
    }
    // The server is fine afterwards.
    let mut ws = server.ws("/ws?list=none").await;
    assert_eq!(ws.next_json().await["count"], 23);
}

#[tokio::test]
async fn folders_and_the_threshold() {
    let (_dir, server) = server().await;
    assert_eq!(server.health().await["paging_threshold"], 5000);
    let top = server.get_json("/api/folders").await;
    assert_eq!(top["items"], 6);
    assert_eq!(
        top["folders"],
        serde_json::json!([
            {"name": "Jazz", "path": "Jazz", "count": 5},
            {"name": "Pop", "path": "Pop", "count": 12},
        ])
    );
    let pop = server.get_json("/api/folders?under=Pop&kind=audio").await;
    assert_eq!(pop["under"], "Pop");
    assert_eq!(
        pop["folders"],
        serde_json::json!([{"name": "live", "path": "Pop/live", "count": 4}])
    );
    for bad in ["under=a&under=b", "kind=film", "folder=Pop"] {
        let resp = http()
            .get(server.url(&format!("/api/folders?{bad}")))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 400, "{bad}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error"]["code"], "bad_query", "{bad}");
    }
}
