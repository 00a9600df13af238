//! `GET /api/videos` paged and searched, over a local folder: totals, pages that add up to
//! the whole sorted list for every sort, folder and kind filters, accent-insensitive search,
//! the 400s, and the parameterless answer left exactly as it was.

use std::io::Read;

use serde_json::Value;

use crate::common::{http, local_source, TestServer};

/// A library of 64 files: 3 folders deep, audio and video, sizes that repeat (ties).
async fn server() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().expect("tempdir");
    let folders = ["", "Pop", "Pop/live", "Jazz", "École"];
    for i in 0..60usize {
        let folder = folders[i % folders.len()];
        let ext = if i % 3 == 0 { "mp4" } else { "mp3" };
        let path = dir.path().join(folder).join(format!("track {i:02}.{ext}"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, vec![b'x'; i % 7]).expect("write");
    }
    for name in [
        "Pop/Beyoncé - Halo.mp3",
        "Pop/BEYONCE live.mp4",
        "Кино/Группа крови.mp3",
        "坂本龍一/戦場のメリークリスマス.flac",
    ] {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, b"abc").expect("write");
    }
    let server = TestServer::start(local_source(dir.path()), None).await;
    server.refresh().await;
    (dir, server)
}

/// `GET path` -> (status, body as JSON).
async fn get(server: &TestServer, path: &str) -> (u16, Value) {
    let resp = http().get(server.url(path)).send().await.expect("get");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

async fn page(server: &TestServer, query: &str) -> (u64, Vec<Value>) {
    let (status, body) = get(server, &format!("/api/videos?{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    let generation = server.library.snapshot().generation;
    assert_eq!(body["generation"], generation);
    let items = body["items"].as_array().expect("items").clone();
    (body["total"].as_u64().expect("total"), items)
}

fn keys(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["key"].as_str().expect("key").to_owned())
        .collect()
}

#[tokio::test]
async fn pages_filters_and_sorts() {
    let (_dir, server) = server().await;
    let whole = server.videos().await;
    assert_eq!(whole.len(), 64);

    // The default page: the first 100 by key, which here is everything, as in the list.
    let (total, items) = page(&server, "limit=100").await;
    assert_eq!((total, &items), (64, &whole));

    // Every sort, both directions: pages of 7 add up to the one page of 1000, and the
    // orders that the test can compute itself are checked against it.
    let sorts = [
        "key", "name", "title", "artist", "album", "modified", "size", "duration",
    ];
    for sort in sorts.iter().flat_map(|s| [s.to_string(), format!("-{s}")]) {
        let (total, all) = page(&server, &format!("sort={sort}&limit=1000")).await;
        assert_eq!((total, all.len()), (64, 64), "{sort}");
        let mut paged = Vec::new();
        for offset in (0..70).step_by(7) {
            let (total, items) =
                page(&server, &format!("sort={sort}&limit=7&offset={offset}")).await;
            assert_eq!(total, 64);
            paged.extend(items);
        }
        assert_eq!(keys(&paged), keys(&all), "{sort}");
    }
    let by = |f: fn(&Value) -> (u64, String)| {
        let mut items = whole.clone();
        items.sort_by_key(f);
        keys(&items)
    };
    let size = by(|i| {
        (
            i["size"].as_u64().expect("size"),
            i["key"].as_str().expect("key").into(),
        )
    });
    assert_eq!(keys(&page(&server, "sort=size&limit=1000").await.1), size);
    let mut key_desc = keys(&whole);
    key_desc.reverse();
    assert_eq!(
        keys(&page(&server, "sort=-key&limit=1000").await.1),
        key_desc
    );
    // No artist anywhere (nothing was scanned): key order.
    assert_eq!(
        keys(&page(&server, "sort=-artist&limit=1000").await.1),
        keys(&whole)
    );

    // Filters, against the whole list.
    let count = |f: &dyn Fn(&Value) -> bool| whole.iter().filter(|i| f(i)).count() as u64;
    let cases: Vec<(&str, u64)> = vec![
        ("kind=video", count(&|i| i["kind"] == "video")),
        ("kind=audio", count(&|i| i["kind"] == "audio")),
        ("folder=Pop", count(&|i| i["folder"] == "Pop")),
        ("folder=", count(&|i| i["folder"] == "")),
        (
            "under=Pop",
            count(&|i| i["folder"].as_str().expect("folder").starts_with("Pop")),
        ),
        (
            "under=Pop&kind=video",
            count(&|i| {
                i["folder"].as_str().expect("folder").starts_with("Pop") && i["kind"] == "video"
            }),
        ),
        ("folder=%C3%89cole", 12),
        ("q=ecole", 12),
        ("q=beyonce", 2),
        ("q=BEYONC%C3%89%20halo", 1),
        ("q=%D0%BA%D1%80%D0%BE%D0%B2%D0%B8", 1),
        ("q=%E3%83%A1%E3%83%AA%E3%83%BC", 1),
        ("q=track%2007", 1),
        ("q=nothing-like-this", 0),
    ];
    for (query, want) in cases {
        let (total, items) = page(&server, &format!("{query}&limit=1000")).await;
        assert_eq!(total, want, "{query}");
        assert_eq!(items.len() as u64, want, "{query}");
    }
    let (_, pop) = page(&server, "folder=Pop&limit=1000").await;
    assert!(pop.iter().all(|i| i["folder"] == "Pop"));
    let (total, rest) = page(&server, "offset=60").await;
    assert_eq!((total, keys(&rest)), (64, keys(&whole[60..])));
}

#[tokio::test]
async fn bad_parameters_are_400_bad_query() {
    let (_dir, server) = server().await;
    let long = format!("q={}", "a".repeat(10 * 1024));
    for query in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "offset=-1",
        "kind=image",
        "sort=colour",
        "sort=--size",
        "limit=5&limit=6",
        "limit=5&page=2",
        long.as_str(),
    ] {
        let (status, body) = get(&server, &format!("/api/videos?{query}")).await;
        assert_eq!(status, 400, "{}", &query[..query.len().min(40)]);
        assert_eq!(body["error"]["code"], "bad_query");
        assert!(body["error"]["message"].as_str().expect("message").len() < 200);
    }
}

#[tokio::test]
async fn without_paging_parameters_the_answer_is_the_whole_list_byte_for_byte() {
    let (_dir, server) = server().await;
    let snap = server.library.snapshot();
    let whole = serde_json::to_vec(&snap.items).expect("json");
    for path in ["/api/videos", "/api/videos?", "/api/videos?_=1712"] {
        let resp = http().get(server.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().get("content-encoding").is_none());
        assert_eq!(resp.bytes().await.expect("body"), whole, "{path}");
        let resp = http()
            .get(server.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .expect("get");
        assert_eq!(resp.headers()["content-encoding"], "gzip");
        let gz = resp.bytes().await.expect("body");
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut plain)
            .expect("gzip");
        assert_eq!(plain, whole, "{path} gzipped");
    }
}
