//! The in-process media / LAN server: start, stop, restart on settings changes, and its status.
//!
//! The app's own window plays through this server too (`media_base`), so it always runs:
//! on every interface when LAN sharing is on, on loopback only when it is off. Switching
//! either way (or changing the library) stops the old server and starts a new one in the
//! same process; nothing restarts the app.
//!
//! The status lists one URL per non-loopback interface (getifaddrs through `if-addrs`),
//! the WebSocket client count from the core's hub, and a QR code of the first URL
//! rendered as SVG by the `qrcode` crate.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::server::{self, Hub, ServerState};
use bucketstream_core::Library;
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a stop waits for the old server before going on (the core's own grace is 5 s).
const STOP_WAIT: Duration = Duration::from_secs(7);

/// What the settings view shows about the LAN server.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LanStatus {
    /// Reachable from other devices (bound to a non-loopback address).
    pub enabled: bool,
    /// The port actually bound.
    pub port: u16,
    /// The port the settings ask for (differs when it was busy).
    pub requested_port: u16,
    /// One URL per non-loopback interface (empty when sharing is off).
    pub urls: Vec<String>,
    /// The URL this computer's window uses.
    pub local_url: String,
    /// Connected WebSocket clients (players on other devices and this window).
    pub clients: usize,
    /// A QR code of the first URL, as an SVG document.
    pub qr_svg: Option<String>,
    /// Something the user should know (a busy port, a failed bind).
    pub note: Option<String>,
}

/// A running server and its background refresher.
struct Running {
    addr: SocketAddr,
    requested: SocketAddr,
    note: Option<String>,
    hub: Arc<Hub>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    refresher_stop: oneshot::Sender<()>,
    refresher: JoinHandle<()>,
}

/// The server slot: at most one running server.
#[derive(Default)]
pub struct Lan {
    running: Option<Running>,
}

/// Binds `want`; when that fails (port busy), a free port on the same address (loopback if
/// even that fails) so the window keeps working, with a note saying why.
async fn bind(want: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, Option<String>)> {
    match tokio::net::TcpListener::bind(want).await {
        Ok(listener) => Ok((listener, None)),
        Err(err) => {
            let why = match err.kind() {
                std::io::ErrorKind::AddrInUse => format!("port {} is already in use", want.port()),
                std::io::ErrorKind::PermissionDenied => {
                    format!("port {} needs privileges", want.port())
                }
                _ => err.to_string(),
            };
            // Same interfaces on a free port, so sharing goes on; loopback as a last resort.
            let listener = match tokio::net::TcpListener::bind(SocketAddr::new(want.ip(), 0)).await {
                Ok(l) => l,
                Err(_) => {
                    let lo = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
                    tokio::net::TcpListener::bind(lo).await?
                }
            };
            let got = listener.local_addr()?.port();
            tracing::warn!(%want, %why, port = got, "media server moved to another port");
            let note = format!("Cannot listen on port {}: {why}. Using port {got} instead.", want.port());
            Ok((listener, Some(note)))
        }
    }
}

impl Lan {
    /// Starts serving `library` on `want` (see [`bind`] for the fallback) with its refresher.
    pub async fn start(&mut self, library: Arc<Library>, want: SocketAddr) -> std::io::Result<()> {
        self.stop().await;
        let (listener, note) = bind(want).await?;
        let addr = listener.local_addr()?;
        let (refresher_stop, refresher_rx) = oneshot::channel::<()>();
        let refresher = library.spawn_refresher(async move {
            let _ = refresher_rx.await;
        });
        let state = ServerState::new(library);
        let hub = state.hub.clone();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop_rx.await;
            };
            if let Err(err) = server::run(listener, state, shutdown).await {
                tracing::error!(%err, "media server stopped with an error");
            }
        });
        tracing::info!(%addr, "media server listening");
        self.running = Some(Running {
            addr,
            requested: want,
            note,
            hub,
            stop,
            task,
            refresher_stop,
            refresher,
        });
        Ok(())
    }

    /// Stops the server (closing WebSockets, letting streams finish briefly) and the refresher.
    pub async fn stop(&mut self) {
        let Some(run) = self.running.take() else { return };
        let _ = run.stop.send(());
        let _ = run.refresher_stop.send(());
        let mut task = run.task;
        if tokio::time::timeout(STOP_WAIT, &mut task).await.is_err() {
            task.abort();
        }
        let _ = run.refresher.await;
        tracing::info!(addr = %run.addr, "media server stopped");
    }

    /// The bound address, when running.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.running.as_ref().map(|r| r.addr)
    }

    /// `http://127.0.0.1:PORT`: what this computer's window prefixes media URLs with.
    pub fn media_base(&self) -> Option<String> {
        self.addr().map(|a| format!("http://127.0.0.1:{}", a.port()))
    }

    /// The status for the settings view.
    pub fn status(&self) -> Option<LanStatus> {
        let run = self.running.as_ref()?;
        let enabled = !run.addr.ip().is_loopback();
        let urls = if enabled { urls_for(run.addr) } else { Vec::new() };
        Some(LanStatus {
            enabled,
            port: run.addr.port(),
            requested_port: run.requested.port(),
            qr_svg: urls.first().and_then(|u| qr_svg(u)),
            urls,
            local_url: format!("http://127.0.0.1:{}/", run.addr.port()),
            clients: run.hub.clients(),
            note: run.note.clone(),
        })
    }
}

/// The URLs other devices can open for a server bound to `addr`.
pub fn urls_for(addr: SocketAddr) -> Vec<String> {
    let ips: Vec<IpAddr> = if addr.ip().is_unspecified() {
        match if_addrs::get_if_addrs() {
            Ok(ifaces) => ifaces
                .into_iter()
                .map(|i| i.ip())
                .filter(|ip| !ip.is_loopback())
                .filter(|ip| match ip {
                    IpAddr::V4(_) => true,
                    // Link-local v6 needs a zone id no browser URL bar accepts.
                    IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
                })
                .collect(),
            Err(err) => {
                tracing::warn!(%err, "cannot list network interfaces");
                Vec::new()
            }
        }
    } else {
        vec![addr.ip()]
    };
    let mut urls: Vec<String> = ips
        .into_iter()
        .map(|ip| match ip {
            IpAddr::V4(v4) => format!("http://{v4}:{}/", addr.port()),
            IpAddr::V6(v6) => format!("http://[{v6}]:{}/", addr.port()),
        })
        .collect();
    // IPv4 first: the one people type and the one the QR code shows.
    urls.sort_by_key(|u| u.starts_with("http://["));
    urls.dedup();
    urls
}

/// A QR code of `text` as a standalone SVG document.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_is_svg() {
        let svg = qr_svg("http://192.168.1.20:8080/").expect("encodes");
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }

    #[test]
    fn urls_skip_loopback_and_keep_specific_binds() {
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        assert!(urls_for(any).iter().all(|u| !u.contains("127.0.0.1")));
        let one: SocketAddr = "10.1.2.3:9000".parse().expect("addr");
        assert_eq!(urls_for(one), vec!["http://10.1.2.3:9000/".to_owned()]);
    }

    #[tokio::test]
    async fn busy_port_falls_back_to_loopback() {
        let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let want = taken.local_addr().expect("addr");
        let (listener, note) = bind(want).await.expect("fallback");
        let got = listener.local_addr().expect("addr");
        assert_ne!(got.port(), want.port());
        assert!(note.is_some_and(|n| n.contains("already in use")));
    }
}
