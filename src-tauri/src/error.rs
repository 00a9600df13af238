//! The desktop shell's errors, and the `{code, message}` form the UI receives over IPC.
//!
//! Codes are the core's [`ErrorCode`]s, the shell's own among them (`no_keyring`, `keyring`,
//! `env_file`, `lan_bind`, `lan_key`, `internal`); their help texts live with the enum, shared
//! with the player. Messages are sentences a person can act on; none of them ever contains a
//! secret (the core's errors never do, and keyring errors carry the store's words, not the
//! entry's content).

use std::net::SocketAddr;
use std::path::PathBuf;

use bucketstream_core::error::ErrorCode;
use bucketstream_core::secret::SecretError;
use serde::Serialize;

/// Everything that can go wrong in the shell.
#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    /// A core error (config, S3, folder...).
    #[error(transparent)]
    Core(#[from] bucketstream_core::Error),
    /// The OS keyring is missing or refused.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The `.env` file to import cannot be read.
    #[error("cannot read {path}: {reason}")]
    EnvFile {
        /// The `.env` file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The LAN server cannot listen.
    #[error("cannot start the media server on {addr}: {reason}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What went wrong.
        reason: String,
    },
    /// The LAN access key cannot be made, read or stored.
    #[error("LAN access key: {0}")]
    AccessKey(#[from] bucketstream_lan::KeyError),
    /// A background task panicked or was cancelled.
    #[error("internal error: {0}")]
    Task(String),
}

impl DesktopError {
    /// The stable code the UI switches on.
    pub fn code(&self) -> ErrorCode {
        match self {
            DesktopError::Core(e) => e.code(),
            DesktopError::Secret(SecretError::Unavailable(_)) => ErrorCode::NoKeyring,
            DesktopError::Secret(SecretError::Store(_)) => ErrorCode::Keyring,
            DesktopError::EnvFile { .. } => ErrorCode::EnvFile,
            DesktopError::Bind { .. } => ErrorCode::LanBind,
            DesktopError::AccessKey(_) => ErrorCode::LanKey,
            DesktopError::Task(_) => ErrorCode::Internal,
        }
    }
}

/// `message` followed by what the person can do about `code` ([`ErrorCode::help`]), if anything.
fn with_hint(code: ErrorCode, message: String) -> String {
    match code.help() {
        Some((_, hint)) => format!("{message}. {hint}"),
        None => message,
    }
}

impl From<tokio::task::JoinError> for DesktopError {
    fn from(err: tokio::task::JoinError) -> Self {
        DesktopError::Task(err.to_string())
    }
}

/// An error as the UI receives it (the rejected value of `invoke`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IpcError {
    /// Stable machine code.
    pub code: ErrorCode,
    /// A sentence, with what to do about it.
    pub message: String,
}

impl From<DesktopError> for IpcError {
    fn from(err: DesktopError) -> Self {
        // The window is the owner's: folders are named by their whole path.
        let text = match &err {
            DesktopError::Core(core) => core.for_owner(),
            other => other.to_string(),
        };
        let message = with_hint(err.code(), text);
        tracing::warn!(code = %err.code(), %message, "command failed");
        IpcError {
            code: err.code(),
            message,
        }
    }
}

impl From<bucketstream_core::Error> for IpcError {
    fn from(err: bucketstream_core::Error) -> Self {
        DesktopError::Core(err).into()
    }
}

impl From<std::sync::Arc<bucketstream_core::Error>> for IpcError {
    /// The catalog shares its refresh error behind an `Arc`.
    fn from(err: std::sync::Arc<bucketstream_core::Error>) -> Self {
        let message = with_hint(err.code(), err.for_owner());
        tracing::warn!(code = %err.code(), %message, "refresh failed");
        IpcError {
            code: err.code(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_hints() {
        let e: IpcError = DesktopError::Secret(SecretError::Unavailable("no dbus".into())).into();
        assert_eq!(e.code, "no_keyring");
        assert!(e.message.contains("no keyring available") && e.message.contains("AWS profile"));
        let e: IpcError = bucketstream_core::Error::NoSuchBucket("b".into()).into();
        assert_eq!(e.code, "no_such_bucket");
        assert!(e.message.contains("Check the bucket name"), "{}", e.message);
        let shared = std::sync::Arc::new(bucketstream_core::Error::BadCredentials("x".into()));
        let e: IpcError = shared.into();
        assert_eq!(e.code, "bad_credentials");
        assert!(e.message.contains("access key id"), "{}", e.message);
    }
}
