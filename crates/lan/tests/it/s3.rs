//! S3 against a real Garage on loopback: the shared suite, pagination, errors, an outage.

use std::time::Duration;

use bucketstream_core::config::SourceConfig;
use bucketstream_core::secret::Sensitive;
use futures_util::StreamExt;

use crate::common::{eventually, put, Garage, TestServer};
use crate::suite::{self, Backend};

async fn setup(tag: &str) -> (Garage, TestServer, Backend) {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, tag).await;
    let server = TestServer::start(
        SourceConfig::S3(garage.source(&bucket)),
        Some(Duration::from_millis(500)),
    )
    .await;
    (garage, server, Backend::S3 { client, bucket })
}

#[tokio::test]
async fn s3_hostile_keys_round_trip() {
    let (_g, server, backend) = setup("keys").await;
    suite::hostile_keys_round_trip(&server, &backend).await;
}

#[tokio::test]
async fn s3_ranges_are_exact() {
    let (_g, server, backend) = setup("ranges").await;
    suite::ranges_are_exact(&server, &backend).await;
}

#[tokio::test]
async fn s3_bad_ids_are_not_found() {
    let (_g, server, _backend) = setup("ids").await;
    suite::bad_ids_are_not_found(&server).await;
}

#[tokio::test]
async fn s3_websocket_protocol() {
    let (_g, server, backend) = setup("ws").await;
    suite::websocket_protocol(&server, &backend).await;
}

#[tokio::test]
async fn s3_health_and_page() {
    let (_g, server, _backend) = setup("health").await;
    server.refresh().await;
    suite::health_and_page(&server, "s3").await;
}

#[tokio::test]
async fn s3_lists_past_one_thousand_objects() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "many").await;
    const N: usize = 1_234;
    let puts = futures_util::stream::iter(0..N).map(|i| {
        let client = client.clone();
        let bucket = bucket.clone();
        async move {
            put(
                &client,
                &bucket,
                &format!("lib/{:02}/track {i:04}.mp3", i % 17),
                vec![b'x'; i % 7],
            )
            .await;
        }
    });
    puts.buffer_unordered(32).collect::<Vec<()>>().await;
    // Non-media objects and objects outside the prefix are not listed.
    put(&client, &bucket, "lib/readme.txt", b"x".to_vec()).await;
    put(&client, &bucket, "elsewhere/x.mp3", b"x".to_vec()).await;
    let mut source = garage.source(&bucket);
    source.prefix = "lib/".into();
    let server = TestServer::start(SourceConfig::S3(source), None).await;
    server.refresh().await;
    let items = server.videos().await;
    assert_eq!(items.len(), N);
    let mut ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), N, "ids are distinct");
    let folder = items
        .iter()
        .find(|i| i["key"] == "lib/03/track 0003.mp3")
        .expect("item");
    assert_eq!(
        folder["folder"], "03",
        "the prefix is stripped from folders"
    );
    assert_eq!(folder["name"], "track 0003");
    assert_eq!(server.health().await["count"], N);
}

#[tokio::test]
async fn s3_errors_are_actionable() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "errs").await;

    let missing =
        TestServer::start(SourceConfig::S3(garage.source("no-such-bucket-here")), None).await;
    let _ = missing.library.refresh().await;
    assert_eq!(
        missing.health().await["last_error"]["code"],
        "no_such_bucket"
    );

    let mut wrong = garage.source(&bucket);
    if let Some(creds) = wrong.credentials.as_mut() {
        creds.secret_access_key = Sensitive::new("0".repeat(64));
    }
    let bad_secret = TestServer::start(SourceConfig::S3(wrong), None).await;
    let _ = bad_secret.library.refresh().await;
    let health = bad_secret.health().await;
    assert_eq!(health["last_error"]["code"], "bad_credentials", "{health}");
    assert!(
        !health.to_string().contains(&"0".repeat(64)),
        "no secret in replies"
    );

    let mut unknown = garage.source(&bucket);
    if let Some(creds) = unknown.credentials.as_mut() {
        creds.access_key_id = "GK00000000000000000000000000".into();
    }
    let bad_key = TestServer::start(SourceConfig::S3(unknown), None).await;
    let _ = bad_key.library.refresh().await;
    let code = bad_key.health().await["last_error"]["code"].clone();
    assert!(
        code == "bad_credentials" || code == "access_denied",
        "{code}"
    );

    // Nothing listens on this port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut down = garage.source(&bucket);
    down.endpoint = Some(format!("http://127.0.0.1:{port}"));
    let unreachable = TestServer::start(SourceConfig::S3(down), None).await;
    let _ = unreachable.library.refresh().await;
    let health = unreachable.health().await;
    assert_eq!(
        health["last_error"]["code"], "endpoint_unreachable",
        "{health}"
    );
    assert_eq!(health["ok"], false);
    assert_eq!(
        unreachable.videos().await.len(),
        0,
        "serves an empty library meanwhile"
    );
}

#[tokio::test]
async fn s3_outage_keeps_the_library_and_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garage = Garage::private(dir.path());
    let client = garage.client();
    let bucket = garage.bucket(&client, "outage").await;
    for i in 0..3 {
        put(
            &client,
            &bucket,
            &format!("song {i}.mp3"),
            vec![i as u8; 10_000],
        )
        .await;
    }
    let server = TestServer::start(
        SourceConfig::S3(garage.source(&bucket)),
        Some(Duration::from_millis(500)),
    )
    .await;
    server.refresh().await;
    assert_eq!(server.videos().await.len(), 3);
    let mut ws = server.ws("/ws").await;
    ws.until("media_list").await;

    garage.stop();
    let status = ws.until("status").await;
    assert_eq!(status["ok"], false, "{status}");
    assert_eq!(status["error"]["code"], "endpoint_unreachable", "{status}");
    let health = server.health().await;
    assert_eq!(health["ok"], false);
    assert_eq!(
        server.videos().await.len(),
        3,
        "the last good snapshot is still served"
    );
    // Streaming an item needs the store: a clear gateway error, not a hang.
    let url = server.url(server.videos().await[0]["url"].as_str().expect("url"));
    let resp = crate::common::http().get(&url).send().await.expect("get");
    assert_eq!(resp.status(), 504);
    // A client connecting during the outage is told at once.
    let mut late = server.ws("/ws").await;
    assert_eq!(late.until("media_list").await["count"], 3);
    assert_eq!(late.until("status").await["ok"], false);

    garage.start_again();
    loop {
        // Failures may still be reported until the store answers; recovery must follow.
        if ws.until("status").await["ok"] == true {
            break;
        }
    }
    eventually(20, "health to recover", || async {
        server.health().await["ok"] == true
    })
    .await;
    let resp = crate::common::http().get(&url).send().await.expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.expect("body").len(), 10_000);
}
