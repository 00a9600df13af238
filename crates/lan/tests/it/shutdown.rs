//! Shutdown of the LAN server: [`server::run`] returns once the last connection has closed
//! (woken by it, not by polling), and not while one is still streaming.
//!
//! The grace period is set to an hour, so a `run` that returns at all returned because the
//! connections were gone, not because the grace ran out: the test checks order, not time.

use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::config::CacheConfig;
use bucketstream_core::{Config, Library};
use bucketstream_lan::{self as server, LanOptions, ServerState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::local_source;
use crate::lan_common::lan_options;

/// Bigger than any socket buffer pair, so a client that stops reading keeps its stream open.
const BIG: u64 = 256 << 20;

#[tokio::test]
async fn run_returns_once_the_last_connection_closes_and_not_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = std::fs::File::create(dir.path().join("big.mp4")).expect("create");
    file.set_len(BIG).expect("sparse file");
    let (_library_dir, library) = crate::common::own_library();
    let config = Config {
        bind: [127, 0, 0, 1].into(),
        port: 0,
        refresh: None,
        source: local_source(dir.path()),
        cache: CacheConfig {
            enabled: false,
            dir: None,
            max_bytes: 0,
            direct: false,
        },
        library,
    };
    let library: Arc<Library> = Library::new(config).await.expect("library");
    let snap = library.refresh().await.expect("first listing");
    let id = snap.items[0].id;
    let options = LanOptions {
        shutdown_grace: Duration::from_secs(3600),
        ..lan_options()
    };
    let state = ServerState::with_options(library, options).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server::run(listener, state, async move {
        let _ = stopped.await;
    }));

    // A download that has started and then stalls: the client reads no more.
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET /media/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.expect("answer starts");
    assert_eq!(&head, b"HTTP/1.1 200");

    stop.send(()).expect("server running");
    // Once new connections are refused, the server has stopped accepting and waits.
    let mut refused = false;
    for _ in 0..200 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(refused, "the listener never closed");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !run.is_finished(),
        "run returned while a stream was still open"
    );

    drop(stream);
    // Bounded only so that a broken shutdown fails instead of hanging (the grace is 1 h).
    let result = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("run returns once the last connection closed");
    result.expect("run task").expect("run ok");
}
