//! Cache counters: bytes fetched from the source, bytes served, hits, GetObject count, and
//! whether the cache is degraded (its disk refuses writes, so cold reads bypass it).
//!
//! "Each byte leaves the bucket once" is checked against these: the byte hit ratio is
//! `1 - fetched / served`, exposed at `/api/stats` in total and per object. The degraded
//! state is also in `/api/health`, so a full cache disk is visible where problems are looked
//! for, not only as slower playback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// Counters of one object.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ObjectStats {
    /// Bytes fetched from the source.
    pub fetched_bytes: u64,
    /// Bytes sent to clients.
    pub served_bytes: u64,
    /// Ranged GetObject requests sent.
    pub get_requests: u64,
    /// Chunk reads served from complete chunks on disk.
    pub chunk_hits: u64,
    /// Chunk reads that had to wait for a fetch (their own or another reader's).
    pub chunk_misses: u64,
}

/// Totals and per-object counters.
#[derive(Debug, Clone, Serialize)]
pub struct CacheStats {
    /// Sum over all objects.
    pub total: ObjectStats,
    /// `1 - fetched / served` (0 when nothing was served).
    pub byte_hit_ratio: f64,
    /// Bytes held on disk.
    pub disk_bytes: u64,
    /// The cap.
    pub max_bytes: u64,
    /// Complete chunks on disk.
    pub chunks: usize,
    /// Complete chunks kept memory-mapped for serving.
    pub mapped_chunks: usize,
    /// Bytes evicted since start.
    pub evicted_bytes: u64,
    /// True while the cache cannot write (disk full...): cold reads stream from the store
    /// without being cached. Cleared by the next chunk written.
    pub degraded: bool,
    /// Why, while degraded.
    pub degraded_reason: Option<String>,
    /// Bytes streamed straight from the store, bypassing the cache, since start.
    pub bypassed_bytes: u64,
    /// Per catalog id.
    pub objects: HashMap<String, ObjectStats>,
}

/// The cache's state for `/api/health`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CacheHealth {
    /// True while cold reads bypass the cache because it cannot write.
    pub degraded: bool,
    /// Why, while degraded.
    pub reason: Option<String>,
}

/// The live counters.
#[derive(Default)]
pub struct Stats {
    objects: Mutex<HashMap<String, ObjectStats>>,
    evicted: AtomicU64,
    bypassed: AtomicU64,
    /// `Some(reason)` while degraded.
    degraded: Mutex<Option<String>>,
}

impl Stats {
    fn with(&self, id: &str, f: impl FnOnce(&mut ObjectStats)) {
        let mut map = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(id) {
            Some(s) => f(s),
            None => f(map.entry(id.to_owned()).or_default()),
        }
    }

    /// Counts `n` bytes fetched from the store for source `id`.
    pub fn fetched(&self, id: &str, n: u64) {
        self.with(id, |s| s.fetched_bytes += n);
    }

    /// Counts `n` bytes served to clients for source `id`.
    pub fn served(&self, id: &str, n: u64) {
        self.with(id, |s| s.served_bytes += n);
    }

    /// Counts one GET sent to the store for source `id`.
    pub fn get_request(&self, id: &str) {
        self.with(id, |s| s.get_requests += 1);
    }

    /// Counts one chunk found in the cache (`hit`) or not, for source `id`.
    pub fn hit(&self, id: &str, hit: bool) {
        self.with(id, |s| {
            if hit {
                s.chunk_hits += 1
            } else {
                s.chunk_misses += 1
            }
        });
    }

    /// Counts `n` bytes evicted.
    pub fn evicted(&self, n: u64) {
        self.evicted.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts `n` bytes streamed past the cache (it could not write them).
    pub fn bypassed(&self, n: u64) {
        self.bypassed.fetch_add(n, Ordering::Relaxed);
    }

    fn lock_degraded(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.degraded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cache could not write: cold reads bypass it until a write succeeds again.
    pub fn degrade(&self, reason: String) {
        let mut state = self.lock_degraded();
        if state.is_none() {
            tracing::warn!(%reason, "the edge cache cannot write; cold reads bypass it");
        }
        *state = Some(reason);
    }

    /// A chunk was written: the cache works again.
    pub fn recovered(&self) {
        let mut state = self.lock_degraded();
        if state.take().is_some() {
            tracing::info!("the edge cache writes again");
        }
    }

    /// Degraded or not, and why.
    pub fn health(&self) -> CacheHealth {
        let reason = self.lock_degraded().clone();
        CacheHealth {
            degraded: reason.is_some(),
            reason,
        }
    }

    /// A consistent copy.
    pub fn snapshot(
        &self,
        disk_bytes: u64,
        max_bytes: u64,
        chunks: usize,
        mapped_chunks: usize,
    ) -> CacheStats {
        let objects = self
            .objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let health = self.health();
        let mut total = ObjectStats::default();
        for s in objects.values() {
            total.fetched_bytes += s.fetched_bytes;
            total.served_bytes += s.served_bytes;
            total.get_requests += s.get_requests;
            total.chunk_hits += s.chunk_hits;
            total.chunk_misses += s.chunk_misses;
        }
        let byte_hit_ratio = if total.served_bytes == 0 {
            0.0
        } else {
            1.0 - (total.fetched_bytes as f64 / total.served_bytes as f64).min(1.0)
        };
        CacheStats {
            total,
            byte_hit_ratio,
            disk_bytes,
            max_bytes,
            chunks,
            mapped_chunks,
            evicted_bytes: self.evicted.load(Ordering::Relaxed),
            degraded: health.degraded,
            degraded_reason: health.reason,
            bypassed_bytes: self.bypassed.load(Ordering::Relaxed),
            objects,
        }
    }
}
