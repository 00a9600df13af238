//! Listings driven by clients are rate-limited: 20 `POST /api/refresh` in a row cost one
//! listing at the store at most, counted by a proxy in front of Garage; a request that came
//! too soon is still honoured by the listing scheduled for the end of the interval.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::config::{CacheConfig, Config, SourceConfig};
use bucketstream_core::Library;
use bucketstream_lan::{self as server, ServerState};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::common::{eventually, http, put, Garage};
use crate::counting::{CountingProxy, LIST_OBJECTS};

/// A server over `library` (the test chooses its client refresh interval), started after
/// one listing by the owner.
async fn serve(library: Arc<Library>) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    library.refresh().await.expect("first listing");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = ServerState::new(library);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = server::run(listener, state, async move {
            let _ = stopped.await;
        })
        .await;
    });
    (addr, stop)
}

/// Garage with a bucket of one file, a counting proxy before it, and a configuration over it
/// (whose library folder lives as long as the returned guard).
async fn setup(tag: &str) -> (Garage, String, CountingProxy, Config, tempfile::TempDir) {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, tag).await;
    put(&client, &bucket, "a.mp3", b"aaa".to_vec()).await;
    let upstream = garage.addr();
    let proxy = CountingProxy::start(upstream, LIST_OBJECTS).await;
    let mut source = garage.source(&bucket);
    source.endpoint = Some(format!("http://{}", proxy.addr));
    let (library_dir, library) = crate::common::own_library();
    let config = Config {
        bind: [127, 0, 0, 1].into(),
        port: 0,
        refresh: None,
        source: SourceConfig::S3(source),
        cache: CacheConfig {
            enabled: false,
            dir: None,
            max_bytes: 0,
            direct: false,
        },
        library,
    };
    (garage, bucket, proxy, config, library_dir)
}

async fn post_refresh(addr: SocketAddr) -> Value {
    let resp = http()
        .post(format!("http://{addr}/api/refresh"))
        .send()
        .await
        .expect("refresh");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_refreshes_in_a_row_cost_at_most_one_listing() {
    let (_garage, _bucket, proxy, config, _library_dir) = setup("throttle").await;
    // The default interval (10 s), as the binaries use it.
    let library = Library::new(config).await.expect("library");
    let (addr, _stop) = serve(library).await;
    let before = proxy.count();
    assert!(before >= 1, "the first listing went through the proxy");
    let mut answers = Vec::new();
    for _ in 0..20 {
        answers.push(post_refresh(addr).await);
    }
    let listings = proxy.count() - before;
    assert!(
        listings <= 1,
        "20 refreshes in a row caused {listings} listings"
    );
    let first = &answers[0];
    assert_eq!(first["refreshed"], false, "{first}");
    let next = first["next_refresh_in_ms"]
        .as_u64()
        .expect("when the next listing runs");
    assert!(next > 0 && next <= 10_000, "{first}");
    assert_eq!(first["count"], 1, "answered from the snapshot: {first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_came_too_soon_is_listed_at_the_end_of_the_interval() {
    let (garage, bucket, proxy, config, _library_dir) = setup("trailing").await;
    let interval = Duration::from_secs(2);
    let library = Library::with_client_refresh_interval(config, interval)
        .await
        .expect("library");
    let (addr, _stop) = serve(library.clone()).await;
    let before = proxy.count();
    garage
        .client()
        .put_object()
        .bucket(&bucket)
        .key("b.mp3")
        .body(b"bb".to_vec().into())
        .send()
        .await
        .expect("put");
    for _ in 0..20 {
        post_refresh(addr).await;
    }
    // The request is honoured: the new object is listed without anyone asking again.
    eventually(15, "the scheduled listing", || {
        let library = library.clone();
        async move { library.snapshot().items.len() == 2 }
    })
    .await;
    let listings = proxy.count() - before;
    assert!(
        (1..=2).contains(&listings),
        "20 refreshes over about one interval caused {listings} listings"
    );
    // Once the interval is over, a client refresh lists at once.
    tokio::time::sleep(interval).await;
    let answer = post_refresh(addr).await;
    assert_eq!(answer["refreshed"], true, "{answer}");
    assert!(answer.get("next_refresh_in_ms").is_none(), "{answer}");
}
