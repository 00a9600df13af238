//! Behind a real three-node Garage cluster (`scripts/garage.sh start-cluster`, replication
//! factor 3, every node an S3 endpoint): a node other than the endpoint's stopped in the
//! middle of a stream, and the endpoint's own node stopped (cached media plays, uncached media
//! fails clearly, `/api/health` says what is wrong, all recovers). Failover across several
//! endpoints (`s3.endpoints`) is in [`crate::cluster_failover`].
//!
//! The cluster is the suite's shared one ([`Garage::shared_cluster`]); the tests that stop
//! nodes hold [`cluster_lock`] and start every node again when they end.

use std::time::Instant;

use bucketstream_core::config::{S3Config, SourceConfig};
use serde_json::Value;

use crate::common::{
    bytes, cluster_lock, eventually, get_range, http, put, set_node, Garage, TestServer,
};

/// A cluster node stopped or started from a test (the script blocks: off the runtime).
pub async fn node(garage: &Garage, n: u8, up: bool) {
    let dir = garage.dir.clone();
    tokio::task::spawn_blocking(move || set_node(&dir, n, up))
        .await
        .expect("garage.sh ran");
}

/// A server with an edge cache over `source`, its listing done.
pub async fn server(source: S3Config, cache: &std::path::Path, count: usize) -> TestServer {
    let server =
        TestServer::start_with_cache(SourceConfig::S3(source), None, Some((cache, 1 << 30))).await;
    eventually(30, "the first listing", || async {
        server.health().await["count"] == count
    })
    .await;
    server
}

/// The whole body of `GET url`, read in pieces; `between` runs once the first `after` bytes
/// are in.
pub async fn read_with_pause<F>(url: &str, after: usize, between: F) -> Vec<u8>
where
    F: std::future::Future<Output = ()>,
{
    let mut resp = http().get(url).send().await.expect("get media");
    assert_eq!(resp.status(), 200, "{url}");
    let mut got = Vec::new();
    let mut between = Some(between);
    while let Some(chunk) = resp.chunk().await.expect("body chunk") {
        got.extend_from_slice(&chunk);
        if got.len() >= after {
            if let Some(pause) = between.take() {
                pause.await;
            }
        }
    }
    got
}

/// The media URL of `key` in `server`'s list.
pub async fn media_url(server: &TestServer, key: &str) -> String {
    let items = server.by_key().await;
    server.url(items[key]["url"].as_str().expect("url"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_continues_byte_exact_when_another_node_stops() {
    let _one_at_a_time = cluster_lock().await;
    let garage = Garage::shared_cluster();
    let client = garage.client();
    let bucket = garage.bucket(&client, "midstream").await;
    // 20 MiB: the edge cache fetches 8 MiB ahead, so most GetObjects happen after the stop.
    let film = bytes(20 << 20, 41);
    put(&client, &bucket, "films/long.mp4", film.clone()).await;
    for i in 0..4 {
        put(
            &client,
            &bucket,
            &format!("music/{i}.mp3"),
            bytes(10_000, i),
        )
        .await;
    }
    let cache = tempfile::tempdir().expect("tempdir");
    let server = server(garage.source(&bucket), cache.path(), 5).await;
    let url = media_url(&server, "films/long.mp4").await;

    let started = Instant::now();
    let got = read_with_pause(&url, 1 << 20, node(&garage, 2, false)).await;
    let elapsed = started.elapsed();
    assert_eq!(got.len(), film.len());
    assert!(got == film, "the stream is byte-exact across the stop");
    eprintln!("20 MiB streamed with node 2 stopped after 1 MiB in {elapsed:?}");

    // The library stays listed, a refresh succeeds, health is good.
    assert_eq!(server.videos().await.len(), 5);
    server.refresh().await;
    let health = server.health().await;
    assert_eq!(health["ok"], true, "{health}");
    assert_eq!(health["store"]["ok"], true, "{health}");
    // A range the cache has not seen yet also reads back exactly.
    let (status, body, _) = get_range(&url, 5, 300_000).await;
    assert_eq!((status, body.as_slice()), (206, &film[5..=300_000]));

    node(&garage, 2, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_endpoints_node_down_cached_media_plays_and_health_says_why() {
    let _one_at_a_time = cluster_lock().await;
    let garage = Garage::shared_cluster();
    let client = garage.client();
    let bucket = garage.bucket(&client, "epdown").await;
    let warm = bytes(3 << 20, 51);
    let cold = bytes((2 << 20) + 12_345, 52);
    put(&client, &bucket, "warm.mp4", warm.clone()).await;
    put(&client, &bucket, "cold.mp4", cold.clone()).await;
    let cache = tempfile::tempdir().expect("tempdir");
    let server = server(garage.source(&bucket), cache.path(), 2).await;
    let warm_url = media_url(&server, "warm.mp4").await;
    let cold_url = media_url(&server, "cold.mp4").await;
    let whole = http().get(&warm_url).send().await.expect("warm");
    assert!(
        whole.bytes().await.expect("warm body") == warm,
        "warm plays"
    );

    node(&garage, 1, false).await;

    // Cached media keeps playing, whole and in ranges, byte-exact.
    let whole = http().get(&warm_url).send().await.expect("warm again");
    assert_eq!(whole.status(), 200);
    assert!(whole.bytes().await.expect("body") == warm);
    for (a, b) in [(0, 0), (1_000, 2_000_000), (3_145_000, 3_145_727)] {
        let (status, body, _) = get_range(&warm_url, a, b).await;
        assert_eq!(status, 206, "{a}-{b}");
        assert!(body == warm[a as usize..=b as usize], "{a}-{b}");
    }
    // Uncached media fails with a clear error, within the configured timeouts.
    let started = Instant::now();
    let (status, body, code) = get_range(&cold_url, 0, 1_000).await;
    eprintln!(
        "an uncached read with the endpoint down failed in {:?}",
        started.elapsed()
    );
    assert_eq!(status, 504, "{}", String::from_utf8_lossy(&body));
    assert_eq!(code.as_deref(), Some("endpoint_unreachable"));
    let error: Value = serde_json::from_slice(&body).expect("json error");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("unreachable"), "{message}");

    // Health says the store is unreachable at once (no listing needed), and why.
    let health = server.health().await;
    let store = &health["store"];
    assert_eq!(store["ok"], false, "{health}");
    assert_eq!(store["error"]["code"], "endpoint_unreachable", "{health}");
    assert!(store["since"].is_string(), "{health}");
    assert_eq!(store["endpoint"], garage.endpoint().as_str(), "{health}");
    // A refresh fails the same way; the library stays listed from the snapshot.
    let resp = http()
        .post(server.url("/api/refresh"))
        .send()
        .await
        .expect("refresh");
    assert_eq!(resp.status(), 504);
    let health = server.health().await;
    assert_eq!(health["ok"], false, "{health}");
    assert_eq!(health["last_error"]["code"], "endpoint_unreachable");
    assert_eq!(server.videos().await.len(), 2);

    // The node returns: a refresh succeeds (polled, no fixed sleep), health recovers, and
    // the uncached object plays.
    node(&garage, 1, true).await;
    let back = Instant::now();
    eventually(60, "a refresh after the node returned", || async {
        let resp = http().post(server.url("/api/refresh")).send().await;
        resp.is_ok_and(|r| r.status().is_success())
    })
    .await;
    eprintln!("recovered {:?} after start-node", back.elapsed());
    let health = server.health().await;
    assert_eq!(health["ok"], true, "{health}");
    assert_eq!(health["store"]["ok"], true, "{health}");
    assert!(health["store"]["error"].is_null(), "{health}");
    let resp = http().get(&cold_url).send().await.expect("cold");
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.expect("cold body") == cold, "cold plays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_cluster_serves_with_one_node_stopped() {
    let _one_at_a_time = cluster_lock().await;
    let garage = Garage::shared_cluster();
    let client = garage.client();
    let bucket = garage.bucket(&client, "cluster").await;
    let body = bytes(300_000, 15);
    put(&client, &bucket, "music/a b/track.mp3", body.clone()).await;

    // Node 2 is not the endpoint's node: reads and listings still have a quorum (2 of 3).
    node(&garage, 2, false).await;
    let got = client
        .get_object()
        .bucket(&bucket)
        .key("music/a b/track.mp3")
        .send()
        .await
        .expect("get with node 2 stopped");
    let got = got.body.collect().await.expect("body").into_bytes();
    assert!(
        got.as_ref() == body.as_slice(),
        "the object reads back byte-exact"
    );
    let source = bucketstream_core::source::s3::S3Source::new(&garage.source(&bucket)).await;
    let listed = source.list().await.expect("list with node 2 stopped");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, "music/a b/track.mp3");
    assert_eq!(listed[0].size, body.len() as u64);

    // Back again, it serves as a member (the endpoint still answers, nothing lost).
    node(&garage, 2, true).await;
    let again = client
        .head_object()
        .bucket(&bucket)
        .key("music/a b/track.mp3")
        .send()
        .await
        .expect("head after node 2 returned");
    assert_eq!(again.content_length(), Some(body.len() as i64));
}
