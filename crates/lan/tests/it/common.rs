//! Test helpers: a server on `127.0.0.1:0`, a Garage handle, HTTP and WebSocket clients.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::config::{
    CacheConfig, Config, LibraryConfig, LocalConfig, S3Config, SourceConfig,
};
use bucketstream_core::secret::{Credentials, Sensitive};
use bucketstream_core::Library;
use bucketstream_lan::{self as server, ServerState};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A library folder (upload states, subtitles) of one test's own, removed when the guard
/// drops: servers running side by side, and the child process of `lan_exhaust`, must not
/// read each other's upload states.
pub fn own_library() -> (tempfile::TempDir, LibraryConfig) {
    let dir = tempfile::Builder::new()
        .prefix("bucketstream-test-library-")
        .tempdir()
        .expect("library folder");
    let config = LibraryConfig::new(dir.path().to_owned());
    (dir, config)
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub library: Arc<Library>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The library folder of [`own_library`], when this server made it.
    library_dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Starts a server over `source` with a background refresh every `refresh`.
    pub async fn start(source: SourceConfig, refresh: Option<Duration>) -> TestServer {
        TestServer::start_with_cache(source, refresh, None).await
    }

    /// As [`TestServer::start`], with the edge cache in `cache_dir` (capped at `max` bytes).
    pub async fn start_with_cache(
        source: SourceConfig,
        refresh: Option<Duration>,
        cache: Option<(&Path, u64)>,
    ) -> TestServer {
        let (library_dir, library) = own_library();
        let config = Config {
            bind: [127, 0, 0, 1].into(),
            port: 0,
            refresh,
            source,
            cache: CacheConfig {
                enabled: cache.is_some(),
                dir: cache.map(|(dir, _)| dir.to_owned()),
                max_bytes: cache.map_or(0, |(_, max)| max),
                direct: false,
            },
            library,
        };
        let mut server = TestServer::start_config(config).await;
        server.library_dir = Some(library_dir);
        server
    }

    /// A server over exactly `config` (its bind and port are ignored: 127.0.0.1:0).
    /// Client refreshes are not rate-limited here (the suite changes the bucket and refreshes
    /// at once); `throttle.rs` tests the limit.
    pub async fn start_config(config: Config) -> TestServer {
        let library = Library::with_client_refresh_interval(config, Duration::ZERO)
            .await
            .expect("library");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (stop_refresh, refresh_stopped) = tokio::sync::oneshot::channel::<()>();
        library.spawn_refresher(async move {
            let _ = refresh_stopped.await;
        });
        let state = ServerState::new(library.clone());
        tokio::spawn(async move {
            server::run(listener, state, async move {
                let _ = stopped.await;
                let _ = stop_refresh.send(());
            })
            .await
            .expect("server runs");
        });
        TestServer {
            addr,
            library,
            stop: Some(stop),
            library_dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Refreshes now through the HTTP API.
    pub async fn refresh(&self) {
        let resp = http()
            .post(self.url("/api/refresh"))
            .send()
            .await
            .expect("refresh");
        assert!(resp.status().is_success(), "refresh: {}", resp.status());
    }

    /// `GET /api/videos`, parsed.
    pub async fn videos(&self) -> Vec<Value> {
        let resp = http()
            .get(self.url("/api/videos"))
            .send()
            .await
            .expect("videos");
        assert_eq!(resp.status(), 200);
        resp.json::<Vec<Value>>().await.expect("json")
    }

    /// `GET /api/health`, parsed.
    pub async fn health(&self) -> Value {
        self.get_json("/api/health").await
    }

    /// `GET /api/stats` (the edge cache's counters).
    pub async fn stats(&self) -> Value {
        self.get_json("/api/stats").await
    }

    /// `GET path` as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        http()
            .get(self.url(path))
            .send()
            .await
            .expect(path)
            .json()
            .await
            .expect("json")
    }

    /// Items by key.
    pub async fn by_key(&self) -> HashMap<String, Value> {
        self.videos()
            .await
            .into_iter()
            .map(|item| (item["key"].as_str().unwrap_or_default().to_owned(), item))
            .collect()
    }

    /// Opens a WebSocket at `path` (`/ws` or `/`).
    pub async fn ws(&self, path: &str) -> Ws {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{}{}", self.addr, path))
            .await
            .expect("ws connect");
        Ws { socket }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An HTTP client with no proxy and no pooling surprises.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A WebSocket client that reads JSON frames.
pub struct Ws {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.expect("send");
    }

    /// The next JSON text frame (pings are skipped), within 15 s.
    pub async fn next_json(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(15), self.socket.next())
                .await
                .expect("a frame within 15 s")
                .expect("socket open")
                .expect("frame");
            match msg {
                Message::Text(text) => return serde_json::from_str(&text).expect("json frame"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Reads frames until one has `"type": kind`, returning it (others are skipped).
    pub async fn until(&mut self, kind: &str) -> Value {
        for _ in 0..50 {
            let v = self.next_json().await;
            if v["type"] == kind {
                return v;
            }
        }
        panic!("no {kind} frame in 50 frames");
    }
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Waits until `check` holds, polling every 100 ms for up to `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..secs * 10 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out after {secs} s waiting for {what}");
}

/// A local-folder source over `dir`.
pub fn local_source(dir: &Path) -> SourceConfig {
    SourceConfig::Local(LocalConfig {
        roots: vec![dir.to_owned()],
    })
}

/// A Garage instance started through `scripts/garage.sh`.
pub struct Garage {
    pub dir: PathBuf,
    pub env: HashMap<String, String>,
    /// Stop it on drop (only for instances a test started for itself).
    owned: bool,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn garage_sh(cmd: &str, dir: &Path) {
    let status = Command::new("bash")
        .arg(repo_root().join("scripts/garage.sh"))
        .arg(cmd)
        .arg(dir)
        .status()
        .expect("run scripts/garage.sh");
    assert!(status.success(), "garage.sh {cmd} failed");
}

fn garage_sh_node(cmd: &str, dir: &Path, n: u8) {
    let status = Command::new("bash")
        .arg(repo_root().join("scripts/garage.sh"))
        .arg(cmd)
        .arg(dir)
        .arg(n.to_string())
        .status()
        .expect("run scripts/garage.sh");
    assert!(status.success(), "garage.sh {cmd} {n} failed");
}

/// Starts (`up`) or stops node `n` (1-3) of the cluster in `dir`.
pub fn set_node(dir: &Path, n: u8, up: bool) {
    garage_sh_node(if up { "start-node" } else { "stop-node" }, dir, n);
}

impl Garage {
    /// The shared instance: `$BUCKETSTREAM_TEST_GARAGE`, or one under `target/garage-test`.
    pub fn shared() -> Garage {
        let dir = std::env::var_os("BUCKETSTREAM_TEST_GARAGE")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/garage-test"));
        garage_sh("start", &dir);
        Garage::read(dir, false)
    }

    /// A private instance in a fresh folder, stopped on drop.
    pub fn private(dir: &Path) -> Garage {
        garage_sh("start", dir);
        Garage::read(dir.to_owned(), true)
    }

    fn read(dir: PathBuf, owned: bool) -> Garage {
        let text = std::fs::read_to_string(dir.join("env")).expect("garage env file");
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Garage { dir, env, owned }
    }

    /// The suite's three-node cluster: `$BUCKETSTREAM_TEST_GARAGE_CLUSTER`, or one under
    /// `target/garage-cluster-test`, started once and left running like [`Garage::shared`];
    /// any node a failed test left stopped is started again. Tests that stop nodes hold
    /// [`cluster_lock`] so that only one node is down at a time.
    pub fn shared_cluster() -> Garage {
        let dir = std::env::var_os("BUCKETSTREAM_TEST_GARAGE_CLUSTER")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/garage-cluster-test"));
        garage_sh("start-cluster", &dir);
        Garage::read(dir, false)
    }

    /// The cluster's S3 endpoints, node 1 first.
    pub fn endpoints(&self) -> Vec<String> {
        self.env["BUCKETSTREAM_TEST_S3_ENDPOINTS"]
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    pub fn stop(&self) {
        garage_sh("stop", &self.dir);
    }

    pub fn start_again(&self) {
        garage_sh("start", &self.dir);
    }

    pub fn endpoint(&self) -> String {
        self.env["BUCKETSTREAM_TEST_S3_ENDPOINT"].clone()
    }

    /// The S3 endpoint's socket address, for a proxy in front of it.
    pub fn addr(&self) -> SocketAddr {
        self.endpoint()
            .trim_start_matches("http://")
            .parse()
            .expect("Garage's endpoint is http://ADDR")
    }

    /// Source config for `bucket` with this instance's key.
    pub fn source(&self, bucket: &str) -> S3Config {
        S3Config {
            bucket: bucket.to_owned(),
            region: Some(self.env["AWS_REGION"].clone()),
            endpoint: Some(self.endpoint()),
            failover_endpoints: Vec::new(),
            prefix: String::new(),
            path_style: true,
            credentials: Some(Credentials {
                access_key_id: self.env["AWS_ACCESS_KEY_ID"].clone(),
                secret_access_key: Sensitive::new(self.env["AWS_SECRET_ACCESS_KEY"].clone()),
                session_token: None,
            }),
            create_bucket: false,
        }
    }

    /// An SDK client for uploads.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let creds = aws_sdk_s3::config::Credentials::new(
            self.env["AWS_ACCESS_KEY_ID"].clone(),
            self.env["AWS_SECRET_ACCESS_KEY"].clone(),
            None,
            None,
            "test",
        );
        let conf = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(
                self.env["AWS_REGION"].clone(),
            ))
            .endpoint_url(self.endpoint())
            .force_path_style(true)
            .credentials_provider(creds)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Creates a fresh bucket with a unique name.
    pub async fn bucket(&self, client: &aws_sdk_s3::Client, tag: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!("t-{tag}-{:x}", nanos % 0xffff_ffff_ffff);
        client
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .expect("create bucket");
        name
    }
}

/// Serialises the tests that stop nodes of [`Garage::shared_cluster`] (two nodes down would
/// leave no quorum).
pub async fn cluster_lock() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// GET `url` with `Range: bytes=a-b`: the status, the body, and the error code if any.
pub async fn get_range(url: &str, a: u64, b: u64) -> (u16, Vec<u8>, Option<String>) {
    let resp = http()
        .get(url)
        .header("range", format!("bytes={a}-{b}"))
        .send()
        .await
        .expect("get");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    let code = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
    (status, body, code)
}

/// Uploads `body` as `key` into `bucket`.
pub async fn put(client: &aws_sdk_s3::Client, bucket: &str, key: &str, body: impl Into<Vec<u8>>) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into().into())
        .send()
        .await
        .expect("put");
}

impl Drop for Garage {
    fn drop(&mut self) {
        if self.owned {
            self.stop();
        }
    }
}

/// Runs ffmpeg quietly with `args` (overwriting outputs); panics with its error output.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs (the test command installs it)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
