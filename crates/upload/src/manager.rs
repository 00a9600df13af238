//! [`Uploads`]: the uploads of one library. Creates them, writes PATCH bodies through the
//! sink, answers HEAD, terminates, and sweeps expired ones (at start and then periodically).
//!
//! Each upload's state lives in memory behind its own lock (one writer at a time; a second
//! request waits up to [`LOCK_WAIT`], then gets `409`) and on disk ([`crate::store`]), saved
//! before any offset is acknowledged. Memory per upload in flight: one request body frame
//! (bounded by hyper's read buffer, about 400 KiB at most) plus a 64 KiB buffer while a part is
//! hashed and sent; parts themselves are staged on disk.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bucketstream_core::catalog::Edit;
use bucketstream_core::library::Library;
use bucketstream_core::source::{ObjectMeta, Source};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::Md5;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use tokio::io::AsyncWriteExt;

use crate::error::{Result, UploadError};
use crate::name::{self, Target};
use crate::sink::parts::{self, Staging};
use crate::sink::s3;
use crate::store::{self, SinkState, State, Store};
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

/// The checksum being computed over a PATCH body.
enum Hasher {
    Sha1(Sha1),
    Sha256(Sha256),
    Md5(Md5),
}

impl Hasher {
    fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Md5 => Hasher::Md5(Md5::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Md5(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Md5(h) => h.finalize().to_vec(),
        }
    }
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

    /// `OPTIONS`.
    pub fn options(&self) -> Answer {
        Answer::Options {
            max_size: self.settings.max_bytes,
        }
    }

    fn expires(&self) -> u64 {
        store::deadline(SystemTime::now(), self.settings.expiry)
    }

    /// `POST`: a new upload of `length` bytes named by `metadata`, and with
    /// creation-with-upload its first bytes (`body`).
    pub async fn create<S, E>(
        &self,
        length: u64,
        metadata: &[(String, String)],
        body: Option<(Option<Checksum>, S)>,
    ) -> Answer
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let state = match self.new_upload(length, metadata).await {
            Ok(state) => state,
            Err(err) => return Answer::Refused(err),
        };
        let id = state.id.clone();
        let mut offset = state.offset;
        let mut expires = state.expires_at();
        let entry: Entry = Arc::new(tokio::sync::Mutex::new(state));
        let mut guard = entry.clone().lock_owned().await;
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), entry);
        if let Some((checksum, body)) = body {
            match self.write_locked(&mut guard, 0, checksum, body).await {
                Ok(()) => {
                    offset = guard.offset;
                    expires = guard.expires_at();
                }
                Err(err) => return Answer::Refused(err),
            }
        }
        Answer::Created {
            location: format!("/api/uploads/{id}"),
            offset,
            expires,
        }
    }

    async fn new_upload(&self, length: u64, metadata: &[(String, String)]) -> Result<State> {
        if length > self.settings.max_bytes {
            return Err(UploadError::TooLarge(format!(
                "{length} bytes is more than this server accepts ({} bytes, upload_max_bytes)",
                self.settings.max_bytes
            )));
        }
        let target = name::target(metadata)?;
        let open = self.table.lock().unwrap_or_else(|p| p.into_inner()).len();
        if open >= MAX_OPEN {
            return Err(UploadError::TooMany);
        }
        let id = store::new_id()?;
        let source = self.source();
        let (key, sink) = match &*source {
            Source::S3(s3src) => {
                let key = target.s3_key(s3src.prefix())?;
                let upload_id = if length == 0 {
                    String::new()
                } else {
                    s3::create(s3src, &key, target.mime).await?
                };
                let sink = SinkState::S3 {
                    upload_id,
                    part_size: parts::part_size(length),
                    parts: Vec::new(),
                };
                (key, sink)
            }
            Source::Local(local) => self.local_target(local, &target, &id).await?,
        };
        let mut state = State {
            id,
            source: self.source_id.clone(),
            key,
            length,
            offset: 0,
            expires: self.expires(),
            done: false,
            sink,
        };
        if let Err(err) = self.store.save(&state).await {
            self.discard(&state).await;
            return Err(err);
        }
        if length == 0 {
            self.finish(&mut state).await?;
        }
        tracing::info!(id = %state.id, key = %state.key, length, "upload created");
        Ok(state)
    }

    /// Picks the root (the folder's first segment names it when there are several), creates
    /// the folder and the temporary file.
    async fn local_target(
        &self,
        local: &bucketstream_core::source::local::LocalSource,
        target: &Target,
        id: &str,
    ) -> Result<(String, SinkState)> {
        let roots = local.roots();
        let (root, folder) = if roots.len() == 1 {
            (0, target.folder.clone())
        } else {
            let first = target.folder.first().ok_or_else(|| {
                UploadError::BadName(
                    "the library has several folders: `folder` must start with one of them".into(),
                )
            })?;
            let index = roots
                .iter()
                .position(|(label, _)| label == first)
                .ok_or_else(|| {
                    UploadError::BadName(format!("{first:?} is not one of the library's folders"))
                })?;
            (index, target.folder[1..].to_vec())
        };
        let temp = local_temp(&target.filename, id);
        #[cfg(unix)]
        {
            let (path, f, t) = (roots[root].1.clone(), folder.clone(), temp.clone());
            blocking(move || crate::sink::local::create(&path, &f, &t))
                .await
                .map_err(local_err)?;
        }
        Ok((
            target.relative(),
            SinkState::Local {
                root,
                folder,
                filename: target.filename.clone(),
                temp,
            },
        ))
    }

    /// Aborts what the sink holds of `state` (best effort, logged).
    async fn discard(&self, state: &State) {
        let result: Result<()> = match (&state.sink, &*self.source()) {
            (SinkState::S3 { upload_id, .. }, Source::S3(s3src)) if !upload_id.is_empty() => {
                s3::abort(s3src, &state.key, upload_id).await
            }
            #[cfg(unix)]
            (
                SinkState::Local {
                    root, folder, temp, ..
                },
                Source::Local(local),
            ) => match local.roots().get(*root) {
                Some((_, path)) => {
                    let (path, folder, temp) = (path.clone(), folder.clone(), temp.clone());
                    blocking(move || crate::sink::local::remove(&path, &folder, &temp))
                        .await
                        .map_err(Into::into)
                }
                None => Ok(()),
            },
            _ => Ok(()),
        };
        if let Err(err) = result {
            tracing::warn!(id = %state.id, %err, "could not discard an upload's bytes");
        }
        Staging::new(self.store.dir(), &state.id, 1)
            .remove_all()
            .await;
    }

    /// Expiry check under the lock: an expired upload is discarded and forgotten.
    async fn check_expiry(&self, state: &State) -> Result<()> {
        if state.expired(SystemTime::now()) {
            if !state.done {
                self.discard(state).await;
            }
            let _ = self.store.remove(&state.id).await;
            self.forget(&state.id);
            return Err(UploadError::Gone);
        }
        Ok(())
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

    /// `PATCH`: appends `body` at `offset`.
    pub async fn write<S, E>(
        &self,
        id: &str,
        offset: u64,
        checksum: Option<Checksum>,
        body: S,
    ) -> Answer
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let result = async {
            let mut state = self.lock(id).await?;
            self.check_expiry(&state).await?;
            self.write_locked(&mut state, offset, checksum, body)
                .await?;
            Ok::<_, UploadError>(Answer::Patched {
                offset: state.offset,
                expires: (!state.done).then(|| state.expires_at()),
            })
        }
        .await;
        result.unwrap_or_else(Answer::Refused)
    }

    async fn write_locked<S, E>(
        &self,
        state: &mut State,
        offset: u64,
        checksum: Option<Checksum>,
        body: S,
    ) -> Result<()>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if offset != state.offset {
            return Err(UploadError::Conflict(format!(
                "Upload-Offset is {offset} but the upload is at {}",
                state.offset
            )));
        }
        if state.done {
            return Ok(());
        }
        let overflow = match &state.sink {
            SinkState::S3 { .. } => self.write_s3(state, checksum, body).await?,
            SinkState::Local { .. } => self.write_local(state, checksum, body).await?,
        };
        if overflow {
            return Err(UploadError::TooLarge(
                "the body goes past Upload-Length; the bytes past it were discarded".into(),
            ));
        }
        if state.offset == state.length {
            self.finish(state).await?;
        }
        Ok(())
    }

    async fn write_s3<S, E>(
        &self,
        state: &mut State,
        checksum: Option<Checksum>,
        body: S,
    ) -> Result<bool>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let source = self.source();
        let Source::S3(s3src) = &*source else {
            return Err(UploadError::Gone);
        };
        let SinkState::S3 { part_size, .. } = &state.sink else {
            return Ok(false);
        };
        let staging = Staging::new(self.store.dir(), &state.id, *part_size);
        // Bytes past the acknowledged offset (an interrupted request) are dropped first, and
        // full parts left by a failed part upload are sent.
        let done_bytes = parts_sum(state);
        let have = staging
            .recover(first_part(state), state.offset - done_bytes)
            .await?;
        state.offset = done_bytes + have;
        self.send_full_parts(s3src, &staging, state, have).await?;
        let start = state.offset - parts_sum(state);
        let mut body = Capped::new(body, state.length - state.offset, checksum.as_ref());
        let mut staged = start;
        while let Some(data) = body.next().await {
            staged = staging.write(first_part(state), staged, &data).await?;
            if checksum.is_none() && staged >= staging.part_size() {
                staged = self.send_full_parts(s3src, &staging, state, staged).await?;
            }
        }
        let (digest, overflow) = body.finish();
        if let (Some(want), Some(got)) = (checksum.as_ref(), digest) {
            if want.digest != got {
                staging.truncate(first_part(state), staged, start).await?;
                return Err(UploadError::Checksum);
            }
            staged = self.send_full_parts(s3src, &staging, state, staged).await?;
        }
        staging.sync(first_part(state), staged).await?;
        state.offset = parts_sum(state) + staged;
        state.expires = self.expires();
        self.store.save(state).await?;
        Ok(overflow)
    }

    /// Uploads every full staged part (from the first not uploaded), saving the state after
    /// each; returns the bytes still staged.
    async fn send_full_parts(
        &self,
        s3src: &bucketstream_core::source::s3::S3Source,
        staging: &Staging,
        state: &mut State,
        mut staged: u64,
    ) -> Result<u64> {
        while staged >= staging.part_size() {
            let number = first_part(state);
            let path = staging.path(number);
            let part = s3::upload_part(
                s3src,
                &state.key,
                s3_upload_id(state),
                number,
                &path,
                staging.part_size(),
            )
            .await?;
            if let SinkState::S3 { parts, .. } = &mut state.sink {
                parts.push(part);
            }
            staged -= staging.part_size();
            // The part holds every byte acknowledged before it: the offset never goes back.
            state.offset = state.offset.max(parts_sum(state));
            self.store.save(state).await?;
            let _ = tokio::fs::remove_file(&path).await;
        }
        Ok(staged)
    }

    #[cfg(unix)]
    async fn write_local<S, E>(
        &self,
        state: &mut State,
        checksum: Option<Checksum>,
        body: S,
    ) -> Result<bool>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let source = self.source();
        let (
            Source::Local(local),
            SinkState::Local {
                root, folder, temp, ..
            },
        ) = (&*source, &state.sink)
        else {
            return Err(UploadError::Gone);
        };
        let root = local
            .roots()
            .get(*root)
            .map(|(_, p)| p.clone())
            .ok_or(UploadError::Gone)?;
        let start = state.offset;
        let (f, t) = (folder.clone(), temp.clone());
        let file = blocking(move || crate::sink::local::open_temp(&root, &f, &t, start))
            .await
            .map_err(local_err)?;
        let mut file = tokio::fs::File::from_std(file);
        tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(start)).await?;
        let mut body = Capped::new(body, state.length - start, checksum.as_ref());
        let mut written = 0u64;
        while let Some(data) = body.next().await {
            file.write_all(&data).await?;
            written += data.len() as u64;
        }
        let (digest, overflow) = body.finish();
        file.flush().await?;
        if let (Some(want), Some(got)) = (checksum.as_ref(), digest) {
            if want.digest != got {
                file.set_len(start).await?;
                file.sync_all().await?;
                return Err(UploadError::Checksum);
            }
        }
        file.sync_all().await?;
        state.offset = start + written;
        state.expires = self.expires();
        self.store.save(state).await?;
        Ok(overflow)
    }

    #[cfg(not(unix))]
    async fn write_local<S, E>(&self, _: &mut State, _: Option<Checksum>, _: S) -> Result<bool> {
        Err(UploadError::Forbidden)
    }

    /// Completes a fully received upload: the last S3 part and CompleteMultipartUpload, or
    /// the local rename; then the catalog learns of the object and every client with it.
    async fn finish(&self, state: &mut State) -> Result<()> {
        let source = self.source();
        let obj: ObjectMeta = match (&*source, &mut state.sink) {
            (
                Source::S3(s3src),
                SinkState::S3 {
                    upload_id,
                    part_size,
                    parts,
                },
            ) => {
                if state.length == 0 {
                    s3::put_empty(s3src, &state.key, mime_of(&state.key)).await?
                } else {
                    let staging = Staging::new(self.store.dir(), &state.id, *part_size);
                    let sent: u64 = parts.iter().map(|p| p.size).sum();
                    let left = state.length - sent;
                    if left > 0 {
                        let number = i32::try_from(parts.len() + 1).unwrap_or(i32::MAX);
                        let part = s3::upload_part(
                            s3src,
                            &state.key,
                            upload_id,
                            number,
                            &staging.path(number),
                            left,
                        )
                        .await?;
                        parts.push(part);
                        self.store.save(state).await?;
                    }
                    let SinkState::S3 {
                        upload_id, parts, ..
                    } = &state.sink
                    else {
                        return Err(UploadError::Gone);
                    };
                    let obj = s3::complete(s3src, &state.key, upload_id, parts).await?;
                    staging.remove_all().await;
                    obj
                }
            }
            #[cfg(unix)]
            (
                Source::Local(local),
                SinkState::Local {
                    root,
                    folder,
                    filename,
                    temp,
                },
            ) => {
                let roots = local.roots();
                let (label, path) = roots.get(*root).cloned().ok_or(UploadError::Gone)?;
                let (f, t, n) = (folder.clone(), temp.clone(), filename.clone());
                let (name, meta) =
                    blocking(move || crate::sink::local::finish(&path, &f, &t, &n)).await?;
                let mut key = String::new();
                for part in std::iter::once(&label)
                    .filter(|l| !l.is_empty())
                    .chain(folder.iter())
                {
                    key.push_str(part);
                    key.push('/');
                }
                key.push_str(&name);
                state.key = key.clone();
                bucketstream_core::source::local::object_meta(key, &meta)
            }
            _ => return Err(UploadError::Gone),
        };
        state.done = true;
        state.offset = state.length;
        state.expires = self.expires();
        self.store.save(state).await?;
        tracing::info!(id = %state.id, key = %obj.key, size = obj.size, "upload complete");
        self.library
            .catalog()
            .apply_edit(&Edit {
                put: vec![obj],
                removed: Vec::new(),
            })
            .await;
        Ok(())
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

/// A request body read frame by frame, cut at the bytes the upload has room for, hashed when
/// a checksum is asked. A body that breaks off (the client went away) just ends: what arrived
/// is kept.
struct Capped<S> {
    body: S,
    left: u64,
    overflow: bool,
    hasher: Option<Hasher>,
}

impl<S, E> Capped<S>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    fn new(body: S, room: u64, checksum: Option<&Checksum>) -> Capped<S> {
        Capped {
            body,
            left: room,
            overflow: false,
            hasher: checksum.map(|c| Hasher::new(c.algorithm)),
        }
    }

    /// The next non-empty piece, `None` at the end (or past the room).
    async fn next(&mut self) -> Option<Bytes> {
        while !self.overflow {
            let mut frame = match self.body.next().await? {
                Ok(frame) => frame,
                Err(err) => {
                    tracing::debug!(%err, "upload body broke off; keeping what arrived");
                    return None;
                }
            };
            let take = usize::try_from(self.left).unwrap_or(usize::MAX);
            if frame.len() > take {
                self.overflow = true;
                frame.truncate(take);
            }
            self.left -= frame.len() as u64;
            if frame.is_empty() {
                continue;
            }
            if let Some(h) = self.hasher.as_mut() {
                h.update(&frame);
            }
            return Some(frame);
        }
        None
    }

    /// The digest (when asked) and whether the body went past the room.
    fn finish(self) -> (Option<Vec<u8>>, bool) {
        (self.hasher.map(Hasher::finish), self.overflow)
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

fn s3_upload_id(state: &State) -> &str {
    match &state.sink {
        SinkState::S3 { upload_id, .. } => upload_id,
        SinkState::Local { .. } => "",
    }
}
