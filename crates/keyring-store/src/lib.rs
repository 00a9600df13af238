//! The OS keyring as Bucketstream's [`SecretStore`]: Secret Service, Keychain or Credential Manager.
//!
//! Each account's credentials are one keyring entry (service [`SERVICE`], user = account)
//! whose secret is a small JSON document, so the access key id, the secret and the optional
//! session token are saved and removed together.
//!
//! The platform store is named explicitly ([`keyring::Entry::new_with_credential`]) instead
//! of going through keyring's default builder: with a missing store feature that default is
//! an in-memory mock that "works" and loses everything at exit. Here a machine without a
//! keyring gets [`SecretError::Unavailable`] ("no keyring available"), never a mock.
//!
//! Every call blocks (a Secret Service round trip is tens of milliseconds over D-Bus): async
//! callers go through `spawn_blocking`.

use bucketstream_core::secret::keystore::{KeyError, KeyStore};
use bucketstream_core::secret::{Credentials, SecretError, SecretStore, Sensitive};
use serde::{Deserialize, Serialize};

/// The keyring service name every entry is filed under.
pub const SERVICE: &str = "bucketstream";

/// The keyring account of the LAN access key (the pairing key of other devices).
pub const LAN_KEY_ACCOUNT: &str = "lan-access-key";

/// The on-keyring form of [`Credentials`]. Never logged: it has no `Debug`.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_token: Option<String>,
}

/// The OS keyring.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    /// The keyring service name (tests use their own so they never touch a real entry).
    service: String,
}

impl Default for KeyringStore {
    fn default() -> Self {
        KeyringStore::new(SERVICE)
    }
}

impl KeyringStore {
    /// A store filing entries under `service`.
    pub fn new(service: &str) -> KeyringStore {
        KeyringStore {
            service: service.to_owned(),
        }
    }

    /// Checks that the platform store answers (a lookup of an entry that need not exist).
    pub fn probe(&self) -> Result<(), SecretError> {
        self.load("__bucketstream_probe__").map(|_| ())
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, SecretError> {
        native_entry(&self.service, account).map_err(map_err)
    }
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn native_entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
    let cred = keyring::secret_service::SsCredential::new_with_target(None, service, account)?;
    Ok(keyring::Entry::new_with_credential(Box::new(cred)))
}

#[cfg(target_os = "macos")]
fn native_entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
    let cred = keyring::macos::MacCredential::new_with_target(None, service, account)?;
    Ok(keyring::Entry::new_with_credential(Box::new(cred)))
}

#[cfg(target_os = "windows")]
fn native_entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
    let cred = keyring::windows::WinCredential::new_with_target(None, service, account)?;
    Ok(keyring::Entry::new_with_credential(Box::new(cred)))
}

/// Sorts keyring errors into "there is no usable keyring" and "the keyring said no".
fn map_err(err: keyring::Error) -> SecretError {
    match err {
        keyring::Error::PlatformFailure(e) => SecretError::Unavailable(e.to_string()),
        keyring::Error::NoStorageAccess(e) => {
            SecretError::Unavailable(format!("the keyring is locked or refused access: {e}"))
        }
        other => SecretError::Store(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn load(&self, account: &str) -> Result<Option<Credentials>, SecretError> {
        let text = match self.entry(account)?.get_password() {
            Ok(text) => text,
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(err) => return Err(map_err(err)),
        };
        let stored: Stored = serde_json::from_str(&text).map_err(|_| {
            SecretError::Store(format!(
                "the keyring entry for {account:?} is not Bucketstream's"
            ))
        })?;
        Ok(Some(Credentials {
            access_key_id: stored.access_key_id,
            secret_access_key: Sensitive::new(stored.secret_access_key),
            session_token: stored.session_token.map(Sensitive::new),
        }))
    }

    fn save(&self, account: &str, creds: &Credentials) -> Result<(), SecretError> {
        let stored = Stored {
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.expose().clone(),
            session_token: creds.session_token.as_ref().map(|t| t.expose().clone()),
        };
        let text = serde_json::to_string(&stored)
            .map_err(|e| SecretError::Store(format!("cannot encode credentials: {e}")))?;
        self.entry(account)?.set_password(&text).map_err(map_err)?;
        tracing::info!(account, "credentials saved in the OS keyring");
        Ok(())
    }

    fn forget(&self, account: &str) -> Result<(), SecretError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => {
                tracing::info!(account, "credentials removed from the OS keyring");
                Ok(())
            }
            Err(err) => Err(map_err(err)),
        }
    }
}

/// The LAN server's access key in the OS keyring, beside the S3 credentials.
#[derive(Debug, Clone, Default)]
pub struct LanKeyStore(pub KeyringStore);

impl KeyStore for LanKeyStore {
    fn load(&self) -> Result<Option<Sensitive<String>>, KeyError> {
        let entry = self
            .0
            .entry(LAN_KEY_ACCOUNT)
            .map_err(|e| KeyError::Store(e.to_string()))?;
        match entry.get_password() {
            Ok(key) => Ok(Some(Sensitive::new(key))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(KeyError::Store(map_err(err).to_string())),
        }
    }

    fn save(&self, key: &Sensitive<String>) -> Result<(), KeyError> {
        let entry = self
            .0
            .entry(LAN_KEY_ACCOUNT)
            .map_err(|e| KeyError::Store(e.to_string()))?;
        entry
            .set_password(key.expose())
            .map_err(|e| KeyError::Store(map_err(e).to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_without_debug() {
        let s = Stored {
            access_key_id: "GKid".into(),
            secret_access_key: "sec".into(),
            session_token: None,
        };
        let text = serde_json::to_string(&s).expect("encodes");
        assert_eq!(
            text,
            r#"{"access_key_id":"GKid","secret_access_key":"sec"}"#
        );
    }

    #[test]
    fn locked_or_missing_store_is_unavailable() {
        let err = map_err(keyring::Error::PlatformFailure("no dbus".into()));
        assert!(matches!(err, SecretError::Unavailable(_)));
        assert!(err.to_string().starts_with("no keyring available"), "{err}");
        let err = map_err(keyring::Error::NoStorageAccess("locked".into()));
        assert!(matches!(err, SecretError::Unavailable(_)));
    }
}
