//! The edge cache against a store that answers wrongly and a cache disk that fills up: a real
//! Garage behind [`AnswerProxy`] (ignores `Range`, ignores `If-Match`, answers another range),
//! and a real small tmpfs under the cache folder.
//!
//! What must hold: a wrong answer is an error and nothing of it is served or cached; a full
//! cache disk never breaks playback (evict, else stream from the store), and says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use bucketstream_core::config::SourceConfig;
use serde_json::Value;

use crate::common::{bytes, eventually, get_range, put, Garage, TestServer};
use crate::proxy::{AnswerProxy, HONEST, IGNORE_IF_MATCH, IGNORE_RANGE, OTHER_RANGE, SHIFT};

/// The files the cache holds under `dir` (its chunks and temporaries, not its marker file).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if d != dir {
                out.push(p);
            }
        }
    }
    out
}

/// A server (with or without the cache) whose S3 traffic goes through an [`AnswerProxy`], over
/// a fresh bucket holding `film.mp4`.
struct Faulty {
    proxy: AnswerProxy,
    server: TestServer,
    cache_dir: tempfile::TempDir,
    url: String,
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl Faulty {
    async fn start(tag: &str, data: &[u8], cache: bool) -> Faulty {
        let garage = Garage::shared();
        let client = garage.client();
        let bucket = garage.bucket(&client, tag).await;
        put(&client, &bucket, "film.mp4", data.to_vec()).await;
        let proxy = AnswerProxy::start(&garage.endpoint(), client.clone()).await;
        let mut source = garage.source(&bucket);
        source.endpoint = Some(proxy.endpoint());
        let cache_dir = tempfile::tempdir().expect("tempdir");
        let server = TestServer::start_with_cache(
            SourceConfig::S3(source),
            None,
            cache.then(|| (cache_dir.path(), 1 << 30)),
        )
        .await;
        server.refresh().await;
        let items = server.by_key().await;
        let url = server.url(items["film.mp4"]["url"].as_str().expect("url"));
        Faulty {
            proxy,
            server,
            cache_dir,
            url,
            client,
            bucket,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_ignores_range_is_refused_and_nothing_is_cached() {
    let data = bytes(2_500_000, 51);
    let f = Faulty::start("norange", &data, true).await;
    f.proxy.set(IGNORE_RANGE);
    // The second chunk: the cache asks bytes 1 MiB..2 MiB and gets the whole object (200).
    let (status, body, code) = get_range(&f.url, 1_500_000, 1_600_000).await;
    assert_eq!(
        (status, code.as_deref()),
        (502, Some("store_bad_answer")),
        "a 200 with the whole object for a range must be refused; got {} bytes, equal to the \
         range: {}",
        body.len(),
        body == data[1_500_000..=1_600_000]
    );
    assert_eq!(
        files(f.cache_dir.path()),
        Vec::<PathBuf>::new(),
        "nothing cached"
    );
    // A 200 to a range covering the whole object is the object: accepted (an object of one
    // chunk, which the cache asks for whole).
    let small = bytes(900_000, 53);
    let one = Faulty::start("norange-small", &small, true).await;
    one.proxy.set(IGNORE_RANGE);
    let end = small.len() as u64 - 1;
    let (status, body, _) = get_range(&one.url, 0, end).await;
    assert_eq!(status, 206);
    assert!(body == small, "the whole object through a 200");
    // An honest store again: the range is exact (no wrong bytes were left behind).
    f.proxy.set(HONEST);
    let (status, body, _) = get_range(&f.url, 1_500_000, 1_600_000).await;
    assert_eq!(status, 206);
    assert!(body == data[1_500_000..=1_600_000]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_answers_another_range_is_refused_and_nothing_is_cached() {
    let data = bytes(2_500_000, 52);
    let f = Faulty::start("otherrange", &data, true).await;
    f.proxy.set(OTHER_RANGE);
    let (status, body, code) = get_range(&f.url, 100_000, 199_999).await;
    assert_eq!(
        (status, code.as_deref()),
        (502, Some("store_bad_answer")),
        "another range must be refused; got {} bytes, shifted by {SHIFT}: {}",
        body.len(),
        body.len() >= 100_000 && body[..100_000] == data[100_000 + SHIFT as usize..][..100_000]
    );
    assert_eq!(
        files(f.cache_dir.path()),
        Vec::<PathBuf>::new(),
        "nothing cached"
    );
}

/// A store that ignores `If-Match` sends the new version's bytes for the old version's
/// request: with the cache they must never be cached under the old version's name, and
/// without it never served; the answer is `changed` (503) and a refresh, after which the new
/// version plays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_ignores_if_match_never_serves_or_caches_another_version() {
    let old = bytes(2_500_000, 53);
    let new = bytes(2_500_000, 54);
    for cache in [true, false] {
        let f = Faulty::start(if cache { "ifmatch-c" } else { "ifmatch-d" }, &old, cache).await;
        f.proxy.set(IGNORE_IF_MATCH);
        f.client
            .put_object()
            .bucket(&f.bucket)
            .key("film.mp4")
            .body(new.clone().into())
            .send()
            .await
            .expect("overwrite");
        let (status, body, code) = get_range(&f.url, 1_000, 99_999).await;
        assert_eq!(
            (status, code.as_deref()),
            (503, Some("changed")),
            "cache {cache}: another version must be refused; got {} bytes, the new version's: {}",
            body.len(),
            body == new[1_000..100_000]
        );
        assert_eq!(
            files(f.cache_dir.path()),
            Vec::<PathBuf>::new(),
            "cache {cache}: nothing cached"
        );
        // The refresh the 503 started lists the new version; then it plays, exactly.
        f.proxy.set(HONEST);
        let url = f.url.clone();
        eventually(20, "the new version to play", || {
            let url = url.clone();
            let new = &new;
            async move {
                let (status, body, _) = get_range(&url, 1_000, 99_999).await;
                status == 206 && body == new[1_000..100_000]
            }
        })
        .await;
        drop(f.server);
    }
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` (mount(8) syntax) or says why not.
    fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed (root needed): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file outside the cache folder until the disk is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("ballast");
        let mut file = std::fs::File::create(&path).expect("ballast");
        let block = vec![0x55u8; 64 * 1024];
        loop {
            match file.write(&block) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = file.write(&[0u8; 1]); // the last partial page
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

async fn cache_state(server: &TestServer) -> (Value, Value) {
    let stats = server.stats().await;
    (
        server.health().await["cache"].clone(),
        stats["cache"].clone(),
    )
}

/// The cache folder on a 4 MiB tmpfs: a disk filled by someone else makes cold reads bypass
/// the cache (byte-exact, degraded in health and stats); once space is back the cache works
/// again, and a disk filled by the cache's own chunks is made room on by evicting them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_cache_disk_never_breaks_cold_playback() {
    let disk = match SmallDisk::mount("4m") {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("SKIPPED a_full_cache_disk_never_breaks_cold_playback: {why}");
            return;
        }
    };
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "fulldisk").await;
    let a = bytes(2_500_000, 61);
    let b = bytes(3_000_000, 62);
    for (key, data) in [("a.mp4", &a), ("b.mp4", &b)] {
        put(&client, &bucket, key, data.clone()).await;
    }
    let cache_dir = disk.path().join("cache");
    let server = TestServer::start_with_cache(
        SourceConfig::S3(garage.source(&bucket)),
        None,
        Some((&cache_dir, 1 << 30)), // the cap is far above the disk
    )
    .await;
    server.refresh().await;
    let items = server.by_key().await;
    let url = |key: &str| server.url(items[key]["url"].as_str().expect("url"));

    // 1. The disk is full of someone else's file and the cache holds nothing to evict: the
    //    cold read streams from the store, every byte, and the cache says it is degraded.
    let ballast = disk.fill();
    let (status, body, _) = get_range(&url("a.mp4"), 0, a.len() as u64 - 1).await;
    assert_eq!(status, 206);
    assert!(
        body == a,
        "full disk: the cold read must be exact ({} of {} bytes)",
        body.len(),
        a.len()
    );
    let (health, stats) = cache_state(&server).await;
    assert_eq!(health["degraded"], true, "{health}");
    assert!(
        health["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{health}"
    );
    assert_eq!(stats["degraded"], true, "{stats}");
    let bypassed = stats["bypassed_bytes"].as_u64().unwrap_or(0);
    assert!(bypassed > 0 && bypassed <= a.len() as u64, "{stats}");
    assert_eq!(stats["chunks"], 0, "{stats}");
    assert!(
        files(&cache_dir)
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".tmp")),
        "no temporary file stays: {:?}",
        files(&cache_dir)
    );

    // 2. Space is back: the next cold read is cached and the cache is healthy again.
    std::fs::remove_file(&ballast).expect("remove ballast");
    let (status, body, _) = get_range(&url("a.mp4"), 0, a.len() as u64 - 1).await;
    assert_eq!(status, 206);
    assert!(body == a, "a after recovery");
    let (health, stats) = cache_state(&server).await;
    assert_eq!(health["degraded"], false, "{health}");
    assert_eq!(
        stats["disk_bytes"].as_u64(),
        Some(a.len() as u64),
        "{stats}"
    );

    // 3. The cache's own chunks fill the disk (a: 2.4 MiB, b: 2.9 MiB, disk: 4 MiB): b's fill
    //    evicts a's chunks (least recently used) and b is cached, exactly.
    let (status, body, _) = get_range(&url("b.mp4"), 0, b.len() as u64 - 1).await;
    assert_eq!(status, 206);
    assert!(
        body == b,
        "b over a full cache: {} of {} bytes",
        body.len(),
        b.len()
    );
    let (health, stats) = cache_state(&server).await;
    assert_eq!(health["degraded"], false, "{health}");
    assert!(stats["evicted_bytes"].as_u64() > Some(0), "{stats}");
    assert!(
        stats["disk_bytes"].as_u64() >= Some(b.len() as u64),
        "{stats}"
    );
    assert_eq!(stats["bypassed_bytes"].as_u64(), Some(bypassed), "{stats}");
    // b is cached whole: a warm read fetches nothing more.
    let (status, body, _) = get_range(&url("b.mp4"), 1_000_000, 2_999_999).await;
    assert_eq!(status, 206);
    assert!(body == b[1_000_000..], "b warm");
    let (_, stats) = cache_state(&server).await;
    let b_id = items["b.mp4"]["id"].as_str().expect("id");
    assert_eq!(
        stats["objects"][b_id]["fetched_bytes"].as_u64(),
        Some(b.len() as u64),
        "{stats}"
    );
    drop(server);
}
