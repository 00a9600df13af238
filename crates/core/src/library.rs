//! [`Library`]: the shared state built once per process and handed to every front end.
//!
//! The desktop app's Tauri commands and the LAN server's handlers call the same methods here
//! (snapshot, refresh, health, open), so both front ends behave identically. It also runs the
//! background refresher, which retries sooner after a failure so the library recovers by
//! itself when S3 comes back.

pub mod manage;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::watch;

use crate::cache::{CacheHealth, CacheStats, EdgeCache, ObjectRef};
use crate::catalog::{
    Catalog, ClientRefresh, MediaItem, RefreshResult, Snapshot, DEFAULT_CLIENT_REFRESH_INTERVAL,
};
use crate::config::{Config, SourceConfig};
use crate::error::{Error, Result};
use crate::source::failover::StoreStatus;
use crate::source::{ObjectBody, Source};
use crate::wire::ScanProgress;

/// An error as clients see it (`{code, message}`); defined with the rest of the wire types.
pub use crate::wire::ErrorInfo;

/// Lifetime of a presigned URL in direct mode: long enough to start playing, short enough to
/// be useless if it leaks.
const DIRECT_TTL: Duration = Duration::from_secs(300);

/// Shortest wait before retrying a failed refresh.
const RETRY_MIN: Duration = Duration::from_secs(2);

/// The library: configuration, source and catalog.
pub struct Library {
    /// The resolved configuration this library was built from.
    config: Config,
    /// Snapshot, refreshes and change events (owns the source).
    catalog: Arc<Catalog>,
    /// The edge cache in front of an S3 source (`None`: local folders, or cache off).
    cache: Option<EdgeCache>,
    /// Media streams open now (`Library::open` bodies not yet dropped): the scan reads one
    /// object at a time while any is open, so playback keeps the store's bandwidth.
    playing: Arc<AtomicUsize>,
    /// How far the media library's background scan is (sent by `bucketstream-library`,
    /// read by `/api/health` and pushed to WebSocket clients as `scan_progress`).
    scan: watch::Sender<ScanProgress>,
}

/// What `/api/health` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// `"s3"` or `"local"`.
    pub source: &'static str,
    /// Bucket and endpoint, or folders (never credentials).
    pub location: String,
    /// Number of media items in the snapshot.
    pub count: usize,
    /// Snapshot generation (bumped by each change).
    pub generation: u64,
    /// Last successful refresh, HTTP date.
    pub last_refresh: Option<String>,
    /// Last refresh attempt, HTTP date.
    pub last_attempt: Option<String>,
    /// The last attempt's error, if it failed.
    pub last_error: Option<ErrorInfo>,
    /// True when the last refresh succeeded.
    pub ok: bool,
    /// The edge cache's state (`None`: no cache): degraded while its disk refuses writes.
    pub cache: Option<CacheHealth>,
    /// The S3 store as the last request to it (listing, media fetch, upload) found it, and
    /// the endpoint in use (`None`: local folders). Unlike `ok`, which the last listing sets,
    /// it turns false as soon as a media fetch cannot reach the store.
    pub store: Option<StoreHealth>,
    /// The background scan of tags and art.
    pub scan: ScanProgress,
    /// What this viewer may change (the page shows its upload and manage controls from it).
    pub permissions: Permissions,
    /// Above this many items the player pages, searches and groups on the server
    /// (`lan.paging_threshold`, which the LAN server applies over [`Library::health_for`]'s
    /// default).
    pub paging_threshold: usize,
}

/// `/api/health`'s `store`: how the last request to the S3 store went.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StoreHealth {
    /// False while the last request could not reach the store or got a 5xx answer.
    pub ok: bool,
    /// What went wrong (`endpoint_unreachable`, `upstream`), when not ok.
    pub error: Option<ErrorInfo>,
    /// Since when (HTTP date) the store has been ok, or failing; `null` before any request.
    pub since: Option<String>,
    /// The endpoint requests go to now (the owner only; `null` for AWS).
    pub endpoint: Option<String>,
    /// How many endpoints are configured (1 without `s3.endpoints`, 0 for AWS).
    pub endpoints: usize,
}

impl StoreHealth {
    /// The store's `status` as `viewer` may see it (the endpoint only for the owner).
    fn new(status: StoreStatus, viewer: Viewer) -> StoreHealth {
        StoreHealth {
            ok: status.state.error.is_none(),
            error: status.state.error.as_ref().map(ErrorInfo::from),
            since: status.state.since.map(httpdate::fmt_http_date),
            endpoint: status.endpoint.filter(|_| viewer == Viewer::Owner),
            endpoints: status.endpoints,
        }
    }
}

/// What a viewer may change in the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Permissions {
    /// May upload (`/api/uploads`): the owner always; LAN devices when the owner allows it
    /// (`lan.uploads`, which the LAN server applies over [`Library::health_for`]'s answer).
    pub upload: bool,
    /// May delete, rename and move: the owner only.
    pub manage: bool,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
}

/// Who is looking at [`Health`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// The owner: the desktop window, clients on a trusted network.
    Owner,
    /// Any other admitted client.
    Lan,
}

/// The location without what only the owner needs to see: each folder's last component (no
/// absolute path), the bucket and prefix (no endpoint, which may name internal hosts).
fn public_location(source: &SourceConfig) -> String {
    match source {
        SourceConfig::S3(s3) => format!("s3://{}/{}", s3.bucket, s3.prefix),
        SourceConfig::Local(local) => local
            .roots
            .iter()
            .map(|root| crate::error::last_component(root))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

impl Library {
    /// Builds the source named by `config`. No listing yet: call [`Library::refresh`] or
    /// [`Library::spawn_refresher`]. Fails only on local problems (an unreadable folder, a
    /// cache folder that is not the cache's). Clients may cause a listing at most once per
    /// [`DEFAULT_CLIENT_REFRESH_INTERVAL`] ([`Library::request_refresh`]).
    pub async fn new(config: Config) -> Result<Arc<Library>> {
        Library::with_client_refresh_interval(config, DEFAULT_CLIENT_REFRESH_INTERVAL).await
    }

    /// As [`Library::new`], with client-driven listings at most once per `interval` after
    /// a listing (zero: no limit beyond coalescing; tests that change the bucket and refresh
    /// at once use it).
    pub async fn with_client_refresh_interval(
        config: Config,
        interval: Duration,
    ) -> Result<Arc<Library>> {
        let source = Source::from_config(&config.source).await?;
        let cache = match (&source, &config.cache.dir) {
            (Source::S3(_), Some(dir)) if config.cache.enabled => {
                Some(EdgeCache::open(dir, config.cache.max_bytes)?)
            }
            _ => None,
        };
        Ok(Arc::new(Library {
            catalog: Arc::new(Catalog::with_client_interval(Arc::new(source), interval)),
            cache,
            config,
            scan: watch::channel(ScanProgress::default()).0,
            playing: Arc::default(),
        }))
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The catalog (snapshot and events).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The current snapshot (no I/O).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.catalog.snapshot()
    }

    /// Lists the source now; concurrent calls share one listing. Not rate-limited: for the
    /// owner (start-up, the desktop window's command) and the background refresher.
    pub async fn refresh(&self) -> RefreshResult {
        self.catalog.refresh().await
    }

    /// A refresh a LAN client asked for (`POST /api/refresh`, `fetch_videos`): coalesced and
    /// rate-limited (see [`crate::catalog`]); the snapshot in force when it comes too soon.
    pub async fn request_refresh(&self) -> ClientRefresh {
        self.catalog.request_refresh().await
    }

    /// In direct mode, a short-lived presigned URL for `item` (`None`: serve it ourselves).
    pub async fn direct_url(&self, item: &MediaItem) -> Option<Result<String>> {
        match &**self.catalog.source() {
            Source::S3(s3) if self.config.cache.direct => {
                Some(s3.presign(&item.key, None, DIRECT_TTL).await)
            }
            _ => None,
        }
    }

    /// Edge cache counters (`None` when there is no cache).
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(EdgeCache::stats)
    }

    /// Health for the owner (the desktop status line, trusted clients of `/api/health`).
    pub fn health(&self) -> Health {
        self.health_for(Viewer::Owner)
    }

    /// Health as `viewer` may see it: only the owner sees folder paths and the endpoint.
    pub fn health_for(&self, viewer: Viewer) -> Health {
        let snap = self.catalog.snapshot();
        let status = self.catalog.status();
        let source = self.catalog.source();
        let location = match viewer {
            Viewer::Owner => source.describe(),
            Viewer::Lan => public_location(&self.config.source),
        };
        Health {
            source: source.kind(),
            location,
            count: snap.items.len(),
            generation: snap.generation,
            last_refresh: status.last_success.map(httpdate::fmt_http_date),
            last_attempt: status.last_attempt.map(httpdate::fmt_http_date),
            ok: status.last_error.is_none(),
            last_error: status.last_error.as_deref().map(ErrorInfo::from),
            cache: self.cache.as_ref().map(EdgeCache::health),
            store: match &**source {
                Source::S3(s3) => Some(StoreHealth::new(s3.store_status(), viewer)),
                Source::Local(_) => None,
            },
            scan: *self.scan.borrow(),
            permissions: Permissions {
                upload: viewer == Viewer::Owner,
                manage: viewer == Viewer::Owner,
                max_upload_bytes: self.config.library.upload_max_bytes,
            },
            paging_threshold: crate::config::DEFAULT_PAGING_THRESHOLD,
        }
    }

    /// Where the scan's progress is published (the media library sends, the LAN server
    /// subscribes).
    pub fn scan_progress(&self) -> &watch::Sender<ScanProgress> {
        &self.scan
    }

    /// Opens item `item` (whose snapshot values are the contract): the inclusive byte range
    /// `range` of it, or all of it when `None`. A range that is not inside the item fails
    /// with [`Error::NotFound`] (the server answers `416` before it gets here).
    pub async fn open(&self, item: &MediaItem, range: Option<(u64, u64)>) -> Result<ObjectBody> {
        let mut body = self.open_body(item, range).await?;
        // Counted as playing until the body is dropped (finished, or the client went away).
        let playing = Playing::start(&self.playing);
        body.stream = Box::pin(body.stream.map(move |chunk| {
            let _open = &playing;
            chunk
        }));
        Ok(body)
    }

    /// Media streams open now (the scan yields to them).
    pub fn playing(&self) -> usize {
        self.playing.load(Ordering::Acquire)
    }

    async fn open_body(&self, item: &MediaItem, range: Option<(u64, u64)>) -> Result<ObjectBody> {
        let range = match range {
            Some((start, end)) if start > end || end >= item.size => return Err(Error::NotFound),
            Some(range) => Some(range),
            None if item.size == 0 => None,
            None => Some((0, item.size - 1)),
        };
        let source = self.catalog.source();
        if let (Some(cache), Some((start, end))) = (&self.cache, range) {
            let obj = ObjectRef::new(
                &source.identity(),
                &item.id,
                &item.key,
                item.etag.as_deref(),
                item.size,
            );
            return cache.read(source.clone(), obj, start, end).await;
        }
        let body = source
            .open(&item.key, item.etag.as_deref(), item.size, range)
            .await?;
        let want = range.map_or(0, |(start, end)| end - start + 1);
        if body.len != want {
            // The object changed size behind the snapshot's back.
            return Err(Error::Changed);
        }
        Ok(body)
    }

    /// Refreshes now, then every `config.refresh` (sooner after a failure), until `shutdown`.
    pub fn spawn_refresher<F>(self: &Arc<Self>, shutdown: F) -> tokio::task::JoinHandle<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let lib = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = lib.refresh_loop() => {}
                () = shutdown => {}
            }
        })
    }

    async fn refresh_loop(&self) {
        loop {
            let started = SystemTime::now();
            let ok = self.refresh().await.is_ok();
            let period = self.config.refresh;
            let wait = if ok {
                match period {
                    Some(p) => p,
                    None => return,
                }
            } else {
                let failures = self.catalog.status().failures.min(6);
                let backoff = RETRY_MIN * 2u32.saturating_pow(failures.saturating_sub(1));
                period.map_or(backoff, |p| backoff.min(p))
            };
            let spent = started.elapsed().unwrap_or_default();
            tokio::time::sleep(wait.saturating_sub(spent)).await;
        }
    }
}

/// One open media stream, counted in [`Library::playing`] until dropped.
struct Playing(Arc<AtomicUsize>);

impl Playing {
    fn start(count: &Arc<AtomicUsize>) -> Playing {
        count.fetch_add(1, Ordering::AcqRel);
        Playing(count.clone())
    }
}

impl Drop for Playing {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::source::failover::State;

    /// Only the owner sees the endpoint in use (it may name internal hosts); everyone sees
    /// whether the store answers and why not.
    #[test]
    fn store_health_shows_the_endpoint_to_the_owner_only() {
        let status = StoreStatus {
            state: State {
                error: Some(Error::Unreachable("connection refused".into())),
                since: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(86_400)),
            },
            endpoint: Some("http://10.0.0.2:3900".into()),
            endpoints: 3,
        };
        let owner = StoreHealth::new(status.clone(), Viewer::Owner);
        let lan = StoreHealth::new(status, Viewer::Lan);
        assert_eq!(owner.endpoint.as_deref(), Some("http://10.0.0.2:3900"));
        assert_eq!(lan.endpoint, None);
        for h in [&owner, &lan] {
            assert!(!h.ok);
            assert_eq!(h.endpoints, 3);
            assert_eq!(h.since.as_deref(), Some("Fri, 02 Jan 1970 00:00:00 GMT"));
            let error = h.error.as_ref().expect("error");
            assert_eq!(error.code, crate::error::ErrorCode::EndpointUnreachable);
            assert!(
                error.message.contains("connection refused"),
                "{}",
                error.message
            );
        }
        let fresh = StoreHealth::new(
            StoreStatus {
                state: State::default(),
                endpoint: None,
                endpoints: 0,
            },
            Viewer::Owner,
        );
        assert!(fresh.ok && fresh.error.is_none() && fresh.since.is_none());
    }
}
