//! Reading one object version: tags and embedded art (audio, through small ranged reads),
//! codecs and a poster (video, with ffprobe/ffmpeg through the server's own `/media`), and
//! folder art (`cover.jpg`…) for tracks without art of their own, fetched once per folder.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::catalog::{ItemMeta, MediaItem, MetaUpdate, Snapshot};
use bucketstream_core::media::{self, Kind};
use bucketstream_core::source::{ObjectMeta, Source};
use tokio::runtime::Handle;

use super::{meta_of, Known, MediaLibrary, SourceFetch};
use crate::db::{Db, Record};
use crate::probe::{self, Art, ProbeLimits};

/// Folder art larger than this is not fetched.
const FOLDER_ART_MAX: u64 = 16 << 20;

/// What every read of one scan shares.
pub(super) struct Context<'a> {
    known: &'a Known,
    db: Arc<Db>,
    source: Arc<Source>,
    source_id: String,
    handle: Handle,
    fetched: Arc<AtomicU64>,
    timeout: Duration,
    media_base: Option<&'a str>,
    /// Folder (the key's parent, `""` at the top) → its best folder art.
    folder_art: HashMap<String, ObjectMeta>,
    /// Folder art read in this scan: key → art hash (`None`: unusable). The lock also makes
    /// two tracks of one folder wait for one fetch instead of fetching twice.
    art_files: tokio::sync::Mutex<HashMap<String, Option<String>>>,
    /// Videos being read through the server's own `/media` now (their streams are ours).
    own_streams: AtomicUsize,
}

/// The parent of `key` (`""` at the top).
fn parent(key: &str) -> &str {
    key.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The file name of `key`.
fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

impl<'a> Context<'a> {
    pub(super) fn new(lib: &'a MediaLibrary, snap: &Snapshot, media_base: Option<&'a str>) -> Self {
        let mut folder_art: HashMap<String, ObjectMeta> = HashMap::new();
        for obj in snap.folder_art.iter() {
            let Some(rank) = media::folder_art_rank(&obj.key) else {
                continue;
            };
            let dir = parent(&obj.key).to_owned();
            let better = folder_art
                .get(&dir)
                .and_then(|o| media::folder_art_rank(&o.key))
                .is_none_or(|r| rank < r);
            if better {
                folder_art.insert(dir, obj.clone());
            }
        }
        let catalog = lib.library.catalog();
        Context {
            known: &lib.known,
            db: lib.db.clone(),
            source: catalog.source().clone(),
            source_id: super::source_key(&lib.library),
            handle: Handle::current(),
            fetched: lib.fetched.clone(),
            timeout: lib.config.probe_timeout,
            media_base,
            folder_art,
            art_files: tokio::sync::Mutex::default(),
            own_streams: AtomicUsize::new(0),
        }
    }

    fn fetcher(
        &self,
        key: &str,
        etag: Option<&str>,
        size: u64,
        counter: &Arc<AtomicU64>,
    ) -> SourceFetch {
        SourceFetch {
            handle: self.handle.clone(),
            source: self.source.clone(),
            key: key.to_owned(),
            etag: etag.map(str::to_owned),
            size,
            fetched: counter.clone(),
        }
    }

    /// Whether media streams other than the scan's own are open (someone is playing).
    pub(super) fn others_playing(&self, playing: usize) -> bool {
        playing > self.own_streams.load(Ordering::Acquire)
    }

    /// Reads `item`: its record for the database and its update for the catalog.
    pub(super) async fn read(&self, item: Arc<MediaItem>) -> (Record, MetaUpdate) {
        let counter = Arc::new(AtomicU64::new(0));
        let (mut meta, art, error) = match item.kind {
            Kind::Audio => self.audio(&item, &counter).await,
            Kind::Video => {
                // ffprobe's reads of `/media` count as playing: not as someone else's.
                self.own_streams.fetch_add(1, Ordering::AcqRel);
                let read = self.video(&item, &counter).await;
                self.own_streams.fetch_sub(1, Ordering::AcqRel);
                read
            }
        };
        let mut art_hash = match art {
            Some(art) => self.store_art(art).await,
            None => None,
        };
        if art_hash.is_none() && item.kind == Kind::Audio {
            art_hash = self.folder_art(&item).await;
        }
        let fetched_bytes = counter.load(Ordering::Relaxed);
        self.fetched.fetch_add(fetched_bytes, Ordering::Relaxed);
        meta.art = None;
        let record = Record {
            key: item.key.clone(),
            etag: item.etag.clone(),
            size: item.size,
            meta,
            art_hash,
            error,
            fetched_bytes,
        };
        if let Some(reason) = &record.error {
            tracing::debug!(key = %item.key, %reason, "tags not read");
        }
        let update = MetaUpdate {
            id: item.id.to_string(),
            etag: item.etag.clone(),
            size: item.size,
            meta: meta_of(&record),
        };
        (record, update)
    }

    async fn audio(
        &self,
        item: &MediaItem,
        counter: &Arc<AtomicU64>,
    ) -> (ItemMeta, Option<Art>, Option<String>) {
        let fetch = self.fetcher(&item.key, item.etag.as_deref(), item.size, counter);
        let name = file_name(&item.key).to_owned();
        let size = item.size;
        let limits = ProbeLimits {
            timeout: self.timeout,
            ..ProbeLimits::default()
        };
        let (mut meta, art, mut error) =
            match tokio::task::spawn_blocking(move || probe::probe(&fetch, &name, size, &limits))
                .await
            {
                Ok(probed) => (probed.meta, probed.art, probed.error),
                Err(err) => (
                    ItemMeta::default(),
                    None,
                    Some(format!("reader failed: {err}")),
                ),
            };
        // What the tag reader does not understand (WMA, AC3, DTS; not any unreadable file,
        // whose bytes ffprobe would read at length): its length and codec from ffprobe through
        // the server's `/media`, so the player can show and seek a transcode.
        let foreign = matches!(
            item.content_type,
            "audio/x-ms-wma" | "audio/ac3" | "audio/vnd.dts"
        );
        if let (true, None, Some(base)) = (foreign, meta.duration_ms, self.media_base) {
            let url = format!("{base}{}", item.url());
            if let Ok(info) = probe::probe_video(&url, self.timeout).await {
                if info.duration_ms.is_some() {
                    meta.duration_ms = info.duration_ms;
                    meta.audio_codec = meta.audio_codec.or(info.audio_codec.map(Into::into));
                    meta.title = meta.title.or(info.title.map(Into::into));
                    error = None;
                }
            }
        }
        (meta, art, error)
    }

    /// A video: its facts from the container itself, read with small ranged reads like audio
    /// tags (ffprobe through the server's `/media` only for containers those readers do not
    /// understand), and a poster from ffmpeg through the server's `/media`, so that its
    /// reads go through the edge cache. Without ffmpeg or a server: no poster, facts still.
    async fn video(
        &self,
        item: &MediaItem,
        counter: &Arc<AtomicU64>,
    ) -> (ItemMeta, Option<Art>, Option<String>) {
        let fetch = self.fetcher(&item.key, item.etag.as_deref(), item.size, counter);
        let size = item.size;
        let limits = ProbeLimits {
            timeout: self.timeout,
            ..ProbeLimits::default()
        };
        let facts =
            tokio::task::spawn_blocking(move || probe::video_facts(&fetch, size, &limits)).await;
        let mut info = match facts {
            Ok(facts) => {
                if let Some(err) = facts.error {
                    tracing::debug!(key = %item.key, error = %err, "container not read");
                }
                facts.info
            }
            Err(err) => {
                tracing::debug!(key = %item.key, error = %err, "container reader failed");
                None
            }
        };
        let url = self.media_base.map(|base| format!("{base}{}", item.url()));
        if let (None, Some(url)) = (&info, &url) {
            match probe::probe_video(url, self.timeout).await {
                Ok(read) => info = Some(read),
                Err(err) => tracing::debug!(key = %item.key, error = %err, "ffprobe failed"),
            }
        }
        let Some(info) = info else {
            // Neither understood it: what lofty makes of it (a title, a duration), or why not.
            return self.audio(item, counter).await;
        };
        let meta = ItemMeta {
            title: info.title.map(Into::into),
            duration_ms: info.duration_ms,
            width: info.width,
            height: info.height,
            video_codec: info.video_codec.map(Into::into),
            audio_codec: info.audio_codec.map(Into::into),
            ..ItemMeta::default()
        };
        let at_ms = meta.duration_ms.map_or(0, |d| d / 10);
        let poster = match &url {
            Some(url) if meta.video_codec.is_some() || meta.width.is_some() => {
                match probe::poster(url, at_ms, self.timeout).await {
                    Ok(jpeg) => Some(Art {
                        mime: "image/jpeg".into(),
                        bytes: jpeg,
                    }),
                    Err(err) => {
                        tracing::debug!(key = %item.key, error = %err, "no poster");
                        None
                    }
                }
            }
            _ => None,
        };
        (meta, poster, None)
    }

    /// Stores art in the database; its hash, `None` when it cannot be stored.
    async fn store_art(&self, art: Art) -> Option<String> {
        let db = self.db.clone();
        match tokio::task::spawn_blocking(move || db.put_art(&art.bytes, &art.mime)).await {
            Ok(Ok(hash)) => Some(hash),
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "art not stored");
                None
            }
            Err(err) => {
                tracing::debug!(error = %err, "art not stored");
                None
            }
        }
    }

    /// The hash of the folder art beside `item`, fetched and stored once per art version.
    async fn folder_art(&self, item: &MediaItem) -> Option<String> {
        let obj = self.folder_art.get(parent(&item.key))?;
        if let Some(entry) = self.known.get(&obj.key, obj.etag.as_deref(), obj.size) {
            return entry.art_hash();
        }
        let mut read = self.art_files.lock().await;
        if let Some(hash) = read.get(&obj.key) {
            return hash.clone();
        }
        let counter = Arc::new(AtomicU64::new(0));
        let fetch = self.fetcher(&obj.key, obj.etag.as_deref(), obj.size, &counter);
        let bytes = tokio::task::spawn_blocking(move || fetch.all(FOLDER_ART_MAX)).await;
        let fetched_bytes = counter.load(Ordering::Relaxed);
        self.fetched.fetch_add(fetched_bytes, Ordering::Relaxed);
        let (hash, error) = match bytes {
            Ok(Ok(bytes)) => {
                let mime = media::asset_type(&obj.key);
                match self.store_art(Art { mime, bytes }).await {
                    Some(hash) => (Some(hash), None),
                    None => (None, Some("not an image we can read".to_owned())),
                }
            }
            Ok(Err(err)) => (None, Some(err.to_string())),
            Err(err) => (None, Some(err.to_string())),
        };
        let record = Record {
            key: obj.key.clone(),
            etag: obj.etag.clone(),
            size: obj.size,
            meta: ItemMeta::default(),
            art_hash: hash.clone(),
            error,
            fetched_bytes,
        };
        let db = self.db.clone();
        let source = self.source_id.clone();
        let stored = record.clone();
        let _ = tokio::task::spawn_blocking(move || db.put_many(&source, &[stored])).await;
        self.known.insert(record);
        read.insert(obj.key.clone(), hash.clone());
        hash
    }
}
