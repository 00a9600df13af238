//! One ffmpeg run: spawned niced in its own process group, its stdout copied into the run's
//! `.part` file (readers follow [`Progress`]), its log read for the start shift and the error,
//! and at the end either an entry of the cache or nothing.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, watch, Notify, OwnedSemaphorePermit};

use super::{args, cache, probe, Done, Inner, Request, TranscodeError};

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// ffmpeg exited cleanly: the output is whole.
    Complete,
    /// ffmpeg failed; the last lines of its log.
    Failed(String),
    /// Stopped: its last reader left, or the server is stopping.
    Cancelled,
}

/// What readers of a run see.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    /// Bytes in the `.part` file (all of them readable).
    pub written: u64,
    /// Set once the first fragment is written: the start shift, ms (at most 0).
    pub ready: Option<i64>,
    /// Set when the run is over.
    pub end: Option<End>,
}

/// A run, shared by its readers and its task.
pub(crate) struct Job {
    /// The entry's name.
    pub name: String,
    /// The run's `.part` file name.
    pub part: String,
    /// The output's Content-Type.
    pub content_type: &'static str,
    /// Readers and the task's progress.
    pub progress: watch::Sender<Progress>,
    readers: AtomicUsize,
    cancel: Notify,
    pid: AtomicU32,
}

impl Job {
    /// A run with its first reader.
    pub fn new(name: String, part: String, content_type: &'static str) -> Job {
        Job {
            name,
            part,
            content_type,
            progress: watch::channel(Progress::default()).0,
            readers: AtomicUsize::new(1),
            cancel: Notify::new(),
            pid: AtomicU32::new(0),
        }
    }

    /// One more reader (called under the manager's lock).
    pub fn join(&self) {
        self.readers.fetch_add(1, Ordering::AcqRel);
    }

    /// One reader fewer; the readers left (called under the manager's lock).
    pub fn leave(&self) -> usize {
        self.readers
            .fetch_sub(1, Ordering::AcqRel)
            .saturating_sub(1)
    }

    /// Asks the task to stop ffmpeg and clean up.
    pub fn cancel(&self) {
        self.cancel.notify_one();
    }

    /// Kills ffmpeg's process group at once (the server is stopping: there may be no
    /// runtime left to run the task), then asks the task to clean up.
    pub fn kill_now(&self) {
        kill_group(self.pid.load(Ordering::Acquire));
        self.cancel();
    }
}

/// SIGKILL to process group `pid` (ffmpeg leads its own group).
fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        if pid > 0 {
            // SAFETY: killpg has no memory effects; a stale group id fails with ESRCH.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Niceness of ffmpeg: playback on this machine and the server itself come first.
pub const NICENESS: i32 = 10;

/// Starts ffmpeg for `req`.
pub(crate) fn spawn(ffmpeg: &std::path::Path, req: &Request) -> Result<Child, TranscodeError> {
    let mut cmd = Command::new(ffmpeg);
    cmd.args(args::ffmpeg_args(&req.input, &req.profile))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            TranscodeError::FfmpegMissing(ffmpeg.to_owned())
        }
        _ => TranscodeError::Io(e),
    })?;
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        // SAFETY: setpriority has no memory effects; failure leaves ffmpeg at normal priority.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS as _, pid as libc::id_t, NICENESS);
        }
    }
    Ok(child)
}

/// Lines of ffmpeg's log kept for an error message.
const LOG_LINES: usize = 6;
/// How long the first fragment waits for the log line that gives the start shift.
const SHIFT_WAIT: Duration = Duration::from_millis(500);

/// The task of a run: copies ffmpeg's output into `writer` until ffmpeg exits or the run is
/// cancelled, then makes the entry or deletes the part. Holds `permit` throughout.
pub(crate) async fn run(
    inner: Arc<Inner>,
    job: Arc<Job>,
    mut child: Child,
    writer: std::fs::File,
    start_ms: u64,
    permit: OwnedSemaphorePermit,
) {
    job.pid.store(child.id().unwrap_or(0), Ordering::Release);
    let dir = inner.settings.cache_dir.clone();
    let (shift_tx, mut shift_rx) = oneshot::channel::<i64>();
    let log = child
        .stderr
        .take()
        .map(|stderr| tokio::spawn(read_log(stderr, shift_tx)));
    let mut writer = tokio::fs::File::from_std(writer);
    let mut watch = probe::FragmentWatch::default();
    let mut written: u64 = 0;
    let mut ready: Option<i64> = None;
    let mut buf = vec![0u8; 64 * 1024];
    let mut stdout = child.stdout.take();
    let outcome: Result<(), End> = async {
        let Some(out) = stdout.as_mut() else {
            return Err(End::Failed("no output pipe".into()));
        };
        loop {
            let n = tokio::select! {
                _ = job.cancel.notified() => return Err(End::Cancelled),
                n = out.read(&mut buf) => n.map_err(|e| End::Failed(e.to_string()))?,
            };
            if n == 0 {
                return Ok(());
            }
            writer
                .write_all(&buf[..n])
                .await
                .map_err(|e| End::Failed(format!("cache write: {e}")))?;
            writer
                .flush()
                .await
                .map_err(|e| End::Failed(format!("cache write: {e}")))?;
            written += n as u64;
            let first = watch.feed(&buf[..n]).is_some_and(|end| end <= written);
            if first && ready.is_none() {
                let shift = tokio::time::timeout(SHIFT_WAIT, &mut shift_rx)
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                ready = Some(shift);
            }
            job.progress.send_modify(|p| {
                p.written = written;
                p.ready = ready;
            });
        }
    }
    .await;
    let outcome = match outcome {
        Ok(()) => tokio::select! {
            _ = job.cancel.notified() => Err(End::Cancelled),
            status = child.wait() => match status {
                Ok(s) if s.success() && written > 0 => Ok(()),
                Ok(s) => Err(End::Failed(failure(log, s.to_string()).await)),
                Err(e) => Err(End::Failed(e.to_string())),
            },
        },
        Err(end) => Err(end),
    };
    if outcome.is_err() {
        kill_group(job.pid.load(Ordering::Acquire));
        let _ = child.kill().await;
    }
    drop(stdout);
    let part = dir.join(&job.part);
    let end = match outcome {
        Ok(()) => {
            let shift = ready.unwrap_or(0);
            finish(&inner, &job, written, start_ms.saturating_add_signed(shift));
            job.progress.send_modify(|p| p.ready = Some(shift));
            End::Complete
        }
        Err(end) => {
            let _ = tokio::fs::remove_file(&part).await;
            let mut st = inner.lock();
            if st
                .running
                .get(&job.name)
                .is_some_and(|j| Arc::ptr_eq(j, &job))
            {
                st.running.remove(&job.name);
            }
            if let End::Failed(why) = &end {
                tracing::warn!(entry = %job.name, %why, "transcode failed");
            }
            end
        }
    };
    job.pid.store(0, Ordering::Release);
    job.progress.send_modify(|p| p.end = Some(end));
    drop(permit);
}

/// The error message of a failed run: its log's last lines, else the exit status.
async fn failure(log: Option<tokio::task::JoinHandle<Vec<String>>>, status: String) -> String {
    let lines = match log {
        Some(task) => tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let text = lines.join("; ");
    if text.is_empty() {
        format!("ffmpeg exited with {status}")
    } else {
        text.chars().take(400).collect()
    }
}

/// Makes the finished run an entry (under the lock, so no reader sees it half-made) and
/// deletes what the cap no longer holds.
fn finish(inner: &Arc<Inner>, job: &Arc<Job>, size: u64, start_ms: u64) {
    let dir = &inner.settings.cache_dir;
    let mut st = inner.lock();
    let same = st
        .running
        .get(&job.name)
        .is_some_and(|j| Arc::ptr_eq(j, job));
    if same {
        st.running.remove(&job.name);
    }
    // The record first: an entry without one is deleted by the next start.
    let record = cache::meta_text(start_ms, job.content_type, size);
    let recorded = std::fs::write(dir.join(cache::meta_file(&job.name)), record);
    let renamed = recorded.and_then(|()| {
        std::fs::rename(dir.join(&job.part), dir.join(cache::entry_file(&job.name)))
    });
    if renamed.is_err() {
        let _ = std::fs::remove_file(dir.join(&job.part));
        let _ = std::fs::remove_file(dir.join(cache::meta_file(&job.name)));
        return;
    }
    st.clock += 1;
    let used = st.clock;
    st.done.insert(
        job.name.clone(),
        Done {
            size,
            used,
            start_ms,
            content_type: job.content_type,
        },
    );
    st.evict(dir, inner.settings.cache_max_bytes);
}

/// Reads ffmpeg's log to its end: sends the start shift from the first muxed packet, and
/// returns the last lines that are not per-packet debug lines.
async fn read_log(stderr: tokio::process::ChildStderr, shift: oneshot::Sender<i64>) -> Vec<String> {
    let mut shift = Some(shift);
    let mut kept: VecDeque<String> = VecDeque::new();
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(dts) = probe::muxed_dts(&line) {
            if let Some(tx) = shift.take() {
                let _ = tx.send(probe::start_shift(Some(dts)));
            }
            continue;
        }
        if probe::is_debug_line(&line) {
            continue;
        }
        if kept.len() == LOG_LINES {
            kept.pop_front();
        }
        kept.push_back(line.trim().chars().take(200).collect());
    }
    kept.into_iter().filter(|l| !l.is_empty()).collect()
}
