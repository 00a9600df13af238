//! The wire protocol, typed: error codes, the error body, and the WebSocket messages.
//!
//! Everything Bucketstream sends to or accepts from a client is a value of a type here,
//! serialised by serde in one place, so the documented protocol, the server and its tests
//! cannot drift apart (each message has a test pinning its exact JSON). This lives beside
//! [`crate::error`] rather than under [`crate::server`]: the codes are also the desktop
//! shell's IPC codes, and the message types are useful to any client (the benchmarks, tests)
//! without the server. Nothing here knows HTTP beyond a code's status number; rendering into
//! a response is the server's (`server::api::error_response`).
//!
//! - [`ErrorCode`] (declared in [`crate::error`], re-exported here): every code, with its HTTP
//!   status and its help text. It lives with the errors so that `error` depends on nothing
//!   here, and the wire types depend on the model, never the reverse.
//! - [`ErrorBody`]: `{"error":{"code","message"}}`, the body of every JSON error answer.
//! - [`ServerMessage`] and [`ClientMessage`]: the WebSocket's two directions.

mod ws;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use crate::error::ErrorCode;
pub use ws::{ClientMessage, Paged, ScanProgress, ServerMessage, Unchanged, WsRefusal};

use crate::error::Error;

/// An error as clients see it: `{"code","message"}` (in [`ErrorBody`], in `/api/health`'s
/// `last_error`, in the WebSocket's `status` frame).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Stable machine code.
    pub code: ErrorCode,
    /// Human sentence (the [`std::fmt::Display`] form of an [`Error`]: no host paths).
    pub message: String,
}

impl ErrorInfo {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorInfo {
        ErrorInfo {
            code,
            message: message.into(),
        }
    }
}

impl From<&Error> for ErrorInfo {
    fn from(err: &Error) -> Self {
        ErrorInfo::new(err.code(), err.to_string())
    }
}

/// `{"error":{"code","message"}}`: the body of every JSON error answer (API, media, the gate,
/// the limits), with the status its code maps to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorInfo,
}

impl ErrorBody {
    /// The body for `code` with `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorInfo::new(code, message),
        }
    }

    /// The HTTP status of the answer.
    pub fn http_status(&self) -> u16 {
        self.error.code.http_status()
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

impl From<&Error> for ErrorBody {
    fn from(err: &Error) -> Self {
        ErrorBody {
            error: ErrorInfo::from(err),
        }
    }
}

/// Serialises one of this module's types. They hold only strings, numbers and pre-checked
/// raw JSON, so this cannot fail; if it ever did, the failure is logged and `{}` goes out
/// (clients ignore a frame without a known `type`).
fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|err| {
        tracing::error!("cannot serialise a wire message: {err}");
        String::from("{}")
    })
}
