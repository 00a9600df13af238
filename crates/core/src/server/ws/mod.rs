//! The WebSocket protocol at `/ws` (and `/`): the list on connect, `fetch_videos`, pushed changes.
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
//! frames over [`HARD_LIMIT`] bytes close it (code 1009). The server pings every
//! [`PING_EVERY`] and drops a client silent for [`IDLE_LIMIT`]. Client messages are
//! rate-limited by a token bucket ([`super::Limits::ws_messages_per_sec`], burst
//! [`super::Limits::ws_burst`]): one over the rate gets `{"type":"error","code":"rate_limited"}`,
//! and [`super::Limits::ws_max_refused`] refusals in a row close the connection (1008).
//! A client admitted by the access key (not by its address) is closed with 1008 when the
//! owner rotates the key.
//!
//! Messages longer than 16 KiB (the list) are sent as fragments ([`transport`]); clients
//! receive them whole.

pub mod transport;

use std::time::Duration;

use axum::extract::{Extension, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use self::transport::{send, Socket, Upgrade};

use super::guard::Keyed;
use super::hub::status_json;
use super::ServerState;

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

/// What a client may ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientMsg {
    /// Refresh and send the list; `known` is the generation the client already has, so an
    /// unchanged library is answered without the items.
    FetchVideos {
        known: Option<u64>,
    },
    Ping,
    /// `{"type":"stats"}`: the edge cache counters, as `/api/stats`.
    Stats,
}

/// Why a client message was refused: `(code, message)` for the error frame.
pub type Refusal = (&'static str, String);

/// Parses one text message from a client (pure; table-tested).
pub fn parse_client(text: &str) -> Result<ClientMsg, Refusal> {
    if text.len() > MAX_MESSAGE {
        return Err((
            "too_large",
            format!(
                "message of {} bytes exceeds the {MAX_MESSAGE}-byte limit",
                text.len()
            ),
        ));
    }
    let trimmed = text.trim();
    if trimmed == "fetch_videos" {
        return Ok(ClientMsg::FetchVideos { known: None });
    }
    if !trimmed.starts_with('{') {
        return Err((
            "unknown_message",
            "expected \"fetch_videos\" or a JSON object with a \"type\"".into(),
        ));
    }
    let value: serde_json::Value =
        serde_json::from_str(trimmed).map_err(|e| ("malformed", format!("not valid JSON: {e}")))?;
    match value.get("type").and_then(|t| t.as_str()) {
        Some("fetch_videos") => Ok(ClientMsg::FetchVideos {
            known: value.get("generation").and_then(|g| g.as_u64()),
        }),
        Some("ping") => Ok(ClientMsg::Ping),
        Some("stats") => Ok(ClientMsg::Stats),
        Some(other) => {
            let shown: String = other.chars().take(64).collect();
            Err(("unknown_type", format!("unknown message type {shown:?}")))
        }
        None => Err(("malformed", "a JSON message needs a string \"type\"".into())),
    }
}

fn error_frame((code, message): Refusal) -> Message {
    let body = serde_json::json!({ "type": "error", "code": code, "message": message });
    Message::Text(Utf8Bytes::from(body.to_string()))
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

/// `GET /ws`: upgrades with the transport limits.
pub async fn upgrade(
    State(state): State<ServerState>,
    keyed: Option<Extension<Keyed>>,
    ws: Upgrade,
) -> Response {
    let keyed = keyed.is_some_and(|Extension(Keyed(k))| k);
    let config = WebSocketConfig::default()
        .max_message_size(Some(HARD_LIMIT))
        .max_frame_size(Some(HARD_LIMIT))
        // Clients send at most a few KiB: the 128 KiB default read buffer would cost
        // 1.2 GB at 10,000 idle clients (measured in BENCHMARKS.md).
        .read_buffer_size(READ_BUFFER);
    ws.on_upgrade(config, move |socket| session(state, socket, keyed))
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from_static(reason),
    }))
}

async fn session(state: ServerState, socket: Socket, keyed: bool) {
    let limits = state.options.limits.clone();
    let mut rate = RateLimit::new(limits.ws_messages_per_sec, limits.ws_burst);
    let mut refused_in_a_row: u32 = 0;
    let mut rotations = state.access.rotations();
    rotations.mark_unchanged();
    let hub = state.hub.clone();
    let _guard = hub.connect();
    let mut pushes = hub.subscribe();
    let mut closing = hub.closing();
    let (mut sink, mut stream) = socket.split();
    if send(&mut sink, Message::Text(hub.media_list()))
        .await
        .is_err()
    {
        return;
    }
    if let Some(status) = hub.failing_status() {
        if send(&mut sink, Message::Text(status)).await.is_err() {
            return;
        }
    }
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_seen = Instant::now();
    loop {
        let out: Vec<Message> = tokio::select! {
            incoming = stream.next() => {
                last_seen = Instant::now();
                match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Vec::new(),
                    Some(Ok(_)) if !rate.allow() => {
                        refused_in_a_row += 1;
                        if refused_in_a_row >= limits.ws_max_refused {
                            let _ = sink.send(close(1008, "message rate limit")).await;
                            break;
                        }
                        vec![error_frame((
                            "rate_limited",
                            format!("more than {} messages a second; slow down", limits.ws_messages_per_sec),
                        ))]
                    }
                    Some(Ok(Message::Binary(_))) => {
                        refused_in_a_row = 0;
                        vec![error_frame((
                            "binary_unsupported",
                            "binary messages are not supported; send text".into(),
                        ))]
                    }
                    Some(Ok(Message::Text(text))) => {
                        refused_in_a_row = 0;
                        answer(&state, &text).await
                    }
                }
            }
            Ok(()) = rotations.changed(), if keyed => {
                let _ = sink.send(close(1008, "access key changed; pair again")).await;
                break;
            }
            push = pushes.recv() => match push {
                Ok(frame) => vec![Message::Text(frame)],
                // Too slow to keep up with changes: resynchronise with the whole list.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    vec![Message::Text(hub.media_list())]
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
            _ = ping.tick() => {
                if last_seen.elapsed() > IDLE_LIMIT {
                    break;
                }
                vec![Message::Ping(bytes::Bytes::new())]
            }
            () = async { let _ = closing.wait_for(|c| *c).await; } => {
                let _ = sink.send(close(1001, "server shutting down")).await;
                break;
            }
        };
        for msg in out {
            if send(&mut sink, msg).await.is_err() {
                return;
            }
        }
    }
}

async fn answer(state: &ServerState, text: &str) -> Vec<Message> {
    match parse_client(text) {
        Ok(ClientMsg::Ping) => vec![Message::Text(Utf8Bytes::from_static("{\"type\":\"pong\"}"))],
        Ok(ClientMsg::Stats) => {
            let body = serde_json::json!({ "type": "stats", "cache": state.library.cache_stats() });
            vec![Message::Text(Utf8Bytes::from(body.to_string()))]
        }
        Ok(ClientMsg::FetchVideos { known }) => {
            let mut out = Vec::with_capacity(2);
            if let Err(err) = state.library.request_refresh().await.into_result() {
                out.push(Message::Text(Utf8Bytes::from(status_json(
                    false,
                    Some((err.code(), &err.to_string())),
                ))));
            }
            // The list always follows: fresh on success, the last good one on failure; just
            // its generation when the client says it already has that one.
            let snap = state.library.snapshot();
            let list = if known == Some(snap.generation) && snap.refreshed_at.is_some() {
                Utf8Bytes::from(format!(
                    "{{\"type\":\"media_list\",\"generation\":{},\"count\":{},\"unchanged\":true}}",
                    snap.generation,
                    snap.items.len()
                ))
            } else {
                state.hub.media_list()
            };
            out.insert(0, Message::Text(list));
            out
        }
        Err(refusal) => vec![error_frame(refusal)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_message_table() {
        let ok: &[(&str, ClientMsg)] = &[
            ("fetch_videos", ClientMsg::FetchVideos { known: None }),
            ("  fetch_videos\n", ClientMsg::FetchVideos { known: None }),
            (
                "{\"type\":\"fetch_videos\"}",
                ClientMsg::FetchVideos { known: None },
            ),
            (
                "{\"type\":\"fetch_videos\",\"generation\":7}",
                ClientMsg::FetchVideos { known: Some(7) },
            ),
            (
                "{\"type\":\"fetch_videos\",\"extra\":1}",
                ClientMsg::FetchVideos { known: None },
            ),
            ("{\"type\":\"ping\"}", ClientMsg::Ping),
            ("{\"type\":\"stats\"}", ClientMsg::Stats),
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
