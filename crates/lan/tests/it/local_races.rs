//! A local library someone else can write into (issue #11, item 6), over real sockets: a
//! symlink or a FIFO swapped in for a listed file, and folder links that leave the root.
//! Also the weak `If-None-Match` comparison of `/media/{id}` (RFC 9110 §13.1.2).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::{bytes, http, local_source, TestServer};

/// `GET url` with its status and body; `None` when the client gave up (timeout, reset).
async fn fetch(client: &reqwest::Client, url: &str) -> Option<(u16, Vec<u8>)> {
    let resp = client.get(url).send().await.ok()?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.ok()?.to_vec();
    Some((status, body))
}

/// The `/media/{id}` URL of `key` in the current listing.
async fn media_url(server: &TestServer, key: &str) -> String {
    let items = server.by_key().await;
    let item = items.get(key).unwrap_or_else(|| panic!("{key} listed"));
    server.url(item["url"].as_str().expect("url"))
}

/// A listed file is swapped back and forth for a symlink to an outside file of the same size
/// and modification time (so the listing's ETag still matches), while clients fetch it.
/// Every answer is the listed bytes or an error, never the outside file's. Before the fix the
/// path was canonicalized, checked, then opened again by name: a swap in between was followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_swapped_in_never_serves_the_outside_file() {
    let lib = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let inside_bytes = bytes(4096, 1);
    let outside_bytes = bytes(4096, 2);
    let song = lib.path().join("song.mp3");
    std::fs::write(&song, &inside_bytes).expect("write");
    let secret = outside.path().join("secret.mp3");
    std::fs::write(&secret, &outside_bytes).expect("write");
    let mtime = std::fs::metadata(&song)
        .expect("meta")
        .modified()
        .expect("mtime");
    std::fs::File::options()
        .write(true)
        .open(&secret)
        .expect("open")
        .set_modified(mtime)
        .expect("set mtime");

    let server = TestServer::start(local_source(lib.path()), None).await;
    server.refresh().await;
    let url = media_url(&server, "song.mp3").await;

    // A hard link keeps the listed inode (same size and mtime) to swap back in.
    let keep = lib.path().join(".keep");
    std::fs::hard_link(&song, &keep).expect("hard link");
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let (stop, lib, song, secret) = (
            stop.clone(),
            lib.path().to_owned(),
            song.clone(),
            secret.clone(),
        );
        std::thread::spawn(move || {
            let (link_tmp, file_tmp) = (lib.join(".link"), lib.join(".file"));
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::remove_file(&link_tmp);
                std::os::unix::fs::symlink(&secret, &link_tmp).expect("symlink");
                std::fs::rename(&link_tmp, &song).expect("swap the link in");
                let _ = std::fs::remove_file(&file_tmp);
                std::fs::hard_link(lib.join(".keep"), &file_tmp).expect("hard link");
                std::fs::rename(&file_tmp, &song).expect("swap the file back");
            }
        })
    };

    let client = http();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let (mut served, mut refused, mut leaked) = (0, 0, 0);
            for _ in 0..300 {
                match fetch(&client, &url).await {
                    Some((200, body)) if body == bytes(4096, 2) => leaked += 1,
                    Some((200, _)) => served += 1,
                    Some(_) => refused += 1,
                    None => {}
                }
                if leaked > 0 {
                    break;
                }
            }
            (served, refused, leaked)
        }));
    }
    let (mut served, mut refused, mut leaked) = (0, 0, 0);
    for task in tasks {
        let (s, r, l) = task.await.expect("task");
        served += s;
        refused += r;
        leaked += l;
    }
    stop.store(true, Ordering::Relaxed);
    flipper.join().expect("flipper");
    assert_eq!(
        leaked, 0,
        "the outside file was served {leaked} times (listed bytes {served}, refused {refused})"
    );
    assert!(
        refused > 0,
        "the swap was never seen: the test proves nothing"
    );

    // The link left in place is refused too, a folder link in the path as well.
    std::fs::remove_file(&song).expect("remove");
    std::os::unix::fs::symlink(&secret, &song).expect("symlink");
    let (status, body) = fetch(&client, &url).await.expect("answer");
    assert_eq!(status, 404);
    assert_ne!(body, outside_bytes);
}

/// A FIFO swapped in for a listed file is answered at once with 404 and pins no thread: on a
/// runtime with 4 blocking threads, 32 requests for it, then a normal file is still served.
/// Before the fix each request blocked a thread in `open` until a writer appeared, so the
/// normal file waited forever (here: its request timed out).
#[test]
fn a_fifo_swapped_in_is_refused_without_pinning_a_thread() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let lib = tempfile::tempdir().expect("tempdir");
    let fifo = lib.path().join("pipe.mp3");
    std::fs::write(&fifo, bytes(100, 3)).expect("write");
    std::fs::write(lib.path().join("ok.mp3"), bytes(100, 4)).expect("write");
    let (pipe_answers, ok_answer) = runtime.block_on(async {
        let server = TestServer::start(local_source(lib.path()), None).await;
        server.refresh().await;
        let pipe_url = media_url(&server, "pipe.mp3").await;
        let ok_url = media_url(&server, "ok.mp3").await;
        std::fs::remove_file(&fifo).expect("remove");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success(), "mkfifo");

        // A hang bound, not a performance limit: after the fix each answer is immediate.
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (client, url) = (client.clone(), pipe_url.clone());
            tasks.push(tokio::spawn(async move { fetch(&client, &url).await }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.ok().flatten().map(|(status, _)| status));
        }
        (answers, fetch(&client, &ok_url).await)
    });
    // Before the fix, threads stuck in open() would hold the runtime's drop forever: shut
    // it down first, assert after.
    runtime.shutdown_timeout(Duration::from_secs(1));
    let refused = pipe_answers.iter().filter(|a| **a == Some(404)).count();
    assert_eq!(
        refused, 32,
        "a FIFO must be refused at once: {pipe_answers:?}"
    );
    assert_eq!(
        ok_answer,
        Some((200, bytes(100, 4))),
        "a normal file after them"
    );
}

/// The walk does not descend into a folder link that leaves the root (a link to
/// `/usr/share`, and one to an outside folder that links back in), while folder links
/// within the root (absolute and relative) are listed and served.
#[tokio::test]
async fn folder_links_out_of_the_root_are_not_walked() {
    let lib = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let root = lib.path();
    std::fs::create_dir(root.join("Album")).expect("mkdir");
    std::fs::write(root.join("Album/track.mp3"), bytes(500, 5)).expect("write");
    std::fs::write(outside.path().join("far.mp3"), b"far").expect("write");
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, root.join(name)).expect("symlink");
    };
    // Out of the root: a big system tree, and an outside folder with a link back in.
    if Path::new("/usr/share").is_dir() {
        link(Path::new("/usr/share"), "usr-share");
    }
    link(outside.path(), "out");
    std::os::unix::fs::symlink(root.join("Album"), outside.path().join("back")).expect("symlink");
    // Within the root: an absolute and a relative folder link.
    link(&root.join("Album"), "abs-album");
    link(Path::new("Album"), "rel-album");

    let server = TestServer::start(local_source(root), None).await;
    server.refresh().await;
    let mut keys: Vec<String> = server.by_key().await.into_keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "Album/track.mp3",
            "abs-album/track.mp3",
            "rel-album/track.mp3"
        ],
        "out/back/track.mp3 would mean the walk went out of the root and back in"
    );
    for key in ["abs-album/track.mp3", "rel-album/track.mp3"] {
        let url = media_url(&server, key).await;
        let answer = fetch(&http(), &url).await;
        assert_eq!(answer, Some((200, bytes(500, 5))), "{key} is served");
    }
}

/// `If-None-Match` compares weakly: `W/"tag"` and `*` get 304, another tag gets the body.
/// Before the fix the comparison was strong, so `W/"tag"` got 200 and the whole file.
#[tokio::test]
async fn if_none_match_compares_weakly() {
    let lib = tempfile::tempdir().expect("tempdir");
    std::fs::write(lib.path().join("a.mp3"), bytes(300, 6)).expect("write");
    let server = TestServer::start(local_source(lib.path()), None).await;
    server.refresh().await;
    let items = server.by_key().await;
    let url = server.url(items["a.mp3"]["url"].as_str().expect("url"));
    let head = http().head(&url).send().await.expect("head");
    let etag = head
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an etag")
        .to_owned();
    let cases = [
        (etag.clone(), 304),
        (format!("W/{etag}"), 304),
        (format!("\"other\", W/{etag}"), 304),
        ("*".to_owned(), 304),
        ("\"other\"".to_owned(), 200),
        (format!("W/\"x{}", &etag[1..]), 200),
    ];
    for (header, want) in cases {
        let resp = http()
            .get(&url)
            .header("if-none-match", &header)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status().as_u16(), want, "If-None-Match: {header}");
        if want == 304 {
            assert_eq!(
                resp.headers().get("etag").and_then(|v| v.to_str().ok()),
                Some(etag.as_str())
            );
            assert!(resp.bytes().await.expect("body").is_empty());
        }
    }
}
