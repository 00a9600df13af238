//! The edge cache: each byte leaves the bucket once, and warm media stream from local disk.
//!
//! Objects are cut into chunks of [`DEFAULT_CHUNK_SIZE`] (1 MiB: a seek costs at most 1 MiB
//! of fetching — a few tens of milliseconds on a home link — while read-ahead of
//! [`DEFAULT_READ_AHEAD`] chunks batches sequential playback into 8 MiB GETs, so per-request
//! latency is amortised). Chunks live in files under the cache folder ([`store`]), named by a
//! hash of (source, key, ETag). A missing chunk is fetched once however many clients want it
//! ([`fill`]); a range that spans cached and missing chunks starts streaming at once
//! ([`read`]). Read-ahead follows each reader a few chunks ahead and stops when it stops
//! reading, so a paused player does not pull a whole film. Complete chunks are served as
//! slices of a memory map of their file ([`map`]): no `read()` copy, no thread hop. When the
//! cache cannot write (its disk is full even after evicting), readers stream straight from
//! the store and the cache reports itself degraded until a chunk is written again.

mod fill;
mod folder;
mod map;
mod read;
pub mod stats;
mod store;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::source::{ObjectBody, Source};
use fill::{Fill, FillState, FillWriter};
pub use stats::{CacheHealth, CacheStats, ObjectStats};
use store::{ChunkId, ObjectHash, Store};

/// Chunk size: the unit of fetching, caching and eviction.
pub const DEFAULT_CHUNK_SIZE: u64 = 1 << 20;
/// Chunks fetched ahead of a sequential reader.
pub const DEFAULT_READ_AHEAD: u64 = 8;

/// The object a read is about (from the catalog snapshot).
#[derive(Debug, Clone)]
pub struct ObjectRef {
    /// Catalog id (for per-object stats).
    pub id: String,
    /// Source key.
    pub key: String,
    /// ETag the bytes must have.
    pub etag: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Hash of (source, key, ETag): the cache's name for this version.
    hash: ObjectHash,
}

impl ObjectRef {
    /// Describes object `key` of the source named `identity`.
    pub fn new(identity: &str, id: &str, key: &str, etag: Option<&str>, size: u64) -> ObjectRef {
        let mut h = Sha256::new();
        for part in [identity, key, etag.unwrap_or("")] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.update(size.to_le_bytes());
        let mut hash = [0u8; 16];
        hash.copy_from_slice(&h.finalize()[..16]);
        ObjectRef {
            id: id.to_owned(),
            key: key.to_owned(),
            etag: etag.map(str::to_owned),
            size,
            hash,
        }
    }
}

/// Where a chunk's bytes are.
enum Slot {
    /// Complete on disk, with its map when the store keeps one.
    Disk {
        path: std::path::PathBuf,
        len: u64,
        map: Option<bytes::Bytes>,
    },
    /// Being fetched.
    Filling(Arc<Fill>),
}

/// Shared state of the cache.
pub(crate) struct Inner {
    /// Chunk size in bytes.
    chunk_size: u64,
    /// Read-ahead window in chunks.
    read_ahead: u64,
    /// Complete chunks.
    store: Mutex<Store>,
    /// Chunks being fetched (single flight).
    fills: Mutex<HashMap<ChunkId, Arc<Fill>>>,
    /// Counters.
    stats: stats::Stats,
    /// Makes temporary names unique.
    nonce: AtomicU64,
}

impl Inner {
    fn lock_store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_fills(&self) -> MutexGuard<'_, HashMap<ChunkId, Arc<Fill>>> {
        self.fills.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn chunk_len(&self, obj: &ObjectRef, index: u64) -> u64 {
        let start = index * self.chunk_size;
        (obj.size - start).min(self.chunk_size)
    }

    /// Chunk `index` of `obj`: on disk, being filled, or now being fetched together with the
    /// missing chunks after it up to `until`.
    fn slot(
        self: &Arc<Self>,
        source: &Arc<Source>,
        obj: &Arc<ObjectRef>,
        index: u64,
        until: u64,
    ) -> Result<Slot> {
        let id = ChunkId {
            object: obj.hash,
            index,
        };
        let mut fills = self.lock_fills();
        if let Some(fill) = fills.get(&id) {
            return Ok(Slot::Filling(fill.clone()));
        }
        {
            let mut store = self.lock_store();
            if let Some((len, map)) = store.touch(id) {
                return Ok(Slot::Disk {
                    path: store.path(id, len),
                    len,
                    map,
                });
            }
        }
        let writers = self
            .claim(&mut fills, obj, index, until)
            .inspect_err(|err| {
                // Our own disk refuses a new file: the reader bypasses the cache.
                self.stats
                    .degrade(format!("the cache could not create a chunk file: {err}"));
            })?;
        let first = writers.first().map(|w| w.file.clone());
        tokio::spawn(fill::run(
            self.clone(),
            source.clone(),
            obj.clone(),
            writers,
        ));
        first.map(Slot::Filling).ok_or(crate::Error::NotFound)
    }

    /// Starts fetching the first missing, unclaimed chunk in `from..=until` and the missing
    /// ones after it (read-ahead). Does nothing when all are cached or in flight, or when the
    /// first half of the window is.
    fn prefetch(
        self: &Arc<Self>,
        source: &Arc<Source>,
        obj: &Arc<ObjectRef>,
        from: u64,
        until: u64,
    ) {
        let mut fills = self.lock_fills();
        let start = {
            let store = self.lock_store();
            (from..=until).find(|&i| {
                let id = ChunkId {
                    object: obj.hash,
                    index: i,
                };
                !fills.contains_key(&id) && !store.contains(id)
            })
        };
        let Some(start) = start else { return };
        // Refill only when less than half the window is fetched or in flight, so sequential
        // playback makes GETs of about half the window instead of one per chunk.
        if start > from + self.read_ahead / 2 {
            return;
        }
        if let Ok(writers) = self.claim(&mut fills, obj, start, until) {
            if !writers.is_empty() {
                tokio::spawn(fill::run(
                    self.clone(),
                    source.clone(),
                    obj.clone(),
                    writers,
                ));
            }
        }
    }

    /// Registers fills for the consecutive missing chunks from `index` to at most `until`.
    fn claim(
        &self,
        fills: &mut HashMap<ChunkId, Arc<Fill>>,
        obj: &ObjectRef,
        index: u64,
        until: u64,
    ) -> Result<Vec<FillWriter>> {
        let store = self.lock_store();
        let mut writers = Vec::new();
        for i in index..=until {
            let id = ChunkId {
                object: obj.hash,
                index: i,
            };
            if fills.contains_key(&id) || (i > index && store.contains(id)) {
                break;
            }
            let tmp = store.tmp_path(id, self.nonce.fetch_add(1, Ordering::Relaxed));
            let created = tmp
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| {
                    std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create_new(true)
                        .open(&tmp)
                });
            let file = match created {
                Ok(file) => file,
                // The run so far is claimed: fetch that much (its fills are registered).
                Err(_) if !writers.is_empty() => break,
                Err(err) => return Err(err.into()),
            };
            let (tx, rx) = tokio::sync::watch::channel(FillState::Writing(0));
            let fill = Arc::new(Fill { file, state: rx });
            fills.insert(id, fill.clone());
            writers.push(FillWriter {
                id,
                len: self.chunk_len(obj, i),
                tmp,
                file: fill,
                tx,
            });
        }
        Ok(writers)
    }
}

/// The edge cache (cheap to clone).
#[derive(Clone)]
pub struct EdgeCache {
    inner: Arc<Inner>,
}

impl EdgeCache {
    /// Opens the cache in `dir` with a cap of `max_bytes`, indexing what a previous run left.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<EdgeCache> {
        EdgeCache::with_chunks(dir, max_bytes, DEFAULT_CHUNK_SIZE, DEFAULT_READ_AHEAD)
    }

    /// As [`EdgeCache::open`] with a chosen chunk size and read-ahead (tests use small ones).
    pub fn with_chunks(
        dir: &Path,
        max_bytes: u64,
        chunk_size: u64,
        read_ahead: u64,
    ) -> Result<EdgeCache> {
        let store = Store::open(dir, max_bytes).map_err(|e| match e {
            folder::OpenError::Foreign { found } => crate::Error::CacheDirForeign {
                path: dir.to_owned(),
                found,
            },
            other => crate::Error::CacheDir {
                path: dir.to_owned(),
                reason: other.to_string(),
            },
        })?;
        Ok(EdgeCache {
            inner: Arc::new(Inner {
                chunk_size: chunk_size.max(1),
                read_ahead,
                store: Mutex::new(store),
                fills: Mutex::new(HashMap::new()),
                stats: stats::Stats::default(),
                nonce: AtomicU64::new(0),
            }),
        })
    }

    /// Streams bytes `start..=end` of `obj`, from disk where cached, fetching the rest once.
    /// Waits (bounded) for the first bytes, so a failing store is an error here rather than a
    /// broken body later.
    pub async fn read(
        &self,
        source: Arc<Source>,
        obj: ObjectRef,
        start: u64,
        end: u64,
    ) -> Result<ObjectBody> {
        read::open(self.inner.clone(), source, Arc::new(obj), start, end).await
    }

    /// Whether the cache works or is bypassed (cannot write), for `/api/health`.
    pub fn health(&self) -> CacheHealth {
        self.inner.stats.health()
    }

    /// Counters, in total and per object.
    pub fn stats(&self) -> CacheStats {
        let store = self.inner.lock_store();
        self.inner.stats.snapshot(
            store.total(),
            store.max_bytes(),
            store.len(),
            store.mapped(),
        )
    }
}

#[cfg(test)]
mod tests;
