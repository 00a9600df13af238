//! The in-process media / LAN server: start, stop, restart on settings changes, and its status.
//!
//! The app's own window plays through this server too (`media_base`), so it always runs:
//! on every interface when LAN sharing is on, on loopback only when it is off. Switching
//! either way (or changing the library) stops the old server and starts a new one in the
//! same process; nothing restarts the app.
//!
//! The status lists the pairing URLs the headless server would print (the core's
//! `Access::pairing_urls`, which carry the LAN access key), the WebSocket
//! client count from the core's hub, and a QR code of the first URL rendered as SVG by the
//! `qrcode` crate. The access key is kept by a `KeyStore` (the OS keyring in the app).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::app::BindProblem;
use bucketstream_core::config::LanConfig;
use bucketstream_core::Library;
use bucketstream_lan::{self as server, Access, Hub, KeyStore, LanOptions, ServerState};
use bucketstream_library::MediaLibrary;
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::DesktopError;

/// How long a stop waits for the old server before going on (the core's own grace is 5 s).
const STOP_WAIT: Duration = Duration::from_secs(7);
/// Worker threads of the media server's runtime (streaming is I/O bound).
const SERVER_THREADS: usize = 2;

/// What the settings view shows about the LAN server.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LanStatus {
    /// Reachable from other devices (bound to a non-loopback address).
    pub enabled: bool,
    /// The port actually bound.
    pub port: u16,
    /// The port the settings ask for (differs when it was busy).
    pub requested_port: u16,
    /// One pairing URL per non-loopback interface (empty when sharing is off). Each carries
    /// the LAN access key: it is shown to the owner only, never logged.
    pub urls: Vec<String>,
    /// Whether other devices need the key (the pairing URL) to get in.
    pub key_required: bool,
    /// The URL this computer's window uses.
    pub local_url: String,
    /// Connected WebSocket clients (players on other devices and this window).
    pub clients: usize,
    /// A QR code of the first URL, as an SVG document.
    pub qr_svg: Option<String>,
    /// Something the user should know (a busy port, a failed bind).
    pub note: Option<String>,
    /// The Subsonic API's user name when the API is on (a password is set); `None`: off.
    pub subsonic_user: Option<String>,
    /// Whether apps may also sign in with an API key (never the key itself).
    pub subsonic_api_key: bool,
    /// Whether the DLNA media server answers (trusted networks only).
    pub dlna: bool,
}

/// A running server and its background refresher.
struct Running {
    addr: SocketAddr,
    requested: SocketAddr,
    note: Option<String>,
    subsonic_user: Option<String>,
    subsonic_api_key: bool,
    dlna: bool,
    hub: Arc<Hub>,
    access: Arc<Access>,
    stop: oneshot::Sender<()>,
    done: oneshot::Receiver<()>,
    refresher_stop: oneshot::Sender<()>,
    refresher: JoinHandle<()>,
}

/// The server slot: at most one running server, and where its access key lives.
pub struct Lan {
    running: Option<Running>,
    key_store: Option<Arc<dyn KeyStore>>,
}

/// Binds `want`; when that fails (port busy), a free port on the same address (loopback if
/// even that fails) so the window keeps working, with a note saying why.
async fn bind(want: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, Option<String>)> {
    match tokio::net::TcpListener::bind(want).await {
        Ok(listener) => Ok((listener, None)),
        Err(err) => {
            let why = BindProblem::of(&err);
            // Same interfaces on a free port, so sharing goes on; loopback as a last resort.
            let listener = match tokio::net::TcpListener::bind(SocketAddr::new(want.ip(), 0)).await
            {
                Ok(l) => l,
                Err(_) => {
                    let lo = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
                    tokio::net::TcpListener::bind(lo).await?
                }
            };
            let got = listener.local_addr()?.port();
            tracing::warn!(%want, %why, port = got, "media server moved to another port");
            let note = format!(
                "Cannot listen on port {}: {why}. Using port {got} instead.",
                want.port()
            );
            Ok((listener, Some(note)))
        }
    }
}

/// Runs the server on a runtime of its own, on this (dedicated) thread. `block_on` does not
/// need the server future to be `Send`, and media streaming never competes with the
/// window's IPC on Tauri's runtime.
fn serve_blocking(
    listener: std::net::TcpListener,
    state: ServerState,
    stop: oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(SERVER_THREADS)
        .thread_name("media-server")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            tracing::error!(%err, "cannot start the media server's runtime");
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(err) => {
                tracing::error!(%err, "cannot adopt the media server's socket");
                return;
            }
        };
        let shutdown = async move {
            let _ = stop.await;
        };
        if let Err(err) = server::run(listener, state, shutdown).await {
            tracing::error!(%err, "media server stopped with an error");
        }
    });
}

impl Lan {
    /// An idle slot; servers it starts keep their access key in `key_store` (in memory
    /// for the process when `None`).
    pub fn new(key_store: Option<Arc<dyn KeyStore>>) -> Lan {
        Lan {
            running: None,
            key_store,
        }
    }

    /// Starts serving `library` on `want` (see [`bind`] for the fallback) with its refresher,
    /// admitting clients as `settings` (the config file's `[lan]` table) says.
    pub async fn start(
        &mut self,
        library: Arc<Library>,
        media: Option<Arc<MediaLibrary>>,
        want: SocketAddr,
        settings: LanConfig,
    ) -> Result<(), DesktopError> {
        self.stop().await;
        let bind_err = |e: std::io::Error| DesktopError::Bind {
            addr: want,
            reason: e.to_string(),
        };
        let (listener, note) = bind(want).await.map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let listener = listener.into_std().map_err(bind_err)?;
        // The window's page also uploads to /api/uploads (tus-js-client: PATCH, and it reads
        // Location and Upload-Offset), which a page of another origin may do only with CORS.
        let mut settings = settings;
        let subsonic_user = settings.subsonic.as_ref().map(|a| a.user.clone());
        let subsonic_api_key = settings
            .subsonic
            .as_ref()
            .is_some_and(|a| a.api_key.is_some());
        let dlna = settings.dlna;
        for origin in server::desktop_origins() {
            if !settings.cors_origins.contains(&origin) {
                settings.cors_origins.push(origin);
            }
        }
        // Loading the access key may be a keyring round trip: off the async runtime.
        let options = LanOptions {
            key_store: self.key_store.clone(),
            // The window's own page (tauri://localhost) opens this server's WebSocket.
            trusted_origins: server::desktop_origins(),
            ..LanOptions::from_config(settings)
        };
        let lib = library.clone();
        let state =
            tokio::task::spawn_blocking(move || ServerState::with_options(lib, options)).await??;
        let state = match media {
            Some(media) => state.with_media(media),
            None => state,
        };
        let hub = state.hub.clone();
        let access = state.access.clone();
        let (refresher_stop, refresher_rx) = oneshot::channel::<()>();
        let refresher = library.spawn_refresher(async move {
            let _ = refresher_rx.await;
        });
        let (stop, stop_rx) = oneshot::channel::<()>();
        let (done_tx, done) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("media-server".into())
            .spawn(move || {
                serve_blocking(listener, state, stop_rx);
                let _ = done_tx.send(());
            })
            .map_err(bind_err)?;
        tracing::info!(%addr, "media server listening");
        self.running = Some(Running {
            addr,
            requested: want,
            note,
            subsonic_user,
            subsonic_api_key,
            dlna,
            hub,
            access,
            stop,
            done,
            refresher_stop,
            refresher,
        });
        Ok(())
    }

    /// Stops the server (closing WebSockets, letting streams finish briefly) and the refresher.
    pub async fn stop(&mut self) {
        let Some(run) = self.running.take() else {
            return;
        };
        let _ = run.stop.send(());
        let _ = run.refresher_stop.send(());
        if tokio::time::timeout(STOP_WAIT, run.done).await.is_err() {
            tracing::warn!(addr = %run.addr, "media server slow to stop; going on");
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
        self.addr()
            .map(|a| format!("http://127.0.0.1:{}", a.port()))
    }

    /// The status for the settings view.
    pub fn status(&self) -> Option<LanStatus> {
        let run = self.running.as_ref()?;
        let enabled = !run.addr.ip().is_loopback();
        // The same hosts as the headless server prints (none on loopback: sharing is off).
        let urls: Vec<String> = run
            .access
            .pairing_urls(run.addr.ip(), run.addr.port())
            .into_iter()
            .map(|url| url.expose().clone())
            .collect();
        Some(LanStatus {
            enabled,
            port: run.addr.port(),
            requested_port: run.requested.port(),
            qr_svg: urls.first().and_then(|u: &String| qr_svg(u)),
            urls,
            key_required: !run.access.open_to_lan(),
            local_url: format!("http://127.0.0.1:{}/", run.addr.port()),
            clients: run.hub.clients(),
            note: run.note.clone(),
            subsonic_user: run.subsonic_user.clone(),
            subsonic_api_key: run.subsonic_api_key,
            dlna: run.dlna,
        })
    }
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

    #[tokio::test]
    async fn busy_port_falls_back_to_loopback() {
        let taken = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let want = taken.local_addr().expect("addr");
        let (listener, note) = bind(want).await.expect("fallback");
        let got = listener.local_addr().expect("addr");
        assert_ne!(got.port(), want.port());
        assert!(note.is_some_and(|n| n.contains("already in use")));
    }
}
