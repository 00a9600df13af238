//! Resource limits of the LAN server: the accept loop, per-connection timeouts, and
//! per-client request concurrency. The numbers and their defaults are in [`super::Limits`].
//!
//! `axum::serve` exposes none of hyper's header limits, so connections are served here with
//! hyper's HTTP/1 builder directly:
//! - total and per-IP connection counts are checked at accept; a connection over either gets
//!   one short `503` / `429` response and is closed, without reading its request;
//! - the total is kept under the process's open-file limit ([`nofile`]), with a share of it
//!   that only trusted clients may use, so LAN clients can never make `accept` fail for the
//!   owner; if `accept` fails anyway for want of files, the loop backs off (100 ms doubling
//!   to 1 s) and logs once per episode instead of spinning;
//! - clients on a trusted network (loopback: the owner's own machine, the desktop window,
//!   the benchmarks' 10,000 WebSockets) are held to the total only, not to the per-client
//!   caps, which are about fairness between LAN devices;
//! - hyper bounds the request head (`max_header_bytes`, `max_headers`: `431`) and the time to
//!   send it (`header_read_timeout`, which also closes idle keep-alive connections: a slowloris
//!   client is dropped after it);
//! - a watchdog closes a connection on which no byte has moved for `idle_timeout`;
//! - [`per_client`] bounds the requests in flight per IP (`429`), counting a streamed body
//!   until its last byte.
//!
//! The connection's slot is held by its socket, so an upgraded WebSocket keeps counting.

pub mod nofile;
pub mod socket;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

pub use self::nofile::Caps;
use super::api::error_body;
use super::options::Limits;
use super::ServerState;
use bucketstream_core::wire::{ErrorBody, ErrorCode};

/// First pause after `accept` failed for want of files or memory; doubled up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// Longest pause between accept attempts while out of files.
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Over-limit connections being answered at once; beyond it they are closed unanswered, so
/// a flood cannot turn the refusals themselves into open files.
const MAX_TURNING_AWAY: usize = 64;

#[derive(Default)]
struct PerIp {
    conns: usize,
    requests: usize,
}

/// Live counts of one server: connections (total and per IP) and requests per IP.
#[derive(Default)]
pub struct Counters {
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, PerIp>>,
    turning_away: AtomicUsize,
}

impl Counters {
    /// Open TCP connections (including upgraded WebSockets).
    pub fn connections(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    fn with_ip<R>(&self, ip: IpAddr, f: impl FnOnce(&mut PerIp) -> R) -> R {
        let mut map = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(ip).or_default();
        let out = f(entry);
        if entry.conns == 0 && entry.requests == 0 {
            map.remove(&ip);
        }
        out
    }
}

/// Why a connection was turned away at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Full {
    Server,
    Client,
}

/// A connection's slot; released when the socket is dropped.
struct ConnSlot {
    counters: Arc<Counters>,
    ip: IpAddr,
}

impl ConnSlot {
    fn take(
        counters: &Arc<Counters>,
        ip: IpAddr,
        trusted: bool,
        limits: &Limits,
        caps: Caps,
    ) -> Result<ConnSlot, Full> {
        let cap = if trusted { caps.total } else { caps.lan };
        if counters.total.fetch_add(1, Ordering::AcqRel) >= cap {
            counters.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Full::Server);
        }
        let ok = counters.with_ip(ip, |e| {
            if !trusted && e.conns >= limits.max_connections_per_client {
                false
            } else {
                e.conns += 1;
                true
            }
        });
        if !ok {
            counters.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Full::Client);
        }
        Ok(ConnSlot {
            counters: counters.clone(),
            ip,
        })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.counters
            .with_ip(self.ip, |e| e.conns = e.conns.saturating_sub(1));
        self.counters.total.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that records when a byte last moved, and holds the connection's slot.
struct Tracked {
    inner: TcpStream,
    last: Arc<AtomicU64>,
    start: Instant,
    _slot: ConnSlot,
    /// Dropped with the socket (an upgraded WebSocket's too): the server's shutdown waits
    /// for the last of these.
    _done: mpsc::Sender<()>,
}

impl Tracked {
    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Release);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.touch();
        }
        res
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        res
    }
    /// Passed through so hyper writes body pieces (memory-mapped cache chunks among them)
    /// straight from their buffers with `writev` instead of copying them into its own.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        res
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// What every connection holds of the server's shutdown (mini-redis's pattern): `stop`
/// turns true when it should finish its requests, `force` when it must close now, and `done`
/// is dropped with its socket, so the server's receiver learns when the last one is gone.
#[derive(Clone)]
pub struct Shutdown {
    stop: watch::Receiver<bool>,
    force: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
}

impl Shutdown {
    /// The signals of one server: `stop` and `force` as above; `done`'s receiver returns
    /// `None` once this value and every connection's clone have been dropped.
    pub fn new(
        stop: watch::Receiver<bool>,
        force: watch::Receiver<bool>,
        done: mpsc::Sender<()>,
    ) -> Shutdown {
        Shutdown { stop, force, done }
    }
}

/// Accepts and serves connections until `signals.stop` turns true; returns once it has
/// stopped accepting, dropping its `signals` (open connections are asked to finish, and each
/// holds a clone of them until its socket closes).
pub async fn accept_loop(
    listener: TcpListener,
    app: Router,
    state: ServerState,
    signals: Shutdown,
    caps: Caps,
) {
    let mut stop = signals.stop.clone();
    let limits = state.options.limits.clone();
    // Failed accepts in the current episode of running out of files, and the next pause.
    let mut failures: u64 = 0;
    let mut pause = BACKOFF_FIRST;
    loop {
        let res = tokio::select! {
            res = listener.accept() => res,
            () = async { let _ = stop.wait_for(|s| *s).await; } => return,
        };
        let (stream, peer) = match res {
            Ok(conn) => conn,
            Err(err) if per_connection(&err) => {
                tracing::debug!("accept: a connection failed before it was accepted: {err}");
                continue;
            }
            Err(err) => {
                // EMFILE and friends: the connection stays queued; wait for files to free up
                // instead of spinning, and say so once per episode.
                if failures == 0 {
                    tracing::warn!(
                        "cannot accept connections: {err}; retrying every {} ms at most",
                        BACKOFF_MAX.as_millis()
                    );
                }
                failures += 1;
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = async { let _ = stop.wait_for(|s| *s).await; } => return,
                }
                pause = (pause * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        if failures > 0 {
            tracing::info!("accepting connections again after {failures} failed attempts");
            failures = 0;
            pause = BACKOFF_FIRST;
        }
        let trusted = state.access.trusted(peer.ip());
        let slot = match ConnSlot::take(&state.counters, peer.ip(), trusted, &limits, caps) {
            Ok(slot) => slot,
            Err(full) => {
                tracing::debug!(%peer, ?full, "connection refused: limit reached");
                let counters = state.counters.clone();
                if counters.turning_away.fetch_add(1, Ordering::AcqRel) < MAX_TURNING_AWAY {
                    tokio::spawn(async move {
                        turn_away(stream, full).await;
                        counters.turning_away.fetch_sub(1, Ordering::AcqRel);
                    });
                } else {
                    counters.turning_away.fetch_sub(1, Ordering::AcqRel);
                    drop(stream);
                }
                continue;
            }
        };
        socket::tune(&stream);
        tokio::spawn(serve_one(
            stream,
            peer,
            slot,
            app.clone(),
            limits.clone(),
            signals.clone(),
        ));
    }
}

async fn serve_one(
    stream: TcpStream,
    peer: SocketAddr,
    slot: ConnSlot,
    app: Router,
    limits: Limits,
    signals: Shutdown,
) {
    let Shutdown {
        mut stop,
        mut force,
        done,
    } = signals;
    let last = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let local = stream.local_addr().ok().map(super::guard::LocalAddr);
    let io = Tracked {
        inner: stream,
        last: last.clone(),
        start,
        _slot: slot,
        _done: done,
    };
    let svc = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        if let Some(local) = local {
            req.extensions_mut().insert(local);
        }
        app.clone().oneshot(req.map(Body::new))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers)
        .max_header_size(limits.max_header_bytes)
        .serve_connection(TokioIo::new(io), svc)
        .with_upgrades();
    tokio::pin!(conn);
    let mut watchdog = tokio::time::interval(Duration::from_secs(1).min(limits.idle_timeout));
    let idle_ms = u64::try_from(limits.idle_timeout.as_millis()).unwrap_or(u64::MAX);
    let mut stopping = false;
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(err) = res {
                    tracing::debug!(%peer, "connection ended: {err}");
                }
                return;
            }
            _ = watchdog.tick() => {
                let now = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                if now.saturating_sub(last.load(Ordering::Acquire)) > idle_ms {
                    tracing::debug!(%peer, "connection idle too long; closed");
                    return;
                }
            }
            () = async { let _ = stop.wait_for(|s| *s).await; }, if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = async { let _ = force.wait_for(|f| *f).await; } => return,
        }
    }
}

/// Whether an accept error concerns only the connection being accepted (reset or aborted by
/// its client before the server got to it), not the server's ability to accept.
fn per_connection(err: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        err.kind(),
        ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionReset
            | ErrorKind::Interrupted
            | ErrorKind::WouldBlock
            | ErrorKind::PermissionDenied
    )
}

/// One short answer to a connection over a limit, then close.
async fn turn_away(mut stream: TcpStream, full: Full) {
    let body = match full {
        Full::Server => ErrorBody::new(ErrorCode::Busy, "the server has too many connections"),
        Full::Client => ErrorBody::new(
            ErrorCode::TooManyConnections,
            "this device has too many connections open",
        ),
    };
    let status =
        StatusCode::from_u16(body.http_status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = body.to_json();
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// A request's slot in its client's in-flight count; released when the body is done.
struct RequestSlot {
    counters: Arc<Counters>,
    ip: IpAddr,
}

impl Drop for RequestSlot {
    fn drop(&mut self) {
        self.counters
            .with_ip(self.ip, |e| e.requests = e.requests.saturating_sub(1));
    }
}

/// A response body that holds its request's slot until it is finished or dropped.
struct Held {
    inner: Body,
    _slot: RequestSlot,
}

impl HttpBody for Held {
    type Data = bytes::Bytes;
    type Error = axum::Error;
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: at most `max_requests_per_client` requests in flight per IP, else `429`
/// (trusted clients are not counted).
pub async fn per_client(State(state): State<ServerState>, req: Request, next: Next) -> Response {
    let Some(ip) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())
    else {
        return next.run(req).await;
    };
    if state.access.trusted(ip) {
        return next.run(req).await;
    }
    let max = state.options.limits.max_requests_per_client;
    let admitted = state.counters.with_ip(ip, |e| {
        if e.requests >= max {
            false
        } else {
            e.requests += 1;
            true
        }
    });
    if !admitted {
        tracing::debug!(%ip, "request refused: too many in flight");
        let mut resp = error_body(&ErrorBody::new(
            ErrorCode::TooManyRequests,
            format!("more than {max} requests in flight from this device"),
        ));
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return resp;
    }
    let slot = RequestSlot {
        counters: state.counters.clone(),
        ip,
    };
    next.run(req)
        .await
        .map(|inner| Body::new(Held { inner, _slot: slot }))
}
