//! The WebSocket protocol at `/ws` (and `/`): the list on connect, `fetch_videos`, pushed changes.
//!
//! The messages are typed ([`bucketstream_core::wire::ServerMessage`], [`bucketstream_core::wire::ClientMessage`],
//! codes [`bucketstream_core::wire::ErrorCode`]); this module decides which to send.
//!
//! Server to client (JSON text frames):
//! - `{"type":"media_list","generation":N,"count":N,"items":[...]}`: on connect and as the
//!   answer to `fetch_videos`; items are those of `GET /api/videos`. When the client sent
//!   `{"type":"fetch_videos","generation":N}` and N is still current, the answer is
//!   `{"type":"media_list","generation":N,"count":N,"unchanged":true}` without items.
//! - `{"type":"library_changed","generation":N,"count":N,"added":[items],"removed":[ids],"changed":[items]}`:
//!   pushed to everyone when a refresh changes the library.
//! - `{"type":"status","ok":bool,"error":{"code","message"}|null}`: refresh failures and recovery.
//! - `{"type":"error","code":"...","message":"..."}`: the last message was not understood;
//!   the connection stays open.
//! - `{"type":"pong"}`: answer to `{"type":"ping"}`.
//!
//! Client to server: the text `fetch_videos`, or `{"type":"fetch_videos"}`, or `{"type":"ping"}`,
//! or `{"type":"stats"}` (answered with `{"type":"stats","cache":{...}}`, as `/api/stats`).
//!
//! Limits: messages over [`MAX_MESSAGE`] bytes get an error and the connection stays;
//! frames over [`HARD_LIMIT`] bytes close it with a close frame (code 1009). The server
//! pings every [`PING_EVERY`] and drops a client silent for [`IDLE_LIMIT`]. Answers and
//! pushes wait in a per-client [`outbox`] bounded in bytes
//! ([`super::Limits::ws_max_queued_bytes`]), and each frame must be taken within
//! [`super::Limits::ws_send_timeout`]: a client that stops reading is dropped by either.
//! One address may hold [`super::Limits::max_websockets_per_client`] WebSockets
//! ([`super::Limits::max_websockets_per_trusted_client`] for trusted ones); over it the
//! handshake gets `429` (`too_many_websockets`). Client messages are
//! rate-limited by a token bucket ([`super::Limits::ws_messages_per_sec`], burst
//! [`super::Limits::ws_burst`]): one over the rate gets `{"type":"error","code":"rate_limited"}`,
//! and [`super::Limits::ws_max_refused`] refusals in a row close the connection (1008).
//! A client admitted by the access key (not by its address) is closed with 1008 when the
//! owner rotates the key.
//!
//! Messages longer than 16 KiB (the list) are sent as fragments ([`transport`]); clients
//! receive them whole.
//!
//! The query of the WebSocket URL chooses how the list is sent ([`list_mode`]): whole (the
//! default), `list=none` (the generation and count only) or `list=pages` (`media_list_page`
//! frames, one at a time as the client reads them).

pub mod list_mode;
mod outbox;
pub mod transport;

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{Extension, Query, State};
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use self::list_mode::{list_for, ListMode, PageCursor};
use self::outbox::{Outbox, WriteEnd};
use self::transport::{Socket, Upgrade};

use super::api::error_body;
use super::guard::Keyed;
use super::ServerState;
use bucketstream_core::wire::{ClientMessage, ErrorBody, ErrorCode, ServerMessage, WsRefusal};

/// Largest client message that is parsed; longer ones get `{"type":"error","code":"too_large"}`.
pub const MAX_MESSAGE: usize = 4 * 1024;
/// Largest frame the transport accepts; longer ones close the connection (1009).
pub const HARD_LIMIT: usize = 64 * 1024;
/// Per-connection read buffer.
const READ_BUFFER: usize = 8 * 1024;
/// Keepalive ping period.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A client that sends nothing (not even a pong) for this long is dropped.
pub const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// After a close frame, how long the server waits for the client to close its side.
const LINGER: Duration = Duration::from_secs(1);
/// After a close frame, how many more bytes from the client are read and discarded.
const LINGER_BYTES: usize = 1024 * 1024;

/// Why a client message was refused: the code and message of the `error` frame.
pub type Refusal = WsRefusal;

/// Parses one text message from a client (pure; table-tested), at most [`MAX_MESSAGE`] bytes.
pub fn parse_client(text: &str) -> Result<ClientMessage, Refusal> {
    ClientMessage::parse(text, MAX_MESSAGE)
}

/// A text frame holding `message`.
fn frame(message: &ServerMessage<'_>) -> Message {
    Message::Text(Utf8Bytes::from(message.to_json()))
}

fn error_frame(refusal: Refusal) -> Message {
    frame(&ServerMessage::from(refusal))
}

/// A token bucket: `rate` tokens a second, at most `burst` stored.
#[derive(Debug)]
pub struct RateLimit {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    /// A full bucket.
    pub fn new(rate: u32, burst: u32) -> RateLimit {
        let burst = f64::from(burst.max(1));
        RateLimit {
            rate: f64::from(rate),
            burst,
            tokens: burst,
            at: Instant::now(),
        }
    }

    /// Takes a token if there is one.
    pub fn allow(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// `GET /ws`: upgrades with the transport limits, unless the client's address already has
/// its cap of WebSockets open (`429`).
pub async fn upgrade(
    State(state): State<ServerState>,
    keyed: Option<Extension<Keyed>>,
    ws: Upgrade,
) -> Response {
    let keyed = keyed.is_some_and(|Extension(Keyed(k))| k);
    let mode = match Query::<Vec<(String, String)>>::try_from_uri(&ws.uri) {
        Ok(Query(pairs)) => list_mode::parse(&pairs),
        Err(rejection) => Err(rejection.body_text()),
    };
    let mode = match mode {
        Ok(mode) => mode,
        Err(bad) => return error_body(&ErrorBody::new(ErrorCode::BadQuery, bad)),
    };
    let limits = &state.options.limits;
    // In-process requests have no peer; they count as one trusted client.
    let ip = ws.peer.map_or(IpAddr::from([0, 0, 0, 0]), |p| p.ip());
    let max = if ws.peer.is_none() || state.access.trusted(ip) {
        limits.max_websockets_per_trusted_client
    } else {
        limits.max_websockets_per_client
    };
    let Some(client) = state.hub.connect(ip, max) else {
        tracing::debug!(%ip, "WebSocket refused: too many from this address");
        return error_body(&ErrorBody::new(
            ErrorCode::TooManyWebsockets,
            format!("this device already has {max} WebSockets open"),
        ));
    };
    let peer = ws.peer;
    let config = WebSocketConfig::default()
        .max_message_size(Some(HARD_LIMIT))
        .max_frame_size(Some(HARD_LIMIT))
        // Clients send at most a few KiB: the 128 KiB default read buffer would cost
        // 1.2 GB at 10,000 idle clients (measured in BENCHMARKS.md).
        .read_buffer_size(READ_BUFFER);
    let max_queued = limits.ws_max_queued_bytes;
    ws.on_upgrade(config, move |socket| async move {
        let end = session(&state, socket, keyed, mode).await;
        drop(client);
        match end {
            End::Left | End::Closed(..) => tracing::trace!(?peer, ?end, "WebSocket ended"),
            End::Silent => tracing::debug!(?peer, "WebSocket client silent; dropped"),
            End::Overflowed => tracing::debug!(
                ?peer,
                "WebSocket client owes over {max_queued} bytes (not reading); dropped"
            ),
            End::WriteFailed(err) => {
                tracing::debug!(?peer, "WebSocket send failed: {err}; client dropped");
            }
        }
    })
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from_static(reason),
    }))
}

/// How a session ended; decided in the loop, acted on and logged in one place.
#[derive(Debug)]
enum End {
    /// The client closed, went away, or broke the protocol.
    Left,
    /// The server closed it with this code (1001 shutdown, 1008 policy, 1009 too big).
    Closed(u16, &'static str),
    /// Nothing heard for [`IDLE_LIMIT`].
    Silent,
    /// More bytes owed to the client than [`super::Limits::ws_max_queued_bytes`].
    Overflowed,
    /// A frame was not taken within the send timeout, or the send failed.
    WriteFailed(transport::SendError),
}

/// How a failed read ends the session: a frame over the hard limit gets a 1009 close frame.
fn closing_for(err: &WsError) -> End {
    match err {
        WsError::Capacity(_) => End::Closed(1009, "message too big"),
        _ => End::Left,
    }
}

async fn session(state: &ServerState, socket: Socket, keyed: bool, mode: ListMode) -> End {
    let limits = &state.options.limits;
    let mut rate = RateLimit::new(limits.ws_messages_per_sec, limits.ws_burst);
    let mut refused_in_a_row: u32 = 0;
    let mut rotations = state.access.rotations();
    rotations.mark_unchanged();
    let hub = &state.hub;
    let mut pushes = hub.subscribe();
    let mut closing = hub.closing();
    let (mut sink, mut stream) = socket.split();
    let outbox = Outbox::new(limits.ws_max_queued_bytes);
    let (first, mut pages) = list_for(state, mode, None);
    if let Some(first) = first {
        outbox.push(first);
    }
    if let Some(status) = hub.failing_status() {
        outbox.push(Message::Text(status));
    }
    // Boxed so it can be dropped (giving `sink` back) before lingering.
    let mut writer = Box::pin(outbox.write_out(&mut sink, limits.ws_send_timeout));
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_seen = Instant::now();
    let end = loop {
        let out: Vec<Message> = tokio::select! {
            written = &mut writer => match written {
                WriteEnd::Failed(err) => return End::WriteFailed(err),
                WriteEnd::Drained => return End::Left,
            },
            incoming = stream.next() => {
                last_seen = Instant::now();
                match incoming {
                    None | Some(Ok(Message::Close(_))) => break End::Left,
                    Some(Err(err)) => break closing_for(&err),
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Vec::new(),
                    Some(Ok(_)) if !rate.allow() => {
                        refused_in_a_row += 1;
                        if refused_in_a_row >= limits.ws_max_refused {
                            break End::Closed(1008, "message rate limit");
                        }
                        vec![error_frame((
                            ErrorCode::RateLimited,
                            format!("more than {} messages a second; slow down", limits.ws_messages_per_sec),
                        ))]
                    }
                    Some(Ok(Message::Binary(_))) => {
                        refused_in_a_row = 0;
                        vec![error_frame((
                            ErrorCode::BinaryUnsupported,
                            "binary messages are not supported; send text".into(),
                        ))]
                    }
                    Some(Ok(Message::Text(text))) => {
                        refused_in_a_row = 0;
                        match while_writing(answer(state, &text, mode), &mut writer).await {
                            Ok((out, fresh)) => {
                                if fresh.is_some() {
                                    pages = fresh;
                                }
                                out
                            }
                            Err(WriteEnd::Failed(err)) => return End::WriteFailed(err),
                            Err(WriteEnd::Drained) => return End::Left,
                        }
                    }
                }
            }
            Ok(()) = rotations.changed(), if keyed => {
                break End::Closed(1008, "access key changed; pair again");
            }
            push = pushes.recv() => match push {
                Ok(frame) => vec![Message::Text(frame)],
                // Too slow to keep up with changes: resynchronise with the whole list.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let (frame, fresh) = list_for(state, mode, None);
                    if fresh.is_some() {
                        pages = fresh;
                    }
                    frame.into_iter().collect()
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break End::Left,
            },
            // The next page of a list sent in pages, once the previous one has been taken.
            () = outbox.room(), if pages.is_some() => {
                let next = pages.as_mut().and_then(PageCursor::next_frame);
                if pages.as_ref().is_some_and(PageCursor::is_done) {
                    pages = None;
                }
                next.map(|f| Message::Text(Utf8Bytes::from(f))).into_iter().collect()
            }
            _ = ping.tick() => {
                if last_seen.elapsed() > IDLE_LIMIT {
                    break End::Silent;
                }
                vec![Message::Ping(bytes::Bytes::new())]
            }
            () = async { let _ = closing.wait_for(|c| *c).await; } => {
                break End::Closed(1001, "server shutting down");
            }
        };
        if !out.into_iter().all(|msg| outbox.push(msg)) {
            break End::Overflowed;
        }
    };
    let End::Closed(code, reason) = end else {
        return end;
    };
    // A close frame after what is queued, all within the send timeout (else no close frame).
    outbox.finish_with(close(code, reason));
    if let Ok(WriteEnd::Failed(err)) =
        tokio::time::timeout(limits.ws_send_timeout, &mut writer).await
    {
        return End::WriteFailed(err);
    }
    drop(writer);
    linger(sink, stream).await;
    end
}

/// Runs `work` (an answer, which may refresh the library for seconds) while `writer` goes on
/// writing, so that a slow client's frames keep moving and their timeouts do not run out for
/// want of being polled. `Err` when the writer stops first.
async fn while_writing<T>(
    work: impl Future<Output = T>,
    writer: &mut (impl Future<Output = WriteEnd> + Unpin),
) -> Result<T, WriteEnd> {
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => Ok(out),
        written = writer => Err(written),
    }
}

/// After the server's close frame: reads and discards what the client still sends, until it
/// closes its side, for at most [`LINGER`]. Closing a socket with unread bytes (the rest of an
/// oversized frame) makes the kernel reset the connection, which can destroy the close frame
/// before the client reads it.
async fn linger(sink: SplitSink<Socket, Message>, stream: SplitStream<Socket>) {
    let Ok(mut socket) = sink.reunite(stream) else {
        return;
    };
    let io = socket.get_mut();
    let _ = tokio::time::timeout(LINGER, async {
        let mut buf = [0u8; 4096];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
    let _ = io.shutdown().await;
}

/// The frames answering `text`, and for `fetch_videos` in `list=pages` the pages to send.
async fn answer(
    state: &ServerState,
    text: &str,
    mode: ListMode,
) -> (Vec<Message>, Option<PageCursor>) {
    match parse_client(text) {
        Ok(ClientMessage::Ping) => (vec![frame(&ServerMessage::Pong)], None),
        Ok(ClientMessage::Stats) => (
            vec![frame(&ServerMessage::Stats {
                cache: state.library.cache_stats(),
            })],
            None,
        ),
        Ok(ClientMessage::FetchVideos { generation }) => {
            let mut out = Vec::with_capacity(2);
            let failed = state.library.request_refresh().await.into_result().err();
            // The list always follows: fresh on success, the last good one on failure; just
            // its generation when the client says it already has that one.
            let (list, pages) = list_for(state, mode, generation);
            out.extend(list);
            if let Some(err) = failed {
                out.push(frame(&ServerMessage::status(Some(&err))));
            }
            (out, pages)
        }
        Err(refusal) => (vec![error_frame(refusal)], None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_message_table() {
        let ok: &[(&str, ClientMessage)] = &[
            (
                "fetch_videos",
                ClientMessage::FetchVideos { generation: None },
            ),
            (
                "  fetch_videos\n",
                ClientMessage::FetchVideos { generation: None },
            ),
            (
                "{\"type\":\"fetch_videos\"}",
                ClientMessage::FetchVideos { generation: None },
            ),
            (
                "{\"type\":\"fetch_videos\",\"generation\":7}",
                ClientMessage::FetchVideos {
                    generation: Some(7),
                },
            ),
            (
                "{\"type\":\"fetch_videos\",\"extra\":1}",
                ClientMessage::FetchVideos { generation: None },
            ),
            (
                "{\"type\":\"fetch_videos\",\"generation\":\"7\"}",
                ClientMessage::FetchVideos { generation: None },
            ),
            (
                "{\"type\":\"fetch_videos\",\"generation\":-1}",
                ClientMessage::FetchVideos { generation: None },
            ),
            (
                "{\"type\":\"fetch_videos\",\"generation\":null}",
                ClientMessage::FetchVideos { generation: None },
            ),
            ("{\"type\":\"ping\"}", ClientMessage::Ping),
            ("{\"type\":\"ping\",\"x\":[1]}", ClientMessage::Ping),
            ("{\"type\":\"stats\"}", ClientMessage::Stats),
        ];
        for (text, want) in ok {
            assert_eq!(parse_client(text), Ok(*want), "{text:?}");
        }
        let long = "x".repeat(MAX_MESSAGE + 1);
        let bad: &[(&str, &str)] = &[
            ("", "unknown_message"),
            ("FETCH_VIDEOS", "unknown_message"),
            ("hello", "unknown_message"),
            ("{", "malformed"),
            ("{\"type\":1}", "malformed"),
            ("{}", "malformed"),
            ("{\"type\":\"drop_tables\"}", "unknown_type"),
            ("[\"fetch_videos\"]", "unknown_message"),
            (&long, "too_large"),
        ];
        for (text, code) in bad {
            let err = parse_client(text).expect_err(text);
            assert_eq!(err.0, *code, "{text:?}: {}", err.1);
        }
    }
}
