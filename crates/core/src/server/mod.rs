//! The LAN server: HTTP API, media streaming, WebSocket and the embedded player, on axum.
//!
//! [`run`] takes an already bound listener and a shutdown future (the mini-redis shape), so
//! the binaries decide where to bind and tests bind `127.0.0.1:0`. [`router`] gives the bare
//! axum router for in-process tests with `tower::ServiceExt::oneshot`.
//!
//! Routes:
//! - `GET /api/videos`: the library as a JSON array of [`crate::catalog::MediaItem`].
//! - `GET /api/health`: [`crate::library::Health`].
//! - `POST /api/refresh`: lists the source now; answers like `/api/health`.
//! - `GET|HEAD /media/{id}`: the object, with byte ranges ([`media`]).
//! - `GET /ws`, and `GET /` with an Upgrade header: the WebSocket ([`ws`]).
//! - `GET /` and other paths: the player from `ui/` ([`ui`]).

mod api;
mod hub;
pub mod media;
mod ui;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use hub::Hub;

use crate::library::Library;

/// How long shutdown waits for open streams before closing them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What every handler shares (cheap to clone).
#[derive(Clone)]
pub struct ServerState {
    /// The library (the same `Arc` the desktop app manages).
    pub library: Arc<Library>,
    /// WebSocket fan-out and connection count.
    pub hub: Arc<Hub>,
}

impl ServerState {
    /// State for a server over `library`; starts the hub's event task (needs a tokio runtime).
    pub fn new(library: Arc<Library>) -> ServerState {
        let hub = Hub::start(library.clone());
        ServerState { library, hub }
    }
}

/// The router with every route, for serving or for in-process tests.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/api/videos", get(api::videos))
        .route("/api/health", get(api::health))
        .route("/api/refresh", post(api::refresh))
        .route("/media/{id}", get(media::serve))
        .route("/ws", get(ws::upgrade))
        .route("/", get(ui::root))
        .fallback(ui::asset)
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes, then closes WebSockets and
/// gives open streams [`SHUTDOWN_GRACE`] to finish.
pub async fn run<F>(listener: TcpListener, state: ServerState, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let hub = state.hub.clone();
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        hub.close_all();
        let _ = stop_tx.send(true);
    });
    let mut graceful_rx = stop_rx.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful_rx.wait_for(|stop| *stop).await;
    });
    tokio::select! {
        res = serve => res,
        () = async move {
            let _ = stop_rx.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::info!("shutdown grace over; closing remaining connections");
            Ok(())
        }
    }
}
