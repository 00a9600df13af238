//! Serving the last listing at start (issue #15: under 1 s at 1,000,000 objects): the packed
//! copy is read in one go and cut into runs of whole objects, which become items on as many
//! threads as the machine has cores (two here: about half the time of one), then joined in
//! order. A damaged packed copy falls back to the rows, one at a time. The packed copy
//! carries each item's metadata; the records (what the scan needs) load afterwards.

use std::sync::Arc;
use std::time::Instant;

use bucketstream_core::catalog::{Catalog, SeedRows};

use super::{blocking, source_key, LibraryError, MediaLibrary};
use crate::db::{packed, Db};

/// At most this many threads make items (more cores than this gain little: the rest of the
/// start is serial).
const MAX_THREADS: usize = 4;

impl MediaLibrary {
    /// Serves the last listing the database kept until the first listing ends; whether
    /// there was one.
    pub async fn seed(&self) -> Result<bool, LibraryError> {
        let db = self.db.clone();
        let source = source_key(&self.library);
        let started = Instant::now();
        let catalog = self.library.catalog();
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, MAX_THREADS);
        let parts: Vec<SeedRows> = (0..threads).map(|_| catalog.seed_rows(0)).collect();
        let fallback = catalog.seed_rows(0);
        let rows = blocking(move || read(&db, &source, parts, fallback)).await??;
        let Some(rows) = rows else {
            return Ok(false);
        };
        let loaded = started.elapsed();
        let objects = rows.len();
        catalog.finish_seed(rows).await;
        tracing::info!(
            objects,
            threads,
            read_ms = loaded.as_millis(),
            index_ms = (started.elapsed() - loaded).as_millis(),
            "serving the last listing until the first one ends"
        );
        warm(catalog);
        Ok(true)
    }
}

/// The items of the saved listing of `source`: from its packed copy on `parts.len()`
/// threads, else from its rows into `fallback`; `None` when no listing was saved.
fn read(
    db: &Db,
    source: &str,
    parts: Vec<SeedRows>,
    mut fallback: SeedRows,
) -> Result<Option<SeedRows>, LibraryError> {
    let started = Instant::now();
    if let Some(data) = db.load_listing_packed(source)? {
        tracing::info!(
            bytes = data.len(),
            ms = started.elapsed().as_millis(),
            "packed listing read"
        );
        if let Some(rows) = unpack_parallel(&data, parts) {
            return Ok(Some(rows));
        }
        tracing::warn!("the packed listing is damaged; reading its rows");
    }
    let found = db.load_listing_rows(source, |obj, id| fallback.push(obj, id))?;
    Ok(found.then_some(fallback))
}

/// The items of a packed listing, each run of objects made on its own thread, joined in
/// order; `None` when the blob is damaged anywhere.
fn unpack_parallel(data: &[u8], mut parts: Vec<SeedRows>) -> Option<SeedRows> {
    let (runs, _) = packed::split(data, parts.len())?;
    parts.truncate(runs.len());
    let made: Vec<Option<SeedRows>> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .zip(parts)
            .map(|(run, mut rows)| {
                scope.spawn(move || {
                    packed::unpack_part(run, |obj, id, meta| rows.push_with_meta(obj, id, meta))?;
                    Some(rows)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let mut made = made.into_iter();
    let mut all = made.next()??;
    for rows in made {
        all.append(rows?);
    }
    Some(all)
}

impl MediaLibrary {
    /// Reads every record of this source into [`Known`](super::Known) (after the start has
    /// served: at 1,000,000 tagged objects this takes seconds), then gives the catalog's
    /// items what the saved listing did not carry (read after it was saved), and lets the
    /// scan start.
    pub(super) async fn load_known(self: Arc<Self>) {
        let started = Instant::now();
        let (db, source) = (self.db.clone(), source_key(&self.library));
        let known = self.known.clone();
        let loaded = blocking(move || {
            let mut entries = Vec::new();
            db.for_each_record(&source, |record| entries.push(known.entry_of(record)))
                .map(|_| entries)
        })
        .await;
        let entries = match loaded {
            Ok(Ok(entries)) => entries,
            Ok(Err(err)) => {
                return tracing::error!(error = %err, "cannot read the media library's records; no scan")
            }
            Err(err) => {
                return tracing::error!(error = %err, "cannot read the media library's records; no scan")
            }
        };
        let records = entries.len();
        self.known.fill(entries);
        // The load's temporaries and the database's page cache (given back by SQLite after the
        // pass) are freed now; hand the pages to the system.
        bucketstream_core::trim::release_freed_memory();
        let load_ms = started.elapsed().as_millis();
        // A listing that began before the fill may have missed what is known: wait for it.
        let catalog = self.library.catalog();
        catalog.settle().await;
        let (known, snap) = (self.known.clone(), catalog.snapshot());
        let updates = blocking(move || known.reconcile(&snap.items))
            .await
            .unwrap_or_default();
        let updated = catalog.apply_meta(&updates).await;
        tracing::info!(records, load_ms, updated, "media library records loaded");
        self.known_ready.send_replace(true);
    }
}

/// Builds the search index of the snapshot just served on a blocking thread, so the first
/// search after a restart does not wait for it (a page without search never needs it).
fn warm(catalog: &Catalog) {
    let snap = catalog.snapshot();
    tokio::task::spawn_blocking(move || snap.warm_index());
}
