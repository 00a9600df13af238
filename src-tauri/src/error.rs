//! The desktop shell's errors, and the `{code, message}` form the UI receives over IPC.
//!
//! Codes are the core's stable codes ([`bucketstream_core::Error::code`]) plus the shell's own
//! (`no_keyring`, `keyring`, `env_file`, `lan_bind`, `internal`). Messages are sentences a
//! person can act on; none of them ever contains a secret (the core's errors never do, and
//! keyring errors carry the store's words, not the entry's content).

use std::net::SocketAddr;
use std::path::PathBuf;

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
    EnvFile { path: PathBuf, reason: String },
    /// The LAN server cannot listen.
    #[error("cannot start the media server on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    /// The LAN access key cannot be made, read or stored.
    #[error("LAN access key: {0}")]
    AccessKey(#[from] bucketstream_core::server::KeyError),
    /// A background task panicked or was cancelled.
    #[error("internal error: {0}")]
    Task(String),
}

impl DesktopError {
    /// The stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            DesktopError::Core(e) => e.code(),
            DesktopError::Secret(SecretError::Unavailable(_)) => "no_keyring",
            DesktopError::Secret(SecretError::Store(_)) => "keyring",
            DesktopError::EnvFile { .. } => "env_file",
            DesktopError::Bind { .. } => "lan_bind",
            DesktopError::AccessKey(_) => "lan_key",
            DesktopError::Task(_) => "internal",
        }
    }
}

/// What the person can do about an error with `code`.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "bad_credentials" => "Check the access key id and the secret access key.",
        "no_such_bucket" => "Check the bucket name (and the region or endpoint it lives at).",
        "endpoint_unreachable" => {
            "Check the endpoint URL and your network connection; the server did not answer."
        }
        "access_denied" => "The key works but may not list this bucket: grant it read access.",
        "no_keyring" => {
            "Credentials cannot be saved. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
             in the environment, or use an AWS profile (~/.aws/credentials), then restart."
        }
        "lan_bind" => "Choose another port in the LAN settings.",
        "cache_dir_foreign" => {
            "The cache only uses an empty folder or one it made: set `dir` in the settings \
             file's [cache] table to a new folder (nothing in this one was touched)."
        }
        "cache_dir_unusable" => "Check that the cache folder is writable and the disk has room.",
        _ => return None,
    })
}

/// `message` followed by the hint for `code`, when there is one.
fn with_hint(code: &str, message: String) -> String {
    match hint(code) {
        Some(hint) => format!("{message}. {hint}"),
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
    pub code: &'static str,
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
        tracing::warn!(code = err.code(), %message, "command failed");
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
        tracing::warn!(code = err.code(), %message, "refresh failed");
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
