//! The edge cache through the LAN server, against Garage: exactness under concurrency, single
//! flight measured by counting GetObjects on the wire, and faults through a TCP proxy.

use std::time::{Duration, Instant};

use bucketstream_core::config::SourceConfig;
use futures_util::StreamExt;

use crate::common::{bytes, http, put, Garage, TestServer};
use crate::counting::{CountingProxy, GET_OBJECT};
use crate::proxy::{Proxy, CUT, PASS, SLOW, SLOW_RATE, STALL};

/// [`crate::common::get_range`] without the error code.
async fn get_range(url: &str, a: u64, b: u64) -> (u16, Vec<u8>) {
    let (status, body, _) = crate::common::get_range(url, a, b).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_ranges_are_exact_and_each_byte_leaves_the_bucket_once() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "cache").await;
    let mut objects = Vec::new();
    for i in 0..3u64 {
        let data = bytes(3_000_000 + i as usize * 77_777, 100 + i);
        let key = format!("film {i}.mp4");
        put(&client, &bucket, &key, data.clone()).await;
        objects.push((key, data));
    }
    // GetObjects counted on this server's own way to the store: Garage's metrics would also
    // count the other tests sharing it.
    let upstream = garage.addr();
    let gets = CountingProxy::start(upstream, GET_OBJECT).await;
    let mut source = garage.source(&bucket);
    source.endpoint = Some(gets.endpoint());
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start_with_cache(
        SourceConfig::S3(source),
        None,
        Some((cache_dir.path(), 1 << 30)),
    )
    .await;
    server.refresh().await;
    let items = server.by_key().await;
    let urls: Vec<(String, Vec<u8>)> = objects
        .iter()
        .map(|(k, d)| {
            (
                server.url(items[k]["url"].as_str().expect("url")),
                d.clone(),
            )
        })
        .collect();

    // 16 clients at once, each on the same cold film first, then random ranges everywhere.
    let gets_before = gets.count();
    let clients = futures_util::stream::iter(0..16u64).map(|c| {
        let urls = urls.clone();
        async move {
            let (url, data) = &urls[0];
            let (status, body) = get_range(url, 0, data.len() as u64 - 1).await;
            assert_eq!(status, 206);
            assert!(body == *data, "client {c}: whole film differs");
            let mut x = c * 104_729 + 7;
            for _ in 0..12 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let (url, data) = &urls[(x >> 61) as usize % urls.len()];
                let len = data.len() as u64;
                let a = (x >> 16) % len;
                let b = (a + (x >> 40) % 1_500_000).min(len - 1);
                let (status, body) = get_range(url, a, b).await;
                assert_eq!(status, 206);
                assert!(
                    body == data[a as usize..=b as usize],
                    "client {c}: range {a}-{b} differs"
                );
            }
        }
    });
    clients.buffer_unordered(16).collect::<Vec<()>>().await;

    let s = server.stats().await;
    let total: u64 = objects.iter().map(|(_, d)| d.len() as u64).sum();
    let fetched = s["cache"]["total"]["fetched_bytes"]
        .as_u64()
        .expect("fetched");
    assert!(
        fetched <= total,
        "fetched {fetched} bytes for {total} bytes of objects"
    );
    let film = &s["cache"]["objects"][items[&objects[0].0]["id"].as_str().expect("id")];
    assert_eq!(
        film["fetched_bytes"],
        objects[0].1.len() as u64,
        "the film left the bucket once"
    );
    let gets = gets.count() - gets_before;
    let chunks: u64 = objects
        .iter()
        .map(|(_, d)| (d.len() as u64).div_ceil(1 << 20))
        .sum();
    assert!(
        gets <= chunks,
        "Garage served {gets} GetObjects for {chunks} chunks"
    );
    assert_eq!(
        gets,
        s["cache"]["total"]["get_requests"].as_u64().expect("gets")
    );
}

/// A caching server whose S3 traffic goes through a fault-injecting [`Proxy`], over a fresh
/// bucket holding `warm.mp4` and `cold.mp4`.
struct ProxiedCache {
    proxy: Proxy,
    server: TestServer,
    cache_dir: tempfile::TempDir,
    warm_url: String,
    cold_url: String,
}

impl ProxiedCache {
    async fn start(tag: &str, warm: &[u8], cold: &[u8]) -> ProxiedCache {
        let garage = Garage::shared();
        let client = garage.client();
        let bucket = garage.bucket(&client, tag).await;
        for (key, data) in [("warm.mp4", warm), ("cold.mp4", cold)] {
            put(&client, &bucket, key, data.to_vec()).await;
        }
        let upstream = garage.addr();
        let proxy = Proxy::start(upstream).await;
        let mut source = garage.source(&bucket);
        source.endpoint = Some(proxy.endpoint());
        let cache_dir = tempfile::tempdir().expect("tempdir");
        let server = TestServer::start_with_cache(
            SourceConfig::S3(source),
            None,
            Some((cache_dir.path(), 1 << 30)),
        )
        .await;
        server.refresh().await;
        let items = server.by_key().await;
        let warm_url = server.url(items["warm.mp4"]["url"].as_str().expect("url"));
        let cold_url = server.url(items["cold.mp4"]["url"].as_str().expect("url"));
        ProxiedCache {
            proxy,
            server,
            cache_dir,
            warm_url,
            cold_url,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_keep_warm_media_playing_and_fail_cold_reads_clearly() {
    let warm = bytes(2_500_000, 1);
    let cold = bytes(2_500_000, 2);
    let ProxiedCache {
        proxy,
        server: _server,
        cache_dir,
        warm_url,
        cold_url,
    } = ProxiedCache::start("faults", &warm, &cold).await;
    let end = warm.len() as u64 - 1;
    assert_eq!(get_range(&warm_url, 0, end).await.1, warm, "warming");

    // The store hangs: warm media still plays; a cold read fails with 504 in bounded time.
    proxy.set(STALL);
    assert_eq!(
        get_range(&warm_url, 0, end).await.1,
        warm,
        "warm while stalled"
    );
    let started = Instant::now();
    let (status, _) = get_range(&cold_url, 0, 1000).await;
    assert_eq!(status, 504, "cold read while stalled");
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "bounded: {:?}",
        started.elapsed()
    );

    // The store goes away: same.
    proxy.set(CUT);
    assert_eq!(get_range(&warm_url, 1000, end).await.1, warm[1000..]);
    let (status, _) = get_range(&cold_url, 0, 1000).await;
    assert!(
        status == 502 || status == 504,
        "cold read while cut: {status}"
    );

    // Nothing half-written entered the cache: once back, the cold object is exact.
    proxy.set(PASS);
    let cold_end = cold.len() as u64 - 1;
    let (status, body) = get_range(&cold_url, 0, cold_end).await;
    assert_eq!(status, 206);
    assert!(body == cold, "cold object exact after the faults");
    let leftovers = walkdir_tmp(cache_dir.path());
    assert_eq!(leftovers, 0, "no temporary chunk files remain");
}

/// A store that is slow but alive (the proxy passes 64 KiB/s): a cold object still arrives
/// byte-exact, to a reader that pauses mid-body too, with one GetObject, while warm media is
/// served from disk meanwhile. No speed is asserted: only exactness, where the bytes came
/// from, and generous bounds that a read through the slow link could not meet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_store_fills_exactly_while_warm_media_plays() {
    let warm = bytes(2_500_000, 21);
    let cold = bytes(160_000, 22); // ~2.5 s through the slow link
    let ProxiedCache {
        proxy,
        server,
        cache_dir: _cache_dir,
        warm_url,
        cold_url,
    } = ProxiedCache::start("slow", &warm, &cold).await;
    let items = server.by_key().await;
    let warm_end = warm.len() as u64 - 1;
    let cold_end = cold.len() as u64 - 1;
    assert_eq!(get_range(&warm_url, 0, warm_end).await.1, warm, "warming");

    proxy.set(SLOW);
    // Two players on the cold object: one reads straight through, one pauses a second after
    // its first bytes (a paused player must not break the fetch, nor its own response).
    let straight = tokio::spawn({
        let url = cold_url.clone();
        async move { get_range(&url, 0, cold_end).await }
    });
    let paused = tokio::spawn({
        let url = cold_url.clone();
        async move {
            let mut resp = http()
                .get(&url)
                .header("range", format!("bytes=0-{cold_end}"))
                .send()
                .await
                .expect("get");
            let status = resp.status().as_u16();
            let mut body = Vec::new();
            if let Ok(Some(first)) = resp.chunk().await {
                body.extend_from_slice(&first);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            while let Ok(Some(piece)) = resp.chunk().await {
                body.extend_from_slice(&piece);
            }
            (status, body)
        }
    });

    // Meanwhile warm media plays from disk. Through the slow link one full read would take
    // about 38 s; three take well under the bound on any machine.
    let started = Instant::now();
    for round in 0..3 {
        let (status, body) = get_range(&warm_url, 0, warm_end).await;
        assert_eq!(status, 206);
        assert!(body == warm, "warm read {round} differs");
    }
    let warm_took = started.elapsed();
    assert!(
        warm_took < Duration::from_secs(20),
        "warm reads took {warm_took:?}: not from disk?"
    );

    for (who, task) in [("straight", straight), ("paused", paused)] {
        let (status, body) = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .unwrap_or_else(|_| panic!("{who} cold read not done within 60 s"))
            .expect("task");
        assert_eq!(status, 206, "{who}");
        assert!(
            body == cold,
            "{who}: cold object differs ({} bytes)",
            body.len()
        );
    }
    let passed = proxy.slow_bytes();
    assert!(
        passed >= cold.len() as u64,
        "only {passed} bytes went through the slow link"
    );

    let s = server.stats().await;
    let of = |key: &str| &s["cache"]["objects"][items[key]["id"].as_str().expect("id")];
    assert_eq!(
        of("warm.mp4")["fetched_bytes"],
        warm.len() as u64,
        "warm reads fetched nothing more"
    );
    assert_eq!(of("warm.mp4")["served_bytes"], 4 * warm.len() as u64);
    assert_eq!(of("cold.mp4")["fetched_bytes"], cold.len() as u64);
    assert_eq!(
        of("cold.mp4")["get_requests"],
        1,
        "one GetObject for both players"
    );
    eprintln!(
        "slow store: {passed} bytes at {SLOW_RATE} B/s; 3 warm reads of {} bytes took {warm_took:?}",
        warm.len()
    );
}

fn walkdir_tmp(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for fan in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(fan.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if f.file_name().to_string_lossy().ends_with(".tmp") {
                n += 1;
            }
        }
    }
    n
}

#[tokio::test]
async fn direct_mode_redirects_to_a_presigned_url_that_plays() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "direct").await;
    let data = bytes(300_000, 11);
    put(&client, &bucket, "d i/r#ect?.mp3", data.clone()).await;
    let (_library_dir, library) = crate::common::own_library();
    let config = bucketstream_core::Config {
        bind: [127, 0, 0, 1].into(),
        port: 0,
        refresh: None,
        source: SourceConfig::S3(garage.source(&bucket)),
        cache: bucketstream_core::config::CacheConfig {
            enabled: false,
            dir: None,
            max_bytes: 0,
            direct: true,
        },
        library,
    };
    let server = TestServer::start_config(config).await;
    server.refresh().await;
    let url = server.url(server.videos().await[0]["url"].as_str().expect("url"));
    let no_follow = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = no_follow.get(&url).send().await.expect("get");
    assert_eq!(resp.status(), 307);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(location.starts_with(&garage.endpoint()), "{location}");
    assert!(location.contains("X-Amz-Expires=300"), "{location}");
    let (status, body) = get_range(&location, 1000, 1999).await;
    assert_eq!(status, 206);
    assert!(
        body == data[1000..2000],
        "the presigned URL serves the object's bytes"
    );
}
