//! Single-flight fetching: one ranged GetObject fills a run of missing chunks, readers follow.
//!
//! A chunk being fetched is a [`Fill`]: a temporary file plus a watch channel that publishes
//! how many bytes are in it. Every reader of that chunk (N clients, read-ahead) waits on the
//! same fill and reads only bytes already written (positional reads of the shared file), so a
//! filling chunk never serves bytes it does not have. When the chunk's length checks out the
//! file is made read-only, flushed to disk (`fsync`, so a power loss cannot leave a
//! right-length file of zeros under a chunk's name), renamed into place (and the folder
//! flushed) and indexed; from then on it is never written again, so it may be mapped. On any
//! error it is deleted and readers get the error.
//!
//! The store's answer is checked before a byte is written ([`crate::source::Source::open`]:
//! status, `Content-Range`, length, ETag), so another range or another version is never
//! cached. When the cache disk is full (`ENOSPC`, `EDQUOT`) the least recently used chunks are
//! evicted and the write tried once more; if it still fails, or the cache cannot write for
//! another reason, the fill fails with an [`Error::Io`], the cache is marked degraded, and its
//! readers stream the rest of their range straight from the store ([`super::read`]).

use std::io;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;

use super::store::ChunkId;
use super::{Inner, ObjectRef};
use crate::error::Error;
use crate::source::Source;

/// How long the source may stay silent (no header, no body byte) before a fetch fails.
pub const STALL_LIMIT: Duration = Duration::from_secs(20);

/// Progress of a fill.
#[derive(Debug, Clone)]
pub enum FillState {
    /// Bytes written so far.
    Writing(u64),
    /// All bytes written and the chunk indexed.
    Done(u64),
    /// The fetch failed; nothing was indexed. Each reader gets a copy of the error as it is
    /// (an [`Error::Io`] means the cache's own disk failed: readers bypass the cache).
    Failed(Arc<Error>),
}

/// A chunk being fetched.
pub struct Fill {
    /// The temporary file, shared for positional reads.
    pub file: std::fs::File,
    /// Progress.
    pub state: watch::Receiver<FillState>,
}

/// The writer side, kept by the fetch task.
pub struct FillWriter {
    pub id: ChunkId,
    pub len: u64,
    pub tmp: std::path::PathBuf,
    pub file: Arc<Fill>,
    pub tx: watch::Sender<FillState>,
}

/// Whether a write failed because the disk (or the user's quota) is full.
pub fn disk_full(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// Fetches chunks `writers` (consecutive) of `obj` with one ranged GET and publishes progress.
pub async fn run(
    inner: Arc<Inner>,
    source: Arc<Source>,
    obj: Arc<ObjectRef>,
    writers: Vec<FillWriter>,
) {
    let (Some(first), Some(last)) = (writers.first(), writers.last()) else {
        return;
    };
    let start = first.id.index * inner.chunk_size;
    let end = last.id.index * inner.chunk_size + last.len - 1;
    inner.stats.get_request(&obj.id);
    let opened = tokio::time::timeout(
        STALL_LIMIT,
        source.open(&obj.key, obj.etag.as_deref(), obj.size, Some((start, end))),
    )
    .await;
    let mut body = match opened {
        Ok(Ok(body)) if body.len == end - start + 1 => body.stream,
        Ok(Ok(body)) => {
            let err = Error::StoreBadAnswer(format!(
                "{} bytes where {} were asked",
                body.len,
                end - start + 1
            ));
            return fail_all(&inner, writers, &err);
        }
        Ok(Err(err)) => return fail_all(&inner, writers, &err),
        Err(_) => {
            let err = Error::Unreachable(format!(
                "the store sent no answer within {} s",
                STALL_LIMIT.as_secs()
            ));
            return fail_all(&inner, writers, &err);
        }
    };
    let mut writers = writers.into_iter();
    let mut current = writers.next();
    let mut pending = bytes::Bytes::new();
    while let Some(w) = current.take() {
        let mut written = 0u64;
        let outcome: Result<(), Error> = loop {
            if written == w.len {
                break Ok(());
            }
            if pending.is_empty() {
                match tokio::time::timeout(STALL_LIMIT, body.next()).await {
                    Ok(Some(Ok(bytes))) => pending = bytes,
                    Ok(Some(Err(e))) => {
                        break Err(Error::Upstream(format!("the transfer broke: {e}")))
                    }
                    Ok(None) => {
                        break Err(Error::Upstream("the store ended the transfer early".into()))
                    }
                    Err(_) => {
                        break Err(Error::Unreachable(format!(
                            "the transfer stalled for {} s",
                            STALL_LIMIT.as_secs()
                        )))
                    }
                }
                continue;
            }
            let take = pending.len().min((w.len - written) as usize);
            let piece = pending.split_to(take);
            let mut wrote = write_at(&w.file, piece.clone(), written).await;
            if matches!(&wrote, Err(e) if disk_full(e)) {
                // Make room for the rest of this run (least recently used chunks first:
                // chunks being read were just touched, chunks being filled are not indexed
                // yet), then try once more.
                let need = end + 1 - (w.id.index * inner.chunk_size + written);
                let freed = inner.lock_store().evict_bytes(need);
                inner.stats.evicted(freed);
                if freed > 0 {
                    wrote = write_at(&w.file, piece, written).await;
                }
            }
            match wrote {
                Ok(()) => {
                    written += take as u64;
                    inner.stats.fetched(&obj.id, take as u64);
                    // The last bytes are published with `Done`, once the chunk is durable
                    // under its name: a reader that got a whole chunk finds it indexed.
                    if written < w.len {
                        let _ = w.tx.send(FillState::Writing(written));
                    }
                }
                Err(e) => break Err(Error::Io(e)),
            }
        };
        match outcome {
            Ok(()) => {
                // Flushing to disk takes a while: the transfer goes on meanwhile, and the
                // chunk's readers wait for it only at the chunk's end.
                tokio::spawn(finish(inner.clone(), w));
            }
            Err(err) => {
                let mut rest = vec![w];
                rest.extend(writers);
                return fail_all(&inner, rest, &err);
            }
        }
        current = writers.next();
    }
}

/// Writes `piece` at `at` of a fill's file, on the blocking pool.
async fn write_at(fill: &Arc<Fill>, piece: bytes::Bytes, at: u64) -> io::Result<()> {
    let fill = fill.clone();
    tokio::task::spawn_blocking(move || fill.file.write_all_at(&piece, at))
        .await
        .map_err(io::Error::other)?
}

/// Makes a complete chunk durable under its name (blocking): read-only, length checked,
/// flushed, renamed, the folder flushed.
fn place(file: &std::fs::File, tmp: &Path, path: &Path, len: u64) -> io::Result<()> {
    // Read-only once complete: a guard against anyone truncating a file the server maps
    // (see `super::map`); the folder's own permissions still let eviction unlink it.
    if let Err(err) = file.set_permissions(std::fs::Permissions::from_mode(0o444)) {
        tracing::debug!(error = %err, "cannot make a cached chunk read-only");
    }
    let actual = file.metadata()?.len();
    if actual != len {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a chunk file has {actual} bytes where {len} were written"),
        ));
    }
    // Data before name: after a power loss the name exists only with its bytes.
    file.sync_all()?;
    std::fs::rename(tmp, path)?;
    // The rename itself; if this fails the chunk may be missing after a crash, never wrong.
    if let Some(dir) = path.parent() {
        if let Err(err) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
            tracing::debug!(error = %err, "cannot flush the cache folder");
        }
    }
    Ok(())
}

/// Flushes a complete chunk, renames it into place, indexes it and wakes its readers.
async fn finish(inner: Arc<Inner>, w: FillWriter) {
    let path = inner.lock_store().path(w.id, w.len);
    let (fill, tmp, len) = (w.file.clone(), w.tmp.clone(), w.len);
    let placed = tokio::task::spawn_blocking(move || place(&fill.file, &tmp, &path, len))
        .await
        .map_err(io::Error::other)
        .and_then(|r| r);
    let state = match placed {
        Ok(()) => {
            let mut store = inner.lock_store();
            store.insert(w.id, w.len);
            let freed = store.evict();
            drop(store);
            inner.stats.evicted(freed);
            inner.stats.recovered();
            FillState::Done(w.len)
        }
        Err(err) => {
            let _ = std::fs::remove_file(&w.tmp);
            let message = format!("the cache could not store a chunk: {err}");
            inner.stats.degrade(message.clone());
            FillState::Failed(Arc::new(Error::Io(io::Error::other(message))))
        }
    };
    inner.lock_fills().remove(&w.id);
    let _ = w.tx.send(state);
}

fn fail_all(inner: &Inner, writers: Vec<FillWriter>, err: &Error) {
    if let Error::Io(e) = err {
        // Our own disk, not the store: readers bypass the cache.
        inner
            .stats
            .degrade(format!("the cache could not write a chunk: {e}"));
    }
    tracing::warn!(error = %err, chunks = writers.len(), "fetch failed; nothing cached");
    let shared = Arc::new(err.clone());
    let mut fills = inner.lock_fills();
    for w in writers {
        let _ = std::fs::remove_file(&w.tmp);
        fills.remove(&w.id);
        let _ = w.tx.send(FillState::Failed(shared.clone()));
    }
}
