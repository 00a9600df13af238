//! The LAN server: HTTP API, media streaming, WebSocket and the embedded player, on axum.
//!
//! [`run`] takes an already bound listener and a shutdown future (the mini-redis shape), so
//! the binaries decide where to bind and tests bind `127.0.0.1:0`. [`router`] gives the bare
//! axum router for in-process tests with `tower::ServiceExt::oneshot`.
//!
//! Routes:
//! - `GET /api/videos`: the library as a JSON array of [`bucketstream_core::catalog::MediaItem`];
//!   with paging or search parameters one page, `{total, items, generation}`
//!   ([`bucketstream_core::catalog::query`]).
//! - `GET /api/health`: [`bucketstream_core::library::Health`].
//! - `POST /api/refresh`: lists the source now; answers like `/api/health`.
//! - `POST /api/bucket`, `DELETE /api/items/{id}`, `POST /api/items/{id}/move`: the owner's
//!   changes to the library ([`manage`]).
//! - `GET|PUT|DELETE /api/items/{id}/position`: the item's resume position, the same row as its
//!   Subsonic bookmark ([`positions`]).
//! - `GET|HEAD /media/{id}`: the object, with byte ranges ([`media`]).
//! - `GET /transcode/{id}`: the item remuxed or transcoded by ffmpeg as fragmented MP4, from
//!   any start ([`transcode`]).
//! - `GET /api/items/{id}/subtitles`, `GET /subtitles/{id}/{sub}.vtt`: a video's subtitle
//!   tracks and each as WebVTT ([`subtitles`]).
//! - `GET /art/{hash}`: cover art and posters; `GET /api/albums`, `/api/albums/{id}`,
//!   `/api/artists`, `/api/genres`: the grouped views ([`collection`]).
//! - `OPTIONS|POST /api/uploads`, `HEAD|PATCH|DELETE /api/uploads/{id}`: tus 1.0.0 uploads
//!   ([`uploads`]).
//! - `GET|POST /rest/{method}`: the OpenSubsonic API ([`subsonic`]), off until the owner sets
//!   a password; it needs no access key (its clients sign in themselves).
//! - `/dlna/…`: the DLNA/UPnP MediaServer's descriptions and SOAP control ([`dlna`]), off
//!   unless `lan.dlna`, and then only for trusted networks.
//! - `GET /ws`, and `GET /` with an Upgrade header: the WebSocket ([`ws`]).
//! - `GET /` and other paths: the player from `ui/` ([`ui`]).
//!
//! Every route sits behind [`limits::per_client`] (in-flight requests per IP) and
//! [`guard::gate`] (Host allowlist, Origin checks, closed CORS, the access key); the
//! connections themselves are bounded by [`limits::accept_loop`]. What is allowed, and how
//! much, is [`LanOptions`]; the access key is [`access`].

pub mod access;
mod api;
pub mod collection;
pub mod discovery;
pub mod dlna;
mod folders;
pub mod guard;
mod hub;
pub mod limits;
pub mod manage;
pub mod media;
pub mod options;
pub mod positions;
pub mod subsonic;
pub mod subtitles;
pub mod transcode;
mod ui;
pub mod uploads;
pub mod ws;

use std::future::Future;
use std::sync::Arc;

use axum::routing::{delete, get, head, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

pub use access::{Access, FileKeyStore, KeyError, KeyStore, MemoryKeyStore};
pub use hub::Hub;
pub use options::{desktop_origins, IpNet, LanOptions, Limits};

use bucketstream_core::library::Library;
use bucketstream_library::MediaLibrary;

/// What every handler shares (cheap to clone).
#[derive(Clone)]
pub struct ServerState {
    /// The library (the same `Arc` the desktop app manages).
    pub library: Arc<Library>,
    /// WebSocket fan-out and connection count.
    pub hub: Arc<Hub>,
    /// The access key, who needs it, and whether the server is open to the LAN.
    pub access: Arc<Access>,
    /// Names accepted in `Host` and `Origin`.
    pub hosts: Arc<guard::HostPolicy>,
    /// The options the server was made with (limits, CORS origins, mDNS).
    pub options: Arc<LanOptions>,
    /// Live connection and request counts.
    pub counters: Arc<limits::Counters>,
    /// `/api/videos`'s gzipped body, made once per generation.
    gzip: Arc<api::GzipCache>,
    /// The grouped views (albums, artists, genres) of the current generation.
    views: Arc<collection::ViewCache>,
    /// The media library (tags, art, the scan); `None`: items carry no tags and `/art` is 404.
    pub media: Option<Arc<MediaLibrary>>,
    /// Uploads in progress (`/api/uploads`), with their states read back from the data folder.
    pub uploads: Arc<bucketstream_upload::Uploads>,
    /// The Subsonic API's failed sign-ins per client.
    subsonic: Arc<subsonic::Gate>,
    /// Remux and transcode with ffmpeg (`/transcode`); `None` when its cache folder cannot
    /// be made.
    pub transcode: Option<bucketstream_transcode::ffmpeg::Manager>,
    /// Where this server's own helpers (the scan, ffprobe, ffmpeg) read its `/media`
    /// (`http://127.0.0.1:PORT`), set by [`run`] once the listener's address is known; unset
    /// in [`router`]-only tests.
    pub media_base: Arc<std::sync::OnceLock<String>>,
    /// Subtitle tracks found inside videos, and WebVTT converted on the host ([`subtitles`]).
    subtitles: Arc<subtitles::Subtitles>,
    /// The DLNA event subscriptions ([`dlna::events`]).
    dlna_events: Arc<dlna::events::Events>,
}

impl ServerState {
    /// State with the secure defaults of [`LanOptions::default`]: loopback clients need no
    /// key, LAN clients need a key that lives in memory only (so, until a front end pairs
    /// them through [`ServerState::with_options`], LAN clients get `401`).
    pub fn new(library: Arc<Library>) -> ServerState {
        // The in-memory store cannot fail; only the OS random source could.
        match ServerState::with_options(library.clone(), LanOptions::default()) {
            Ok(state) => state,
            Err(err) => panic!("cannot make a LAN access key: {err}"),
        }
    }

    /// State for a server over `library` with `options`. Loads (or makes and saves) the
    /// access key through `options.key_store`, which may block briefly. Starts no task:
    /// every task of the server starts in [`run`], on the runtime that runs it.
    pub fn with_options(
        library: Arc<Library>,
        options: LanOptions,
    ) -> Result<ServerState, KeyError> {
        let access = Arc::new(Access::new(&options)?);
        let host_name = options
            .host_name
            .clone()
            .unwrap_or_else(discovery::os_host_name);
        let trusted = [options.cors_origins.as_slice(), &options.trusted_origins].concat();
        let hosts = Arc::new(
            guard::HostPolicy::new(&host_name, &options.allowed_hosts)
                .with_origins(&options.allowed_hosts, &trusted),
        );
        let hub = Hub::new(library.clone());
        let transcode = transcode::manager(&options.transcode);
        let subtitles = Arc::new(subtitles::Subtitles::new(
            &library.config().library.data_dir,
        ));
        let uploads = Arc::new(bucketstream_upload::Uploads::open(
            library.clone(),
            bucketstream_upload::Settings {
                max_bytes: library.config().library.upload_max_bytes,
                expiry: library.config().library.upload_expiry,
            },
        ));
        Ok(ServerState {
            uploads,
            library,
            hub,
            access,
            hosts,
            options: Arc::new(options),
            counters: Arc::default(),
            gzip: Arc::default(),
            views: Arc::default(),
            media: None,
            subsonic: Arc::default(),
            transcode,
            media_base: Arc::default(),
            subtitles,
            dlna_events: Arc::default(),
        })
    }

    /// The same state with the media library: [`run`] starts its scan, `/art` serves its art.
    pub fn with_media(mut self, media: Arc<MediaLibrary>) -> ServerState {
        self.media = Some(media);
        self
    }
}

/// The router with every route, for serving or for in-process tests.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/api/videos", get(api::videos))
        .route("/api/folders", get(folders::folders))
        .route("/api/health", get(api::health))
        .route("/api/refresh", post(api::refresh))
        .route("/api/stats", get(api::stats))
        .route("/api/bucket", post(manage::create_bucket))
        .route("/api/items/{id}", delete(manage::delete_item))
        .route("/api/items/{id}/move", post(manage::move_item))
        .route(
            "/api/items/{id}/position",
            get(positions::get_position)
                .put(positions::put_position)
                .delete(positions::delete_position),
        )
        .route("/media/{id}", get(media::serve))
        .route("/transcode/{id}", get(transcode::serve))
        .route("/api/items/{id}/subtitles", get(subtitles::list))
        .route("/subtitles/{id}/{track}", get(subtitles::vtt))
        .route("/art/{hash}", get(collection::art))
        .route("/api/albums", get(collection::albums))
        .route("/api/albums/{id}", get(collection::album))
        .route("/api/artists", get(collection::artists))
        .route("/api/genres", get(collection::genres))
        .route(
            "/api/uploads",
            post(uploads::create).options(uploads::options),
        )
        .route(
            "/api/uploads/{id}",
            head(uploads::head)
                .patch(uploads::patch)
                .delete(uploads::terminate),
        )
        .route("/rest/{*method}", get(subsonic::rest).post(subsonic::rest))
        .route("/dlna/{document}", get(dlna::document))
        .route("/dlna/control/{service}", axum::routing::any(dlna::control))
        .route("/dlna/events/{service}", axum::routing::any(dlna::events))
        .route("/ws", get(ws::upgrade))
        .route("/", get(ui::root))
        .fallback(ui::asset)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::per_client,
        ))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then closes WebSockets and
/// gives open streams [`LanOptions::shutdown_grace`] to finish. First raises the process's
/// soft open-file limit to the hard one and caps connections under it ([`limits::nofile`]).
/// Advertises the server over mDNS while it runs when [`bucketstream_core::config::LanConfig::mdns`] is
/// on and the listener is not on loopback. Every task of the server (the hub's pump, the
/// connections) starts here, on the caller's runtime.
///
/// Shutdown follows mini-redis: a `watch` tells every connection to finish, and each
/// connection's socket holds a clone of an `mpsc` sender; when the last one is dropped, the
/// receiver here wakes and `run` returns, without polling. Connections still open at the
/// end of the grace period are closed.
pub async fn run<F>(listener: TcpListener, state: ServerState, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let local = listener.local_addr()?;
    let _advert = if state.options.mdns && !local.ip().is_loopback() {
        discovery::Advert::start(&state, local.port())
    } else {
        None
    };
    // DLNA discovery (when `lan.dlna` is on) for as long as the server runs.
    let _ssdp = dlna::ssdp::Ssdp::start(&state, local, state.options.ssdp_port);
    // DLNA change events to the subscribers, likewise.
    let dlna_events = state
        .options
        .dlna
        .then(|| tokio::spawn(state.dlna_events.clone().run(state.clone())));
    let pump = tokio::spawn(state.hub.pump());
    // Expired uploads are aborted now (those a previous run left) and then every minute.
    let sweep = tokio::spawn(state.uploads.clone().sweep_forever());
    let hub = state.hub.clone();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (force_tx, force_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    tokio::spawn(async move {
        shutdown.await;
        hub.close_all();
        let _ = stop_tx.send(true);
    });
    // The scan, ffmpeg (transcodes) and ffprobe/ffmpeg (subtitles) read through this server's
    // own `/media` (so through the edge cache).
    let base = media_base(local);
    let _ = state.media_base.set(base.clone());
    let scan = state
        .media
        .clone()
        .map(|media| tokio::spawn(media.run(Some(base), stop_rx.clone())));
    let caps = limits::Caps::new(&state.options.limits, limits::nofile::raise());
    tracing::debug!(
        total = caps.total,
        lan = caps.lan,
        "connection caps under the open-file limit"
    );
    let app = router(state.clone());
    let grace = state.options.shutdown_grace;
    let signals = limits::Shutdown::new(stop_rx, force_rx, done_tx);
    // Returns once it has stopped accepting, dropping its own `done` sender.
    let transcoder = state.transcode.clone();
    limits::accept_loop(listener, app, state, signals, caps).await;
    // `recv` gives `None` once every connection's sender is gone: all have finished.
    if tokio::time::timeout(grace, done_rx.recv()).await.is_err() {
        tracing::info!("shutdown grace over; closing remaining connections");
        let _ = force_tx.send(true);
    }
    // No ffmpeg outlives the server.
    if let Some(transcode) = &transcoder {
        transcode.stop_all();
    }
    pump.abort();
    sweep.abort();
    if let Some(events) = dlna_events {
        events.abort();
    }
    if let Some(scan) = scan {
        scan.abort();
    }
    Ok(())
}

/// The URL of a server listening on `local` as this machine reaches it (`http://127.0.0.1:PORT`
/// for a server on every interface).
fn media_base(local: std::net::SocketAddr) -> String {
    let host = match local.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}", local.port())
}
