//! Remux and transcode with the system's ffmpeg: one process per stream asked for, its output
//! (a fragmented MP4 starting at the time asked) written to a file in the cache folder while
//! clients read that file as it grows.
//!
//! Why a file and not a pipe to the client: a second client asking for the same item, version
//! and profile while ffmpeg runs reads the same growing file (one ffmpeg, two clients), and a
//! finished output is served from disk afterwards. Only a clean exit of ffmpeg turns the
//! `.part` file into an entry ([`cache`]); a client of a run that fails sees its stream cut,
//! never a short output passed off as whole.
//!
//! Resources: at most [`Settings::max_concurrent`] ffmpeg processes (a new one waits up to
//! [`QUEUE_WAIT`] for a slot, then [`TranscodeError::Busy`]), each niced and in its own process group, killed when its last client leaves, when
//! the same session asks for another stream (a seek elsewhere), or at [`Manager::stop_all`].

pub mod args;
pub mod cache;
mod job;
pub mod probe;
pub mod query;
mod tail;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

pub use args::{AudioCodec, Input, Mode, Profile};
pub use tail::Tail;

use job::{End, Job, Progress};

/// Why a stream cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    /// ffmpeg is not installed where the settings say.
    #[error("ffmpeg is not installed (looked for {0:?})")]
    FfmpegMissing(PathBuf),
    /// As many transcodes as allowed are running.
    #[error("{0} transcodes are running, the most allowed; try again in a few seconds")]
    Busy(usize),
    /// ffmpeg could not make the stream (unreadable or unsupported source).
    #[error("ffmpeg cannot convert this item: {0}")]
    Failed(String),
    /// The cache folder cannot be used.
    #[error("transcode cache folder: {0}")]
    Io(#[from] std::io::Error),
}

/// How the manager works (from `transcode.*` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The ffmpeg program (a path, or a name looked up on `PATH`).
    pub ffmpeg: PathBuf,
    /// Most ffmpeg processes at once.
    pub max_concurrent: usize,
    /// Folder of outputs (finished and in progress).
    pub cache_dir: PathBuf,
    /// Most bytes of finished outputs kept.
    pub cache_max_bytes: u64,
    /// Whether finished outputs outlive the manager (a configured folder). A folder made for
    /// one run of the server is emptied of ours, and removed, when the manager goes.
    pub keep: bool,
}

/// One stream asked for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The item's id (part of the cache key).
    pub id: String,
    /// The item's ETag (part of the cache key: a new version is a new entry).
    pub etag: Option<String>,
    /// What is asked.
    pub profile: Profile,
    /// Where ffmpeg reads the item.
    pub input: Input,
    /// A client's playback session: a new request of the same session ends its previous
    /// stream (and so, when it was the last reader, that stream's ffmpeg).
    pub session: Option<String>,
}

/// A stream ready to send: its first fragment exists.
pub struct Output {
    /// Where the stream's zero is in the item, ms (at or before the start asked: copied video
    /// starts at a keyframe).
    pub start_ms: u64,
    /// Its Content-Type.
    pub content_type: &'static str,
    /// How it was had.
    pub source: Served,
    /// The bytes.
    pub body: Tail,
}

/// Where an [`Output`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// A new ffmpeg run.
    Started,
    /// A run another client started.
    Joined,
    /// A finished entry on disk.
    Cached,
}

/// What one look under the lock found.
enum Step {
    /// A finished entry.
    Cached(Output),
    /// A run to read, and how it was had.
    Read(Arc<Job>, std::fs::File, Served),
    /// No slot free: wait for one.
    Wait,
}

/// A finished entry.
#[derive(Debug, Clone)]
struct Done {
    size: u64,
    used: u64,
    start_ms: u64,
    content_type: &'static str,
}

#[derive(Default)]
struct State {
    running: HashMap<String, Arc<Job>>,
    done: HashMap<String, Done>,
    clock: u64,
    sessions: HashMap<String, watch::Sender<bool>>,
}

struct Inner {
    settings: Settings,
    permits: Arc<Semaphore>,
    state: Mutex<State>,
    runs: AtomicU64,
}

impl Drop for Inner {
    /// Runs in progress stop and their parts go; finished entries stay for the next run
    /// when the folder is kept, else everything of ours goes, and the folder if empty.
    fn drop(&mut self) {
        let dir = &self.settings.cache_dir;
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        for job in st.running.values() {
            job.kill_now();
            let _ = std::fs::remove_file(dir.join(&job.part));
        }
        if self.settings.keep {
            return;
        }
        if let Ok(listing) = std::fs::read_dir(dir) {
            for entry in listing.flatten() {
                if entry.file_name().to_str().is_some_and(cache::is_ours) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let _ = std::fs::remove_dir(dir);
    }
}

impl State {
    /// Deletes the entries the cap of `cap` bytes no longer holds, least recently used first
    /// (a reader that has the file open keeps reading it: Unix unlink semantics).
    fn evict(&mut self, dir: &std::path::Path, cap: u64) {
        let entries: Vec<cache::Entry> = self
            .done
            .iter()
            .map(|(name, d)| cache::Entry {
                name: name.clone(),
                size: d.size,
                used: d.used,
            })
            .collect();
        for name in cache::evictions(&entries, cap) {
            self.done.remove(&name);
            let _ = std::fs::remove_file(dir.join(cache::entry_file(&name)));
            let _ = std::fs::remove_file(dir.join(cache::meta_file(&name)));
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How long a stream waits for a free slot before [`TranscodeError::Busy`].
pub const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Sessions remembered at most (older ones are forgotten, their streams left running).
const MAX_SESSIONS: usize = 4096;

/// Runs and shares ffmpeg streams (cheap to clone).
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// A manager over `settings`: makes the cache folder and keeps the finished entries an
    /// earlier run left in it (least recently used first out, within the cap); the rest of
    /// ours (unfinished or unrecorded outputs) is deleted, others' files are left alone.
    pub fn new(settings: Settings) -> Result<Manager, TranscodeError> {
        let dir = &settings.cache_dir;
        std::fs::create_dir_all(dir)?;
        let mut state = State::default();
        for found in cache::recover(dir)? {
            state.clock += 1;
            let done = Done {
                size: found.size,
                used: state.clock,
                start_ms: found.start_ms,
                content_type: found.content_type,
            };
            state.done.insert(found.name, done);
        }
        state.evict(dir, settings.cache_max_bytes);
        let permits = Arc::new(Semaphore::new(settings.max_concurrent.max(1)));
        Ok(Manager {
            inner: Arc::new(Inner {
                settings,
                permits,
                state: Mutex::new(state),
                runs: AtomicU64::new(0),
            }),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// ffmpeg processes running now.
    pub fn running(&self) -> usize {
        self.inner.lock().running.len()
    }

    /// The stream `req` asks for, once its first fragment is written: from the cache, from
    /// a run in progress, or from a new ffmpeg.
    pub async fn open(&self, req: Request) -> Result<Output, TranscodeError> {
        let name = cache::entry_name(&req.id, req.etag.as_deref(), &req.profile);
        let mut abort = req.session.as_ref().map(|s| self.session(s));
        let mut permit: Option<OwnedSemaphorePermit> = None;
        let (job, file, source) = loop {
            match self.step(&name, &req, &mut abort, &mut permit)? {
                Step::Cached(out) => return Ok(out),
                Step::Read(job, file, source) => break (job, file, source),
                Step::Wait => {
                    // Queue briefly: a run whose client just left or sought elsewhere gives
                    // its slot back within moments. Then look again: another client may
                    // have started the same run meanwhile.
                    let wait = self.inner.permits.clone().acquire_owned();
                    match tokio::time::timeout(QUEUE_WAIT, wait).await {
                        Ok(Ok(p)) => permit = Some(p),
                        _ => return Err(TranscodeError::Busy(self.inner.settings.max_concurrent)),
                    }
                }
            }
        };
        // From here the reader is counted: dropping `body` (an error below, or the client
        // leaving later) uncounts it and stops ffmpeg when it was the last.
        let mut progress = job.progress.subscribe();
        let body = Tail::growing(file, job.progress.subscribe(), abort, self.reader(&job));
        let shift = loop {
            let p: Progress = progress.borrow_and_update().clone();
            if let Some(shift) = p.ready {
                break shift;
            }
            match p.end {
                Some(End::Failed(message)) => return Err(TranscodeError::Failed(message)),
                Some(End::Cancelled) => {
                    return Err(TranscodeError::Failed("the stream was stopped".into()))
                }
                Some(End::Complete) => break 0,
                None => {}
            }
            if progress.changed().await.is_err() {
                return Err(TranscodeError::Failed("the stream was stopped".into()));
            }
        };
        Ok(Output {
            start_ms: req.profile.start_ms.saturating_add_signed(shift),
            content_type: job.content_type,
            source,
            body,
        })
    }

    /// One look at the cache and the runs under the lock: a cached entry, a run to read
    /// (joined, or started with a slot), or [`Step::Wait`] for a slot.
    fn step(
        &self,
        name: &str,
        req: &Request,
        abort: &mut Option<watch::Receiver<bool>>,
        permit: &mut Option<OwnedSemaphorePermit>,
    ) -> Result<Step, TranscodeError> {
        let dir = &self.inner.settings.cache_dir;
        let mut st = self.inner.lock();
        st.clock += 1;
        let clock = st.clock;
        if let Some(done) = st.done.get_mut(name) {
            done.used = clock;
            let done = done.clone();
            match std::fs::File::open(dir.join(cache::entry_file(name))) {
                Ok(file) => {
                    // Its use, for the order of evictions after a restart.
                    let _ = file.set_modified(std::time::SystemTime::now());
                    let body = Tail::finished(file, done.size, abort.take());
                    return Ok(Step::Cached(Output {
                        start_ms: done.start_ms,
                        content_type: done.content_type,
                        source: Served::Cached,
                        body,
                    }));
                }
                // Deleted behind our back: make it again.
                Err(_) => {
                    st.done.remove(name);
                }
            }
        }
        if let Some(job) = st.running.get(name).cloned() {
            let file = std::fs::File::open(dir.join(&job.part))?;
            job.join();
            return Ok(Step::Read(job, file, Served::Joined));
        }
        let Some(permit) = permit
            .take()
            .or_else(|| self.inner.permits.clone().try_acquire_owned().ok())
        else {
            return Ok(Step::Wait);
        };
        let run = self.inner.runs.fetch_add(1, Ordering::Relaxed);
        let part = cache::part_file(name, run);
        let writer = std::fs::File::create(dir.join(&part))?;
        let file = std::fs::File::open(dir.join(&part))?;
        let content_type = args::content_type(&req.input, &req.profile);
        let job = Arc::new(Job::new(name.to_owned(), part, content_type));
        let child = match job::spawn(&self.inner.settings.ffmpeg, req) {
            Ok(child) => child,
            Err(err) => {
                let _ = std::fs::remove_file(dir.join(&job.part));
                return Err(err);
            }
        };
        st.running.insert(name.to_owned(), job.clone());
        let inner = self.inner.clone();
        let (job2, start_ms) = (job.clone(), req.profile.start_ms);
        tokio::spawn(async move {
            job::run(inner, job2, child, writer, start_ms, permit).await;
        });
        Ok(Step::Read(job, file, Served::Started))
    }

    /// Kills every ffmpeg now (the server is stopping); their clients' streams are cut.
    pub fn stop_all(&self) {
        let jobs: Vec<Arc<Job>> = self.inner.lock().running.drain().map(|(_, j)| j).collect();
        for job in jobs {
            job.kill_now();
        }
    }

    /// A new stream of `session`: ends the session's previous stream.
    fn session(&self, session: &str) -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(false);
        let old = {
            let mut st = self.inner.lock();
            if st.sessions.len() >= MAX_SESSIONS {
                st.sessions.clear();
            }
            st.sessions.insert(session.to_owned(), tx)
        };
        if let Some(old) = old {
            let _ = old.send(true);
        }
        rx
    }

    fn reader(&self, job: &Arc<Job>) -> ReaderGuard {
        ReaderGuard {
            inner: Arc::downgrade(&self.inner),
            job: job.clone(),
        }
    }
}

/// Counts one reader of a running job; the last one leaving stops the job.
pub(crate) struct ReaderGuard {
    inner: std::sync::Weak<Inner>,
    job: Arc<Job>,
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        let Some(inner) = self.inner.upgrade() else {
            self.job.kill_now();
            return;
        };
        let mut st = inner.lock();
        if self.job.leave() == 0 && self.job.progress.borrow().end.is_none() {
            let same = st
                .running
                .get(&self.job.name)
                .is_some_and(|j| Arc::ptr_eq(j, &self.job));
            if same {
                st.running.remove(&self.job.name);
            }
            drop(st);
            self.job.cancel();
        }
    }
}

#[cfg(test)]
mod tests;
