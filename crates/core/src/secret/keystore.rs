//! Where the LAN access key is kept: the [`KeyStore`] trait, a file store and a memory store.
//!
//! The trait lives in the core (beside [`super::Sensitive`]) so that a keyring crate can
//! implement it without depending on the LAN server that uses it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Sensitive;

/// Why the key could not be made, read or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The OS random source failed.
    #[error("no secure random source: {0}")]
    Random(String),
    /// Reading or writing the key file failed.
    #[error("access key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The stored key is not a key this program made.
    #[error("the stored access key is malformed (delete it to make a new one)")]
    Malformed,
    /// Another store (the OS keyring) failed.
    #[error("access key store: {0}")]
    Store(String),
}

/// Where the access key is kept between runs.
///
/// Implementations may block (a keyring round trip): [`Access::new`] and
/// [`Access::rotate`] call them synchronously, so call those from `spawn_blocking` when the
/// store is slow.
pub trait KeyStore: Send + Sync {
    /// The stored key, `Ok(None)` when there is none yet.
    fn load(&self) -> Result<Option<Sensitive<String>>, KeyError>;
    /// Stores (replaces) the key.
    fn save(&self, key: &Sensitive<String>) -> Result<(), KeyError>;
}

/// A key file readable by its owner only (mode 0600 on Unix): the headless server's store.
#[derive(Debug, Clone)]
pub struct FileKeyStore {
    path: PathBuf,
}

impl FileKeyStore {
    /// A store at `path` (its folder is created on save).
    pub fn new(path: impl Into<PathBuf>) -> FileKeyStore {
        FileKeyStore { path: path.into() }
    }

    /// `DATA_DIR/bucketstream/lan-access-key` (XDG data dir on Linux).
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "bucketstream")
            .map(|dirs| dirs.data_dir().join("lan-access-key"))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> KeyError {
        KeyError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

impl KeyStore for FileKeyStore {
    fn load(&self) -> Result<Option<Sensitive<String>>, KeyError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(Sensitive::new(text.trim().to_owned()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(e)),
        }
    }

    fn save(&self, key: &Sensitive<String>) -> Result<(), KeyError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        // Write a private temporary file, then rename over the old key (atomic on POSIX).
        // A name of this process's own: servers starting together must not share one.
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmp = self
            .path
            .with_extension(format!("tmp.{}.{nonce}", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(&tmp).map_err(|e| self.io(e))?;
        #[cfg(unix)]
        {
            // An existing temporary file keeps its old mode: force 0600.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| self.io(e))?;
        }
        file.write_all(key.expose().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| self.io(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.io(e))
    }
}

/// A key kept in memory only (tests, and the default when no store is configured).
#[derive(Debug, Default)]
pub struct MemoryKeyStore(Mutex<Option<Sensitive<String>>>);

impl KeyStore for MemoryKeyStore {
    fn load(&self) -> Result<Option<Sensitive<String>>, KeyError> {
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
    fn save(&self, key: &Sensitive<String>) -> Result<(), KeyError> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(key.clone());
        Ok(())
    }
}
