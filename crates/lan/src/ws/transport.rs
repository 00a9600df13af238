//! The WebSocket transport under the protocol: the HTTP/1.1 upgrade, and large text messages
//! sent as fragments so that a connection's write buffer stays small.
//!
//! Why not axum's `WebSocket`: tungstenite serialises every outgoing frame into a
//! per-connection buffer that is drained but never shrunk, so sending the whole library as one
//! frame pins the list's size on that connection for as long as it lives (361 KB for 1,000
//! items; 3.6 GB over 10,000 clients, see BENCHMARKS.md). RFC 6455 §5.4 lets a message travel
//! as a text frame followed by continuation frames, and browsers and WebSocket libraries hand
//! the application the reassembled message, so clients see exactly the same protocol. axum's
//! wrapper cannot send fragments; tokio-tungstenite's stream can (`Message::Frame`), so this
//! module does the upgrade itself (validation as axum does it) and hands the session that stream.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use futures_util::{Sink, SinkExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// An upgraded connection, as the session reads and writes it.
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Text messages longer than this go out as fragments of at most this many payload bytes;
/// it bounds what a connection's write buffer keeps after sending the list.
pub const FRAGMENT: usize = 16 * 1024;

/// A valid WebSocket upgrade request (RFC 6455 §4.2.1), ready to be answered.
pub struct Upgrade {
    /// `Sec-WebSocket-Key`, from which the accept header is derived.
    key: HeaderValue,
    /// hyper's handle on the connection once the 101 response is out.
    on_upgrade: OnUpgrade,
    /// The TCP peer (absent only for in-process requests without a connection).
    pub peer: Option<SocketAddr>,
    /// The request's URI (its query chooses how the list is sent: `super::list_mode`).
    pub uri: axum::http::Uri,
}

/// Why a request cannot be upgraded: a status and words for the client.
#[derive(Debug)]
pub struct Rejection(StatusCode, &'static str);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut resp = (self.0, format!("{}\n", self.1)).into_response();
        if self.0 == StatusCode::UPGRADE_REQUIRED {
            resp.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        resp
    }
}

fn header_is(headers: &HeaderMap, name: header::HeaderName, want: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(want.as_bytes()))
}

fn header_has_token(headers: &HeaderMap, name: header::HeaderName, want: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(want.as_bytes()))
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        if parts.version != Version::HTTP_11 {
            return Err(Rejection(
                StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                "WebSocket needs HTTP/1.1",
            ));
        }
        if parts.method != Method::GET {
            return Err(Rejection(
                StatusCode::METHOD_NOT_ALLOWED,
                "a WebSocket upgrade is a GET",
            ));
        }
        if !header_has_token(&parts.headers, header::CONNECTION, "upgrade")
            || !header_is(&parts.headers, header::UPGRADE, "websocket")
        {
            return Err(Rejection(
                StatusCode::BAD_REQUEST,
                "expected 'Connection: upgrade' and 'Upgrade: websocket'",
            ));
        }
        if !header_is(&parts.headers, header::SEC_WEBSOCKET_VERSION, "13") {
            return Err(Rejection(
                StatusCode::UPGRADE_REQUIRED,
                "only WebSocket version 13 is spoken",
            ));
        }
        let key = parts
            .headers
            .get(header::SEC_WEBSOCKET_KEY)
            .filter(|k| !k.is_empty())
            .cloned()
            .ok_or(Rejection(
                StatusCode::BAD_REQUEST,
                "missing Sec-WebSocket-Key",
            ))?;
        let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or(Rejection(
            StatusCode::UPGRADE_REQUIRED,
            "this connection cannot be upgraded",
        ))?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0);
        Ok(Upgrade {
            key,
            on_upgrade,
            peer,
            uri: parts.uri.clone(),
        })
    }
}

impl Upgrade {
    /// Answers 101 and runs `session` on the upgraded connection once it is switched.
    pub fn on_upgrade<F, Fut>(self, config: WebSocketConfig, session: F) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let accept = derive_accept_key(self.key.as_bytes());
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            // The client may go away between the 101 and the switch: nothing to serve then.
            let Ok(upgraded) = on_upgrade.await else {
                return;
            };
            let socket = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            session(socket).await;
        });
        let mut resp = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let h = resp.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(v) = HeaderValue::from_str(&accept) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
        }
        resp
    }
}

/// The frames that carry `text`: one text frame when it fits in [`FRAGMENT`] bytes, otherwise
/// a text frame and continuation frames of at most `FRAGMENT` bytes, the last one final.
/// Fragments share `text`'s buffer (no copy) and may split a UTF-8 sequence: the protocol
/// only requires the reassembled message to be valid UTF-8 (RFC 6455 §5.6).
pub fn fragments(text: &Utf8Bytes) -> Vec<Frame> {
    let bytes: &bytes::Bytes = text.as_ref();
    if bytes.len() <= FRAGMENT {
        return vec![Frame::message(
            bytes.clone(),
            OpCode::Data(Data::Text),
            true,
        )];
    }
    let count = bytes.len().div_ceil(FRAGMENT);
    (0..count)
        .map(|i| {
            let start = i * FRAGMENT;
            let end = (start + FRAGMENT).min(bytes.len());
            let opcode = if i == 0 { Data::Text } else { Data::Continue };
            Frame::message(
                bytes.slice(start..end),
                OpCode::Data(opcode),
                i + 1 == count,
            )
        })
        .collect()
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The client took no frame for the whole send timeout: it has stopped reading.
    #[error("the client took nothing for {0:?}")]
    TimedOut(Duration),
    /// The connection failed.
    #[error(transparent)]
    Ws(#[from] WsError),
}

/// Sends one message; a long text goes out as [`fragments`], each flushed before the next so
/// the write buffer never holds more than one of them. Each frame must be taken by the
/// client's socket `within` the given time, so a slow client gets the list however long it
/// is, and one that stopped reading is found out.
pub async fn send<S>(sink: &mut S, msg: Message, within: Duration) -> Result<(), SendError>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let frames = match msg {
        Message::Text(text) if text.len() > FRAGMENT => {
            fragments(&text).into_iter().map(Message::Frame).collect()
        }
        other => vec![other],
    };
    for frame in frames {
        tokio::time::timeout(within, sink.send(frame))
            .await
            .map_err(|_| SendError::TimedOut(within))??;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reassemble(frames: &[Frame]) -> Vec<u8> {
        frames.iter().flat_map(|f| f.payload().to_vec()).collect()
    }

    #[test]
    fn fragment_table() {
        // (message length, frames expected)
        let table: &[(usize, usize)] = &[
            (0, 1),
            (1, 1),
            (FRAGMENT, 1),
            (FRAGMENT + 1, 2),
            (2 * FRAGMENT, 2),
            (2 * FRAGMENT + 7, 3),
            (361_000, 23),
        ];
        for &(len, want) in table {
            let text = Utf8Bytes::from("é".repeat(len / 2) + &"x".repeat(len % 2));
            assert_eq!(text.len(), len);
            let frames = fragments(&text);
            assert_eq!(frames.len(), want, "length {len}");
            for (i, f) in frames.iter().enumerate() {
                let h = f.header();
                let opcode = if i == 0 { Data::Text } else { Data::Continue };
                assert_eq!(h.opcode, OpCode::Data(opcode), "length {len}, frame {i}");
                assert_eq!(h.is_final, i + 1 == want, "length {len}, frame {i}");
                assert!(f.payload().len() <= FRAGMENT, "length {len}, frame {i}");
                assert!(
                    i + 1 == want || f.payload().len() == FRAGMENT,
                    "only the last fragment is short"
                );
            }
            assert_eq!(reassemble(&frames), text.as_bytes(), "length {len}");
        }
    }
}
