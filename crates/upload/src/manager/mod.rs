//! [`Uploads`]: the uploads of one library. Creates them, writes PATCH bodies through the
//! sink, answers HEAD, terminates, and sweeps expired ones (at start and then periodically).
//!
//! Each upload's state lives in memory behind its own lock (one writer at a time; a second
//! request waits up to [`LOCK_WAIT`], then gets `409`) and on disk ([`crate::store`]), saved
//! before any offset is acknowledged. Memory per upload in flight: one request body frame
//! (bounded by hyper's read buffer, about 400 KiB at most) plus, for S3, up to 8 parts being
//! hashed and sent, each through a 64 KiB buffer; the parts themselves are staged on disk.

mod create;
mod finish;
mod write;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bucketstream_core::catalog::Edit;
use bucketstream_core::library::Library;
use bucketstream_core::source::{ObjectMeta, Source};
use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::{Stream, StreamExt};
use md5::Md5;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use tokio::io::AsyncWriteExt;

use crate::error::{Result, UploadError};
use crate::name::{self, Target};
use crate::sink::parts::{self, Staging};
use crate::sink::s3;
use crate::store::{self, Part, SinkState, State, Store};
use crate::tus::{Algorithm, Answer, Checksum};

/// How long a request waits for another one writing the same upload.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Most unfinished uploads at once.
pub const MAX_OPEN: usize = 1000;

/// The upload settings (`upload_max_bytes`, `upload_expiry_secs`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The largest upload accepted.
    pub max_bytes: u64,
    /// An upload not written to for this long is aborted.
    pub expiry: Duration,
}

type Entry = Arc<tokio::sync::Mutex<State>>;

/// The uploads of one library.
pub struct Uploads {
    library: Arc<Library>,
    store: Store,
    settings: Settings,
    /// This library's source, as states record it.
    source_id: String,
    table: Mutex<HashMap<String, Entry>>,
}

/// An I/O error of the local sink that is the name's fault (a link or a file where a folder
/// is expected), as a refusal.
fn local_err(e: std::io::Error) -> UploadError {
    match e.kind() {
        std::io::ErrorKind::InvalidInput => UploadError::BadName(e.to_string()),
        _ => e.into(),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?
}

impl Uploads {
    /// The uploads of `library`, with their states in `data_dir/uploads/` read back (those of
    /// another library are left alone). Call [`Uploads::sweep`] once the runtime serves.
    pub fn open(library: Arc<Library>, settings: Settings) -> Uploads {
        let dir = library.config().library.data_dir.join("uploads");
        let store = Store::new(dir);
        let source_id = library.catalog().source().describe();
        let table = store
            .load_all()
            .into_iter()
            .filter(|s| s.source == source_id)
            .map(|s| (s.id.clone(), Arc::new(tokio::sync::Mutex::new(s))))
            .collect();
        Uploads {
            library,
            store,
            settings,
            source_id,
            table: Mutex::new(table),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// The folder of the states.
    pub fn dir(&self) -> PathBuf {
        self.store.dir().to_owned()
    }

    fn source(&self) -> Arc<Source> {
        self.library.catalog().source().clone()
    }

    fn entry(&self, id: &str) -> Option<Entry> {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    fn forget(&self, id: &str) {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    async fn lock(&self, id: &str) -> Result<tokio::sync::OwnedMutexGuard<State>> {
        if !store::valid_id(id) {
            return Err(UploadError::NotFound);
        }
        let entry = self.entry(id).ok_or(UploadError::NotFound)?;
        tokio::time::timeout(LOCK_WAIT, entry.lock_owned())
            .await
            .map_err(|_| UploadError::Conflict("another request is writing this upload".into()))
    }

    /// Uploads not finished (one being written counts as unfinished). Finished ones are kept
    /// until their expiry only to answer HEAD, and do not count.
    fn unfinished(&self) -> usize {
        let table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table
            .values()
            .filter(|e| e.try_lock().map_or(true, |s| !s.done))
            .count()
    }

    /// `OPTIONS`.
    pub fn options(&self) -> Answer {
        Answer::Options {
            max_size: self.settings.max_bytes,
        }
    }

    fn expires(&self) -> u64 {
        store::deadline(SystemTime::now(), self.settings.expiry)
    }

    /// `HEAD`: the offset. A complete upload whose completion failed is completed now.
    pub async fn head(&self, id: &str) -> Answer {
        let result = async {
            let mut state = self.lock(id).await?;
            self.check_expiry(&state).await?;
            if !state.done && state.offset == state.length {
                self.finish(&mut state).await?;
            }
            Ok::<_, UploadError>(Answer::Offset {
                offset: state.offset,
                length: state.length,
                expires: (!state.done).then(|| state.expires_at()),
            })
        }
        .await;
        result.unwrap_or_else(Answer::Refused)
    }

    /// `DELETE`: the upload is aborted and forgotten.
    pub async fn terminate(&self, id: &str) -> Answer {
        let result = async {
            let state = self.lock(id).await?;
            if !state.done {
                self.discard(&state).await;
            }
            self.store.remove(&state.id).await?;
            self.forget(&state.id);
            tracing::info!(id = %state.id, key = %state.key, "upload terminated");
            Ok::<_, UploadError>(Answer::Terminated)
        }
        .await;
        result.unwrap_or_else(Answer::Refused)
    }

    /// Aborts and forgets every expired upload (and drops finished ones past their expiry).
    /// Uploads being written are skipped (they are not idle). Returns how many went.
    pub async fn sweep(&self) -> usize {
        let entries: Vec<Entry> = self
            .table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let now = SystemTime::now();
        let mut gone = 0;
        for entry in entries {
            let Ok(state) = entry.try_lock() else {
                continue;
            };
            if !state.expired(now) {
                continue;
            }
            if !state.done {
                tracing::info!(id = %state.id, key = %state.key, "upload expired; aborted");
                self.discard(&state).await;
            }
            if let Err(err) = self.store.remove(&state.id).await {
                tracing::warn!(id = %state.id, %err, "could not remove an upload's state");
            }
            self.forget(&state.id);
            gone += 1;
        }
        gone
    }

    /// Sweeps now, then every minute (or every `expiry` when shorter), forever: spawn it.
    pub async fn sweep_forever(self: Arc<Self>) {
        let period = self
            .settings
            .expiry
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        loop {
            self.sweep().await;
            tokio::time::sleep(period).await;
        }
    }
}

fn local_temp(filename: &str, id: &str) -> String {
    #[cfg(unix)]
    {
        crate::sink::local::temp_name(filename, id)
    }
    #[cfg(not(unix))]
    {
        format!(".{filename}.{id}.upload")
    }
}

fn mime_of(key: &str) -> &'static str {
    bucketstream_core::media::classify(key).map_or("application/octet-stream", |(_, m)| m)
}

fn parts_sum(state: &State) -> u64 {
    match &state.sink {
        SinkState::S3 { parts, .. } => parts.iter().map(|p| p.size).sum(),
        SinkState::Local { .. } => 0,
    }
}

fn first_part(state: &State) -> i32 {
    match &state.sink {
        SinkState::S3 { parts, .. } => i32::try_from(parts.len() + 1).unwrap_or(i32::MAX),
        SinkState::Local { .. } => 1,
    }
}
