//! The background scan: reads each new object version's tags, duration and art once, keeps
//! them in SQLite, and hands them to the catalog, which pushes them to every client.
//!
//! [`MediaLibrary`] is built once beside the core's [`Library`] and started by the LAN
//! server's `run` (every task starts there). At start it attaches what the database knows
//! to the catalog ([`Known`] is the catalog's `Enrich` hook) and serves the last listing
//! ([`MediaLibrary::seed`]), so a restart shows the whole library, tags and art included,
//! before the first listing ends. Then, after each listing, it reads only the versions it
//! does not know: an unchanged object is never read again, not after a refresh, not after a
//! restart; a changed ETag re-reads that object alone.
//!
//! Reading is bounded: `scan_concurrency` objects at once (default 16: the scan waits on the
//! store's latency, not the CPU), and one at a time while any media stream is open
//! ([`Library::playing`]), so a scan yields the store's connections and the uplink to playback; a byte budget and a time
//! limit per object ([`crate::probe`]), results written in batches (one transaction and one
//! catalog generation per second at most, so clients get a few `library_changed` frames a
//! second, not one per object).

mod fetch;
mod known;
mod seed;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bucketstream_core::catalog::{ItemId, ItemMeta, MetaUpdate, Snapshot};
use bucketstream_core::config::LibraryConfig;
use bucketstream_core::source::ObjectMeta;
use bucketstream_core::wire::ScanProgress;
use bucketstream_core::Library;
use futures_util::StreamExt;
use tokio::sync::{broadcast, watch};

pub use fetch::SourceFetch;
pub use known::{art_path, meta_of, Entry, Known};

use crate::art::{ArtBlob, ArtSize};
use crate::db::{Db, DbError, Record};

/// The database file in the data folder.
pub const DB_FILE: &str = "library.sqlite3";
/// Results are written (and pushed) at least this often while a scan runs.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// ... or when this many are waiting.
const FLUSH_AT: usize = 256;

/// Why the media library could not start.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The data folder could not be made.
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database refused.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A blocking task did not finish.
    #[error("a database task failed: {0}")]
    Task(String),
}

/// The media library of one source: database, what it knows, the scan.
pub struct MediaLibrary {
    library: Arc<Library>,
    db: Arc<Db>,
    known: Arc<Known>,
    config: LibraryConfig,
    /// Bytes fetched from the store for tags and art since start.
    fetched: Arc<AtomicU64>,
    /// True once [`Known`] holds the database's records (the scan waits for it).
    known_ready: watch::Sender<bool>,
}

impl MediaLibrary {
    /// Opens the database in `library.config().library.data_dir` (a corrupt file is moved
    /// aside, never deleted, and a fresh one made: tags and art are read again; play counts,
    /// stars, playlists and bookmarks stay in the file moved aside, named in the log) and
    /// attaches its [`Known`] to the catalog, empty until [`MediaLibrary::start`] has it
    /// load the records. Blocking: call it from start-up code or `spawn_blocking`.
    fn open(library: Arc<Library>) -> Result<Arc<MediaLibrary>, LibraryError> {
        let config = library.config().library.clone();
        std::fs::create_dir_all(&config.data_dir).map_err(|source| LibraryError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let db = Db::open_or_reset(&config.data_dir.join(DB_FILE))?;
        // Empty until `load_known` has read the records (after the start has served).
        let known = Arc::new(Known::default());
        library.catalog().set_enrich(known.clone());
        Ok(Arc::new(MediaLibrary {
            library,
            db: Arc::new(db),
            known,
            config,
            fetched: Arc::default(),
            known_ready: watch::Sender::new(false),
        }))
    }

    /// What both binaries call at start: opens the media library of `library` and serves
    /// its last listing, then loads the records in the background (the scan waits for them). `(None, false)` (logged) when the database cannot be opened: the
    /// library then plays without tags, as before. The flag says whether a listing was
    /// served (then the first listing can run in the background).
    pub async fn start(library: &Arc<Library>) -> (Option<Arc<MediaLibrary>>, bool) {
        let lib = library.clone();
        let opened = match blocking(move || MediaLibrary::open(lib)).await {
            Ok(result) => result,
            Err(err) => Err(err),
        };
        let media = match opened {
            Ok(media) => media,
            Err(err) => {
                tracing::warn!(error = %err, "media library unavailable; serving files without tags");
                return (None, false);
            }
        };
        let seeded = match media.seed().await {
            Ok(seeded) => seeded,
            Err(err) => {
                tracing::warn!(error = %err, "could not read the last listing");
                false
            }
        };
        tokio::spawn(media.clone().load_known());
        (Some(media), seeded)
    }

    /// The database (art, records).
    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }

    /// The art with this hash at `size` (blocking).
    pub fn art(&self, hash: &str, size: ArtSize) -> Result<Option<ArtBlob>, DbError> {
        self.db.art(hash, size)
    }

    /// Runs until `stop` turns true: after each listing, keeps the listing and reads the new
    /// object versions. `media_base` (`http://127.0.0.1:PORT`) is where ffprobe reads
    /// videos through the server's own `/media` (so its reads go through the edge cache);
    /// `None` leaves videos without poster and codecs.
    pub async fn run(self: Arc<Self>, media_base: Option<String>, mut stop: watch::Receiver<bool>) {
        let catalog = self.library.catalog();
        let mut events = catalog.subscribe();
        let mut saved: Option<SystemTime> = None;
        let mut ready = self.known_ready.subscribe();
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            loaded = ready.wait_for(|ready| *ready) => if loaded.is_err() {
                return;
            },
        }
        loop {
            let snap = catalog.snapshot();
            if snap.refreshed_at.is_some() && snap.refreshed_at != saved {
                saved = snap.refreshed_at;
                if let Err(err) = self.keep_listing(&snap).await {
                    tracing::warn!(error = %err, "could not keep the listing in the database");
                }
            }
            if self.config.scan {
                self.scan(&snap, media_base.as_deref(), &mut stop).await;
            }
            if *stop.borrow() {
                return;
            }
            tokio::select! {
                _ = stop.changed() => return,
                event = events.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = event {
                        return;
                    }
                }
            }
        }
    }

    /// Saves the snapshot's objects as the last listing and forgets records of keys gone.
    async fn keep_listing(&self, snap: &Snapshot) -> Result<(), LibraryError> {
        let (objects, ids, metas) = listing_of(snap);
        let db = self.db.clone();
        let source = source_key(&self.library);
        blocking(move || {
            db.save_listing_items(&source, &objects, &ids, &metas)?;
            let keys = objects.iter().map(|o| o.key.as_str()).collect();
            db.retain(&source, &keys).map(|_| ())
        })
        .await?
        .map_err(LibraryError::from)
    }

    /// Reads every item of `snap` whose version is not known yet.
    async fn scan(
        &self,
        snap: &Snapshot,
        media_base: Option<&str>,
        stop: &mut watch::Receiver<bool>,
    ) {
        let todo: Vec<_> = snap
            .items
            .iter()
            .filter(|i| !self.known.has(&i.key, i.etag.as_deref(), i.size))
            .cloned()
            .collect();
        if todo.is_empty() {
            return;
        }
        let progress = self.library.scan_progress();
        let mut figures = ScanProgress {
            running: true,
            done: 0,
            total: todo.len() as u64,
            failed: 0,
            fetched_bytes: self.fetched.load(Ordering::Relaxed),
        };
        progress.send_replace(figures);
        tracing::info!(objects = todo.len(), "scan started");
        let ctx = worker::Context::new(self, snap, media_base);
        let width = self.config.scan_concurrency.max(1);
        // Each read takes one permit, or all of them while media plays: one at a time then.
        let gate = tokio::sync::Semaphore::new(width);
        let library = &self.library;
        let mut results = futures_util::stream::iter(todo)
            .map(|item| {
                let (ctx, gate) = (&ctx, &gate);
                async move {
                    let wanted = if ctx.others_playing(library.playing()) {
                        width
                    } else {
                        1
                    };
                    let _permit = gate
                        .acquire_many(u32::try_from(wanted).unwrap_or(1))
                        .await
                        .ok();
                    ctx.read(item).await
                }
            })
            .buffer_unordered(width);
        let mut batch: Vec<(Record, MetaUpdate)> = Vec::new();
        let mut last_flush = Instant::now();
        loop {
            let next = tokio::select! {
                _ = stop.changed() => None,
                next = results.next() => next,
            };
            let Some((record, update)) = next else { break };
            figures.done += 1;
            if record.error.is_some() {
                figures.failed += 1;
            }
            batch.push((record, update));
            if batch.len() >= FLUSH_AT || last_flush.elapsed() >= FLUSH_EVERY {
                self.flush(std::mem::take(&mut batch)).await;
                last_flush = Instant::now();
                figures.fetched_bytes = self.fetched.load(Ordering::Relaxed);
                progress.send_replace(figures);
            }
        }
        self.flush(batch).await;
        figures.running = false;
        figures.fetched_bytes = self.fetched.load(Ordering::Relaxed);
        progress.send_replace(figures);
        tracing::info!(
            done = figures.done,
            failed = figures.failed,
            fetched_bytes = figures.fetched_bytes,
            "scan finished"
        );
        if !*stop.borrow() {
            self.keep_pack(snap).await;
        }
    }

    /// After a scan: the packed copy of the saved listing gets what the scan read, so the
    /// next start serves it at once (only while the catalog still serves that listing).
    async fn keep_pack(&self, scanned: &Snapshot) {
        let snap = self.library.catalog().snapshot();
        if snap.refreshed_at.is_none() || snap.refreshed_at != scanned.refreshed_at {
            return;
        }
        let (objects, ids, metas) = listing_of(&snap);
        let db = self.db.clone();
        let source = source_key(&self.library);
        match blocking(move || db.save_listing_pack(&source, &objects, &ids, &metas)).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "could not keep the scan in the listing"),
            Err(err) => tracing::warn!(error = %err, "could not keep the scan in the listing"),
        }
    }

    /// Writes a batch to the database, then to memory and the catalog (which pushes it).
    async fn flush(&self, batch: Vec<(Record, MetaUpdate)>) {
        if batch.is_empty() {
            return;
        }
        let records: Vec<Record> = batch.iter().map(|(r, _)| r.clone()).collect();
        let db = self.db.clone();
        let source = source_key(&self.library);
        match blocking(move || db.put_many(&source, &records)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "could not store scan results"),
            Err(err) => tracing::warn!(error = %err, "could not store scan results"),
        }
        let mut updates = Vec::with_capacity(batch.len());
        for (record, mut update) in batch {
            // The catalog's item and what the library knows share one copy of the metadata.
            update.meta = self.known.insert(record).meta;
            updates.push(update);
        }
        self.library.catalog().apply_meta(&updates).await;
    }
}

/// The snapshot's objects (items, folder art and subtitle files) as a listing, with the item
/// ids (`None` for the objects that are not items) and the items' metadata.
#[allow(clippy::type_complexity)]
fn listing_of(snap: &Snapshot) -> (Vec<ObjectMeta>, Vec<Option<ItemId>>, Vec<Arc<ItemMeta>>) {
    let items = snap.items.iter().map(|i| ObjectMeta {
        key: i.key.clone(),
        size: i.size,
        etag: i.etag.clone(),
        last_modified: i
            .modified_ms
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
    });
    let objects = items
        .chain(snap.folder_art.iter().cloned())
        .chain(snap.subtitles.iter().cloned())
        .collect();
    let ids = snap.items.iter().map(|i| Some(i.id)).collect();
    let metas = snap.items.iter().map(|i| i.meta.clone()).collect();
    (objects, ids, metas)
}

/// The source's name in the database: its bucket and prefix (S3) or its folders' paths
/// (local), so two libraries never share records, even where item ids would agree (the ids
/// of a local library do not name its folders).
pub fn source_key(library: &Library) -> String {
    library.catalog().source().describe()
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, LibraryError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| LibraryError::Task(e.to_string()))
}
