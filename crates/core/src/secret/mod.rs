//! Secrets: a wrapper that never prints its content, and the trait a keyring implements.
//!
//! S3 credentials must never reach a log line, a config file or a reply to a client. Holding
//! them in [`Sensitive`] makes `{:?}` and `{}` safe by construction; reading the value is an
//! explicit [`Sensitive::expose`] call that is easy to audit with grep.

pub mod keystore;

use std::fmt;

/// A string that redacts itself in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Sensitive(value)
    }
    /// The secret itself: every call site is a place the secret leaves its wrapper.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// S3 credentials as the core needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id (not secret on its own, but kept beside the secret).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Sensitive<String>,
    /// An optional STS session token.
    pub session_token: Option<Sensitive<String>>,
}

/// Errors of a secret store.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No usable store on this machine (no Secret Service, locked keychain...).
    #[error("no keyring available: {0}")]
    Unavailable(String),
    /// The store answered with an error.
    #[error("keyring error: {0}")]
    Store(String),
}

/// A place to keep credentials: the OS keyring in the desktop app.
///
/// Implementations block (Secret Service round trips take tens of milliseconds): call them
/// from `spawn_blocking`, never directly on the async runtime.
pub trait SecretStore: Send + Sync {
    /// Reads the credentials for `account`, `Ok(None)` when none are stored.
    fn load(&self, account: &str) -> Result<Option<Credentials>, SecretError>;
    /// Stores (or replaces) the credentials for `account`.
    fn save(&self, account: &str, creds: &Credentials) -> Result<(), SecretError>;
    /// Removes the credentials for `account`; removing nothing is not an error.
    fn forget(&self, account: &str) -> Result<(), SecretError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_secret() {
        let c = Credentials {
            access_key_id: "GKid".into(),
            secret_access_key: Sensitive::new("s3cr3t-value".into()),
            session_token: Some(Sensitive::new("tok3n".into())),
        };
        let shown = format!("{c:?} {}", c.secret_access_key);
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains("tok3n"), "{shown}");
        assert_eq!(c.secret_access_key.expose(), "s3cr3t-value");
    }
}
