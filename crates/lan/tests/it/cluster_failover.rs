//! Several endpoints of one store (`s3.endpoints`: the three nodes of the shared Garage
//! cluster): with the first endpoint's node stopped, requests move to the next node, so
//! uncached media keep playing, listings keep working and `/api/health` names the endpoint in
//! use; a request in flight to the stopped node is the only one that notices.

use std::time::Instant;

use bucketstream_core::config::S3Config;

use crate::cluster::{media_url, node, read_with_pause, server};
use crate::common::{bytes, cluster_lock, get_range, http, put, Garage};

/// The cluster's source for `bucket` with node 1 as the endpoint and nodes 2 and 3 after it.
fn all_nodes(garage: &Garage, bucket: &str) -> S3Config {
    let mut source = garage.source(bucket);
    let endpoints = garage.endpoints();
    assert_eq!(endpoints.len(), 3, "{endpoints:?}");
    source.endpoint = Some(endpoints[0].clone());
    source.failover_endpoints = endpoints[1..].to_vec();
    source
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_first_endpoint_down_requests_go_to_the_next_node() {
    let _one_at_a_time = cluster_lock().await;
    let garage = Garage::shared_cluster();
    let endpoints = garage.endpoints();
    let client = garage.client();
    let bucket = garage.bucket(&client, "failover").await;
    let cold = bytes((4 << 20) + 999, 61);
    put(&client, &bucket, "cold.mp4", cold.clone()).await;
    put(&client, &bucket, "song.mp3", bytes(50_000, 62)).await;
    let cache = tempfile::tempdir().expect("tempdir");
    let server = server(all_nodes(&garage, &bucket), cache.path(), 2).await;
    let health = server.health().await;
    assert_eq!(
        health["store"]["endpoint"],
        endpoints[0].as_str(),
        "{health}"
    );
    assert_eq!(health["store"]["endpoints"], 3, "{health}");
    let cold_url = media_url(&server, "cold.mp4").await;

    node(&garage, 1, false).await;

    // Uncached media plays from node 2, byte-exact, whole and in ranges.
    let started = Instant::now();
    let (status, body, _) = get_range(&cold_url, 4_000_000, 4_100_000).await;
    eprintln!(
        "first uncached range with node 1 down: {:?}",
        started.elapsed()
    );
    assert_eq!(status, 206);
    assert!(body == cold[4_000_000..=4_100_000]);
    let resp = http().get(&cold_url).send().await.expect("cold");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.bytes().await.expect("body") == cold,
        "cold plays whole"
    );
    let health = server.health().await;
    assert_eq!(health["store"]["ok"], true, "{health}");
    assert_eq!(
        health["store"]["endpoint"],
        endpoints[1].as_str(),
        "{health}"
    );

    // Listings go there too: a new object appears on refresh.
    put(
        &client_of(&garage, &endpoints[1]),
        &bucket,
        "new.mp3",
        bytes(7_000, 63),
    )
    .await;
    server.refresh().await;
    assert_eq!(server.videos().await.len(), 3);
    let health = server.health().await;
    assert_eq!(health["ok"], true, "{health}");

    node(&garage, 1, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_survives_its_endpoints_node_stopping_midway() {
    let _one_at_a_time = cluster_lock().await;
    let garage = Garage::shared_cluster();
    let client = garage.client();
    let bucket = garage.bucket(&client, "failmid").await;
    let film = bytes(20 << 20, 71);
    put(&client, &bucket, "film.mp4", film.clone()).await;
    let cache = tempfile::tempdir().expect("tempdir");
    let server = server(all_nodes(&garage, &bucket), cache.path(), 1).await;
    let url = media_url(&server, "film.mp4").await;

    let got = read_with_pause(&url, 1 << 20, node(&garage, 1, false)).await;
    assert_eq!(got.len(), film.len());
    assert!(
        got == film,
        "byte-exact across the endpoint's node stopping"
    );
    node(&garage, 1, true).await;
}

/// An SDK client for uploads through `endpoint` (node 1's client cannot reach a stopped node).
fn client_of(garage: &Garage, endpoint: &str) -> aws_sdk_s3::Client {
    let conf = garage
        .client()
        .config()
        .to_builder()
        .endpoint_url(endpoint)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
