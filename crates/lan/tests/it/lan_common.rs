//! Helpers for the LAN security tests: a server with [`LanOptions`], and clients that connect
//! from `127.0.0.2` so that, with the trusted networks narrowed to `127.0.0.1/32`, they are
//! "a LAN client". No traffic leaves the loopback interface.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::config::{IpNet, LanConfig};
use bucketstream_core::Library;
use bucketstream_lan::{self as server, LanOptions, ServerState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::WebSocketStream;

use crate::common::{local_source, own_library};

/// The address a "LAN client" connects from.
pub const LAN_IP: [u8; 4] = [127, 0, 0, 2];

/// Options where only `127.0.0.1` is trusted, mDNS off.
pub fn lan_options() -> LanOptions {
    LanOptions {
        config: LanConfig {
            trusted_networks: vec!["127.0.0.1/32".parse::<IpNet>().expect("net")],
            mdns: false,
            ..LanConfig::default()
        },
        host_name: Some("testbox".into()),
        ..LanOptions::default()
    }
}

/// A server over a local folder with `options`; stops when dropped.
pub struct LanServer {
    pub addr: SocketAddr,
    pub state: ServerState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _library_dir: tempfile::TempDir,
}

impl LanServer {
    pub async fn start(dir: &Path, options: LanOptions) -> LanServer {
        let (library_dir, library) = own_library();
        let config = bucketstream_core::Config {
            bind: [127, 0, 0, 1].into(),
            port: 0,
            refresh: None,
            source: local_source(dir),
            cache: bucketstream_core::config::CacheConfig {
                enabled: false,
                dir: None,
                max_bytes: 0,
                direct: false,
            },
            library,
        };
        let library: Arc<Library> = Library::new(config).await.expect("library");
        library.refresh().await.expect("first listing");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = ServerState::with_options(library, options).expect("state");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let run_state = state.clone();
        tokio::spawn(async move {
            server::run(listener, run_state, async move {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        LanServer {
            addr,
            state,
            stop: Some(stop),
            _library_dir: library_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn key(&self) -> String {
        self.state.access.key().expose().clone()
    }
}

impl Drop for LanServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An HTTP client whose connections come from `ip`; no redirects followed, no cookie jar.
pub fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(Some(IpAddr::from(ip)))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// A raw TCP connection to `addr` from `ip`.
pub async fn tcp_from(ip: [u8; 4], addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::from(ip), 0))
        .expect("bind client");
    socket.connect(addr).await.expect("connect")
}

/// Sends `request` on a fresh connection from `ip` and reads until the server closes or
/// `wait` passes; returns what was read.
pub async fn raw(ip: [u8; 4], addr: SocketAddr, request: &[u8], wait: Duration) -> String {
    let mut stream = tcp_from(ip, addr).await;
    stream.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The `name=value` part of a `Set-Cookie` header.
pub fn cookie_pair(resp: &reqwest::Response) -> String {
    let set = resp
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .expect("set-cookie")
        .to_str()
        .expect("ascii");
    set.split(';').next().expect("pair").to_owned()
}

/// A WebSocket handshake from `ip` at `path` with extra headers; the error text on refusal.
pub async fn ws_from(
    ip: [u8; 4],
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<WebSocketStream<TcpStream>, String> {
    let mut req = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("request");
    for (name, value) in headers {
        req.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                .expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    let stream = tcp_from(ip, addr).await;
    tokio_tungstenite::client_async(req, stream)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

/// A media file of `len` bytes in `dir`, and its id once listed.
pub async fn media(server: &LanServer, dir: &Path, name: &str, len: usize) -> String {
    std::fs::write(dir.join(name), crate::common::bytes(len, 7)).expect("write media");
    server.state.library.refresh().await.expect("refresh");
    let snap = server.state.library.snapshot();
    let item = snap.items.iter().find(|i| i.key == name).expect("listed");
    item.id.to_string()
}

/// `GET url` from `client` with `headers` (name, value); the test fails if it cannot be sent.
pub async fn get(
    client: &reqwest::Client,
    url: String,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client.get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("get")
}

/// The `Access-Control-Allow-Origin` a response carries, if any.
pub fn allowed_origin(resp: &reqwest::Response) -> Option<&str> {
    resp.headers()
        .get(reqwest::header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .and_then(|v| v.to_str().ok())
}
