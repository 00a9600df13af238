//! Upload state on disk: one JSON file per upload under `data_dir/uploads/`, and for S3 the
//! staging file of the part being filled (`ID.part`).
//!
//! A state is written atomically (a temporary file, fsync, rename, fsync of the folder) before
//! an offset is acknowledged to the client, so what a client was told is never lost by a crash
//! or a restart; [`Store::load_all`] reads them back at start.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Largest state file read back (10,000 parts of ~100 bytes each fit well within it).
const MAX_STATE_BYTES: u64 = 4 << 20;

/// One completed S3 part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Part number, from 1.
    pub number: i32,
    /// The ETag S3 answered (checked against the part's MD5).
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Where an upload's bytes go, and how far that is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SinkState {
    /// One S3 multipart upload.
    S3 {
        /// The multipart upload's `UploadId`.
        upload_id: String,
        /// Every part but the last has this size.
        part_size: u64,
        /// The parts uploaded so far, in order.
        parts: Vec<Part>,
    },
    /// A hidden temporary file in the target folder of a local root.
    Local {
        /// Index of the root among the library's folders.
        root: usize,
        /// The target folder's segments below the root.
        folder: Vec<String>,
        /// The file name asked for (the final one may get ` (2)`).
        filename: String,
        /// The temporary file's name in that folder.
        temp: String,
    },
}

/// One upload, as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// 128-bit random id, 32 lower-case hex digits.
    pub id: String,
    /// The library's source identity (a state of another library is left alone).
    pub source: String,
    /// The key the object gets (S3), or the key asked for (local; see [`State::done`]).
    pub key: String,
    /// The whole length.
    pub length: u64,
    /// Bytes stored durably (acknowledged).
    pub offset: u64,
    /// Expiry, seconds since the Unix epoch.
    pub expires: u64,
    /// Complete: the object is in the library under `key` (kept only to answer HEAD).
    pub done: bool,
    /// The sink's state.
    pub sink: SinkState,
}

impl State {
    /// The expiry as a time.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expires)
    }

    /// Whether it has expired at `now`.
    pub fn expired(&self, now: SystemTime) -> bool {
        now >= self.expires_at()
    }
}

/// Seconds since the epoch of `at` plus `after`.
pub fn deadline(at: SystemTime, after: Duration) -> u64 {
    (at + after).duration_since(UNIX_EPOCH).map_or(0, |d| {
        d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
    })
}

/// A new random upload id.
pub fn new_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// Whether `id` looks like one of ours (so it can name a file safely).
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The folder of the states.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in `dir` (created when the first state is saved).
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn state_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The staging file of an S3 upload's current part.
    pub fn staging_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.part"))
    }

    /// Writes `state` atomically and durably (blocking: call off the async runtime).
    pub fn save_blocking(&self, state: &State) -> Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let json = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        let tmp = self.dir.join(format!("{}.json.tmp", state.id));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, self.state_path(&state.id))?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

    /// [`Store::save_blocking`] on the blocking pool.
    pub async fn save(&self, state: &State) -> Result<()> {
        let store = self.clone();
        let state = state.clone();
        tokio::task::spawn_blocking(move || store.save_blocking(&state))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    }

    /// Removes an upload's state and staging file (missing ones are fine).
    pub async fn remove(&self, id: &str) -> Result<()> {
        for path in [self.staging_path(id), self.state_path(id)] {
            match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }

    /// Every readable state (unreadable or foreign files are logged and skipped; leftover
    /// temporary files of an interrupted save are removed).
    pub fn load_all(&self) -> Vec<State> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.ends_with(".json.tmp") {
                let _ = std::fs::remove_file(entry.path());
                continue;
            }
            let Some(id) = name.strip_suffix(".json") else {
                continue;
            };
            if !valid_id(id) {
                continue;
            }
            match read_state(&entry.path()) {
                Ok(state) if state.id == id => out.push(state),
                Ok(_) => tracing::warn!(file = name, "upload state names another id; skipped"),
                Err(err) => tracing::warn!(file = name, %err, "unreadable upload state; skipped"),
            }
        }
        out
    }
}

fn read_state(path: &Path) -> std::io::Result<State> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_STATE_BYTES {
        return Err(std::io::Error::other("too large"));
    }
    let text = std::fs::read(path)?;
    serde_json::from_slice(&text).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_ids_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(dir.path().join("uploads"));
        assert!(store.load_all().is_empty(), "no folder yet");
        let id = new_id().expect("id");
        assert!(valid_id(&id));
        assert_ne!(id, new_id().expect("id"));
        for bad in [
            "",
            "../x",
            "ABCDEF0123456789abcdef0123456789",
            &"a".repeat(33),
        ] {
            assert!(!valid_id(bad), "{bad}");
        }
        let state = State {
            id: id.clone(),
            source: "s3://b/".into(),
            key: "a.mp3".into(),
            length: 10,
            offset: 4,
            expires: 5,
            done: false,
            sink: SinkState::S3 {
                upload_id: "u".into(),
                part_size: 5 << 20,
                parts: vec![Part {
                    number: 1,
                    etag: "\"e\"".into(),
                    size: 4,
                }],
            },
        };
        store.save_blocking(&state).expect("save");
        std::fs::write(store.dir().join("junk.json"), "{").expect("junk");
        std::fs::write(store.dir().join(format!("{}.json", "b".repeat(32))), "{").expect("bad");
        assert_eq!(store.load_all(), std::slice::from_ref(&state));
        assert!(state.expired(UNIX_EPOCH + Duration::from_secs(5)));
        assert!(!state.expired(UNIX_EPOCH + Duration::from_secs(4)));
    }
}
