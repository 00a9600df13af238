//! The in-memory snapshot of the library, refreshed from the source, with change events.
//!
//! Requests never list the source: `GET /api/videos` and the WebSocket read the current
//! [`Snapshot`] (an `Arc`, swapped atomically on refresh; its items shared with the previous
//! snapshot where they did not change). A refresh
//! that fails keeps the last good snapshot and records the error. Concurrent refresh requests
//! (say 10,000 clients sending `fetch_videos` at once) coalesce into one listing.
//!
//! Refreshes that clients ask for ([`Catalog::request_refresh`]: `POST /api/refresh`,
//! `fetch_videos`) are also rate-limited, since on a large bucket each listing costs money:
//! one asked for within [`DEFAULT_CLIENT_REFRESH_INTERVAL`] of the end of the last listing
//! (successful or not, background or client) is answered from the snapshot, and one listing
//! is scheduled for the end of that interval so the request is still honoured. Clients can
//! thus cause at most one listing per interval, however many ask and however often; the
//! background refresher and its retry schedule ([`Catalog::refresh`]) are not limited.

pub mod diff;
mod edit;
mod enrich;
pub mod folders;
mod id_order;
pub mod item;
pub mod meta;
pub mod query;
mod seed;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::broadcast;

pub use diff::Change;
pub use edit::Edit;
pub use enrich::{Enrich, MetaUpdate};
pub use item::{ItemId, MediaItem};
pub use meta::{Interner, ItemMeta};
pub use seed::SeedRows;

use crate::error::Error;
use crate::source::{ObjectMeta, Source};

/// Shortest time from the end of a listing to a listing a client asks for. Ten seconds: a
/// person who clicks refresh twice is not kept waiting for long (and the second click's
/// listing still comes, at the end of the interval), while a client asking in a loop costs
/// at most six listings a minute instead of hundreds.
pub const DEFAULT_CLIENT_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// One consistent view of the library.
///
/// Items are shared (`Arc`): a snapshot made from another (metadata the scanner read, a
/// refresh that found an object unchanged) copies pointers and replaces only the items that
/// changed. No serialised form is kept: `/api/videos` and the WebSocket serialise the items
/// when a client asks (see [`Snapshot::write_json`]).
#[derive(Debug)]
pub struct Snapshot {
    /// Items sorted by key (ids are unique).
    pub items: Vec<Arc<MediaItem>>,
    /// Indices into `items`, ordered by the items' ids: a lookup by id is a binary search
    /// (4 bytes an item, where a map from id to index held a second copy of every id).
    /// Shared by snapshots with the same keys.
    by_id: Arc<[u32]>,
    /// Bumped by every refresh that changed something; 0 before the first success.
    pub generation: u64,
    /// When this snapshot was listed.
    pub refreshed_at: Option<SystemTime>,
    /// Listed objects that are folder art (`cover.jpg`…, see [`crate::media::folder_art_rank`]),
    /// for tracks without embedded art. Not items: never served as media.
    pub folder_art: Arc<Vec<ObjectMeta>>,
    /// Listed objects that are subtitle files (see [`crate::media::is_subtitle`]), sorted by
    /// key, for the videos beside them. Not items: never listed or served as media.
    pub subtitles: Arc<Vec<ObjectMeta>>,
    /// The search index and sort orders, built by the first paged query of this snapshot.
    index: OnceLock<query::Index>,
}

impl Default for Snapshot {
    /// The empty library served before the first successful listing.
    fn default() -> Snapshot {
        Snapshot {
            items: Vec::new(),
            by_id: Arc::from(Vec::new()),
            generation: 0,
            refreshed_at: None,
            folder_art: Arc::default(),
            subtitles: Arc::default(),
            index: OnceLock::new(),
        }
    }
}

impl Snapshot {
    /// A snapshot of exactly `items` (nothing kept aside, generation 1, never listed): for
    /// code that answers from a snapshot and is tested with one made by hand.
    pub fn of_items(items: Vec<Arc<MediaItem>>) -> Snapshot {
        Snapshot::new(items, Arc::default(), 1, None)
    }

    /// A snapshot of `items` with `aside`, the listed objects kept aside (folder art and
    /// subtitle files, see [`crate::media::kept_aside`]), which it sorts into their fields.
    fn new(
        mut items: Vec<Arc<MediaItem>>,
        aside: Arc<Vec<ObjectMeta>>,
        generation: u64,
        refreshed_at: Option<SystemTime>,
    ) -> Snapshot {
        let (mut subtitles, folder_art): (Vec<ObjectMeta>, Vec<ObjectMeta>) = aside
            .iter()
            .cloned()
            .partition(|o| crate::media::is_subtitle(&o.key));
        subtitles.sort_by(|a, b| a.key.cmp(&b.key));
        if !items.is_sorted_by(|a, b| a.key <= b.key) {
            items.sort_by(|a, b| a.key.cmp(&b.key));
        }
        items.dedup_by(|a, b| a.id == b.id);
        let by_id = id_order::id_order(&items);
        Snapshot {
            items,
            by_id: Arc::from(by_id),
            generation,
            refreshed_at,
            folder_art: Arc::new(folder_art),
            subtitles: Arc::new(subtitles),
            index: OnceLock::new(),
        }
    }

    /// A snapshot with the same keys in the same places as this one (only some items
    /// replaced by new versions of themselves): the id index is shared, nothing is sorted.
    fn with_items(&self, items: Vec<Arc<MediaItem>>, generation: u64) -> Snapshot {
        debug_assert!(items.len() == self.items.len());
        Snapshot {
            items,
            by_id: self.by_id.clone(),
            generation,
            refreshed_at: self.refreshed_at,
            folder_art: self.folder_art.clone(),
            subtitles: self.subtitles.clone(),
            // Items' tags changed: their searchable text and sort keys too.
            index: OnceLock::new(),
        }
    }

    /// Builds the search index now if it was not yet (on a blocking thread after a start,
    /// so the first search does not wait for it).
    pub fn warm_index(&self) {
        query::run::index_of(self);
    }

    /// The item with this id.
    pub fn get(&self, id: &str) -> Option<&MediaItem> {
        self.index_of(id).map(|i| &*self.items[i])
    }

    /// The index in `items` of the item with this id.
    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        let at = self
            .by_id
            .binary_search_by(|&i| self.items[i as usize].id.as_str().cmp(id))
            .ok()?;
        self.by_id.get(at).map(|&i| i as usize)
    }

    /// The item with this key (a binary search: items are sorted by key).
    pub fn by_key(&self, key: &str) -> Option<&Arc<MediaItem>> {
        let at = self
            .items
            .binary_search_by(|i| i.key.as_str().cmp(key))
            .ok()?;
        self.items.get(at)
    }

    /// Writes `items[range]` as the elements of a JSON array (comma-separated, a leading
    /// comma unless the range starts at 0): the pieces of the whole list, `[` and `]` aside.
    pub fn write_json_range(
        &self,
        range: std::ops::Range<usize>,
        out: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        let end = range.end.min(self.items.len());
        for i in range.start.min(end)..end {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, &*self.items[i])?;
        }
        Ok(())
    }

    /// The items as a JSON array, written to `out` a few items at a time (the same bytes as
    /// serialising `items`; nothing of the size of the list is kept besides what `out` keeps).
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        const STEP: usize = 256;
        let mut buf = Vec::with_capacity(64 * 1024);
        out.write_all(b"[")?;
        let mut at = 0;
        while at < self.items.len() {
            buf.clear();
            self.write_json_range(at..at + STEP, &mut buf)?;
            out.write_all(&buf)?;
            at += STEP;
        }
        out.write_all(b"]")
    }

    /// The items as a JSON array (the whole `/api/videos` body), made now.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing to a Vec fails only if an item cannot be serialised, which none can.
        let _ = self.write_json(&mut out);
        out
    }
}

/// What happened to the library, broadcast to the WebSocket clients.
#[derive(Debug, Clone)]
pub enum Event {
    /// A refresh changed the library; the new snapshot and the change.
    Changed(Arc<Snapshot>, Arc<Change>),
    /// A refresh failed; the last good snapshot stays.
    Failed(Arc<Error>),
    /// A refresh succeeded after failures.
    Recovered,
}

/// The state of refreshes, for `/api/health`.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// When the last refresh attempt finished.
    pub last_attempt: Option<SystemTime>,
    /// When the last successful refresh finished.
    pub last_success: Option<SystemTime>,
    /// The last attempt's error, `None` when it succeeded.
    pub last_error: Option<Arc<Error>>,
    /// Failed attempts since the last success.
    pub failures: u32,
}

/// The catalog: source, current snapshot, refresh coordination, events.
pub struct Catalog {
    /// Where listings come from.
    source: Arc<Source>,
    /// Identity used in item ids.
    identity: String,
    /// The current snapshot (read-mostly, swapped whole).
    snapshot: RwLock<Arc<Snapshot>>,
    /// Refresh bookkeeping.
    status: Mutex<Status>,
    /// Serialises refreshes; waiters reuse the result of the one that ran.
    refresh_lock: tokio::sync::Mutex<()>,
    /// Count of finished refresh attempts (coalescing key).
    attempts: AtomicU64,
    /// Change events for live clients.
    events: broadcast::Sender<Event>,
    /// Shortest time from the end of a listing to a client-driven one (zero: no limit).
    client_interval: Duration,
    /// When the last listing ended.
    last_listed: Mutex<Option<Instant>>,
    /// A listing is scheduled for the end of the current interval.
    trailing: AtomicBool,
    /// Where listed items get their metadata (set once by the media library).
    enrich: RwLock<Option<Arc<dyn Enrich>>>,
}

/// What a refresh a client asked for did.
#[derive(Debug, Clone)]
pub enum ClientRefresh {
    /// The source was listed (or a listing in flight joined): its result.
    Listed(RefreshResult),
    /// Too soon after the last listing: the snapshot in force (or the last attempt's error),
    /// and how long until the listing scheduled for the end of the interval.
    Throttled {
        /// The snapshot in force, or the last attempt's error.
        result: RefreshResult,
        /// Time until the scheduled listing.
        next_in: Duration,
    },
}

impl ClientRefresh {
    /// The snapshot or error, however it was obtained.
    pub fn into_result(self) -> RefreshResult {
        match self {
            ClientRefresh::Listed(result) | ClientRefresh::Throttled { result, .. } => result,
        }
    }
}

/// Result of a refresh request: the snapshot in force, or the error of the attempt.
pub type RefreshResult = Result<Arc<Snapshot>, Arc<Error>>;

impl Catalog {
    /// An empty catalog over `source`; nothing is listed until [`Catalog::refresh`]. Client
    /// refreshes are limited to one per [`DEFAULT_CLIENT_REFRESH_INTERVAL`].
    pub fn new(source: Arc<Source>) -> Catalog {
        Catalog::with_client_interval(source, DEFAULT_CLIENT_REFRESH_INTERVAL)
    }

    /// As [`Catalog::new`], with client refreshes at most once per `client_interval` after
    /// a listing (zero: every client refresh lists, concurrent ones still coalesce).
    pub fn with_client_interval(source: Arc<Source>, client_interval: Duration) -> Catalog {
        let (events, _) = broadcast::channel(64);
        Catalog {
            identity: source.identity(),
            source,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            status: Mutex::new(Status::default()),
            refresh_lock: tokio::sync::Mutex::new(()),
            attempts: AtomicU64::new(0),
            events,
            client_interval,
            last_listed: Mutex::new(None),
            trailing: AtomicBool::new(false),
            enrich: RwLock::new(None),
        }
    }

    /// The identity of the source, as item ids and the media library's records use it.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    fn swap(&self, snap: Arc<Snapshot>) {
        match self.snapshot.write() {
            Ok(mut guard) => *guard = snap,
            Err(poisoned) => *poisoned.into_inner() = snap,
        }
    }

    /// The source listed by this catalog.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The refresh status.
    pub fn status(&self) -> Status {
        match self.status.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Subscribes to change events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Lists the source now (or joins a listing already running) and publishes any change.
    pub async fn refresh(&self) -> RefreshResult {
        let seen = self.attempts.load(Ordering::Acquire);
        let _guard = self.refresh_lock.lock().await;
        if self.attempts.load(Ordering::Acquire) != seen {
            // Another refresh finished while we waited: its result is fresh enough.
            return self.current();
        }
        let listed = self.source.list().await;
        *self.last_listed.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        let now = SystemTime::now();
        let result = match listed {
            Ok(objects) => {
                let (items, aside) = self.items_of(&objects);
                Ok(self.install(items, aside, now))
            }
            Err(err) => Err(self.record_failure(err, now)),
        };
        self.attempts.fetch_add(1, Ordering::Release);
        result
    }

    /// A refresh a client asked for: lists (coalescing with a listing in flight) unless the
    /// last listing ended less than the client interval ago; then answers from the snapshot
    /// and schedules one listing for the end of the interval (see the module documentation).
    pub async fn request_refresh(self: &Arc<Self>) -> ClientRefresh {
        let Some(next_in) = self.throttled_for() else {
            return ClientRefresh::Listed(self.refresh().await);
        };
        if !self.trailing.swap(true, Ordering::AcqRel) {
            let weak = Arc::downgrade(self);
            tokio::spawn(async move {
                tokio::time::sleep(next_in).await;
                // A library replaced meanwhile is not listed again.
                let Some(catalog) = weak.upgrade() else {
                    return;
                };
                catalog.trailing.store(false, Ordering::Release);
                if catalog.throttled_for().is_none() {
                    let _ = catalog.refresh().await;
                }
            });
        }
        ClientRefresh::Throttled {
            result: self.current(),
            next_in,
        }
    }

    /// How long a client refresh must still wait, `None` when it may list now.
    fn throttled_for(&self) -> Option<Duration> {
        let last = (*self.last_listed.lock().unwrap_or_else(|p| p.into_inner()))?;
        (last + self.client_interval)
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// The snapshot in force, or the last attempt's error.
    fn current(&self) -> RefreshResult {
        match self.status().last_error {
            Some(err) => Err(err),
            None => Ok(self.snapshot()),
        }
    }

    fn install(
        &self,
        items: Vec<Arc<MediaItem>>,
        aside: Arc<Vec<ObjectMeta>>,
        now: SystemTime,
    ) -> Arc<Snapshot> {
        let old = self.snapshot();
        let mut snap = Snapshot::new(items, aside, old.generation, Some(now));
        let change = diff::diff(&old.items, &snap.items);
        let first = old.refreshed_at.is_none();
        if !change.is_empty() || first {
            snap.generation = old.generation + 1;
        }
        let generation = snap.generation;
        let snap = Arc::new(snap);
        self.swap(snap.clone());
        let recovered = {
            let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
            let recovered = status.last_error.is_some();
            status.last_attempt = Some(now);
            status.last_success = Some(now);
            status.last_error = None;
            status.failures = 0;
            recovered
        };
        if recovered {
            let _ = self.events.send(Event::Recovered);
        }
        if !change.is_empty() {
            tracing::info!(
                added = change.added.len(),
                removed = change.removed.len(),
                changed = change.changed.len(),
                generation,
                "library changed"
            );
            let _ = self
                .events
                .send(Event::Changed(snap.clone(), Arc::new(change)));
        }
        snap
    }

    fn record_failure(&self, err: Error, now: SystemTime) -> Arc<Error> {
        // The message is what clients see; the full form (paths) is for the log only.
        tracing::warn!(error = %err, detail = ?err, "refresh failed; keeping the last good snapshot");
        let err = Arc::new(err);
        let news = {
            let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
            // Tell clients when the library starts failing or fails differently, not at every retry.
            let news = status.last_error.as_ref().map(|e| e.to_string()) != Some(err.to_string());
            status.last_attempt = Some(now);
            status.last_error = Some(err.clone());
            status.failures = status.failures.saturating_add(1);
            news
        };
        if news {
            let _ = self.events.send(Event::Failed(err.clone()));
        }
        err
    }
}

#[cfg(test)]
mod tests;
