//! The shared suite against a local folder.

use std::time::Duration;

use crate::common::{local_source, TestServer};
use crate::suite::{self, Backend};

async fn setup() -> (tempfile::TempDir, TestServer, Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server =
        TestServer::start(local_source(dir.path()), Some(Duration::from_millis(500))).await;
    let backend = Backend::Local(dir.path().to_owned());
    (dir, server, backend)
}

#[tokio::test]
async fn local_hostile_keys_round_trip() {
    let (_dir, server, backend) = setup().await;
    suite::hostile_keys_round_trip(&server, &backend).await;
}

#[tokio::test]
async fn local_ranges_are_exact() {
    let (_dir, server, backend) = setup().await;
    suite::ranges_are_exact(&server, &backend).await;
}

#[tokio::test]
async fn local_bad_ids_are_not_found() {
    let (_dir, server, _backend) = setup().await;
    suite::bad_ids_are_not_found(&server).await;
}

#[tokio::test]
async fn local_websocket_protocol() {
    let (_dir, server, backend) = setup().await;
    suite::websocket_protocol(&server, &backend).await;
}

#[tokio::test]
async fn local_health_and_page() {
    let (_dir, server, _backend) = setup().await;
    server.refresh().await;
    suite::health_and_page(&server, "local").await;
}
