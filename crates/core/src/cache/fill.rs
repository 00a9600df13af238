//! Single-flight fetching: one ranged GetObject fills a run of missing chunks, readers follow.
//!
//! A chunk being fetched is a [`Fill`]: a temporary file plus a watch channel that publishes
//! how many bytes are in it. Every reader of that chunk (N clients, read-ahead) waits on the
//! same fill and reads only bytes already written (positional reads of the shared file), so a
//! filling chunk never serves bytes it does not have. When the chunk's length checks out the
//! file is made read-only, renamed into place and indexed (from then on it is never written
//! again, so it may be mapped); on any error it is deleted and readers get the error.

use std::os::unix::fs::{FileExt, PermissionsExt};
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
    /// The fetch failed: (code, message); nothing was indexed.
    Failed(&'static str, String),
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

/// Rebuilds an error for a reader from a fill failure (errors are not `Clone`).
pub fn error_from(code: &str, message: String) -> Error {
    match code {
        "endpoint_unreachable" => Error::Unreachable(message),
        "changed" => Error::Changed,
        "not_found" => Error::NotFound,
        "bad_credentials" => Error::BadCredentials(message),
        "access_denied" => Error::AccessDenied(message),
        "no_such_bucket" => Error::NoSuchBucket(message),
        _ => Error::Upstream(message),
    }
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
        source.open(&obj.key, obj.etag.as_deref(), Some((start, end))),
    )
    .await;
    let mut body = match opened {
        Ok(Ok(body)) => body.stream,
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
            let fill = w.file.clone();
            let at = written;
            let wrote =
                tokio::task::spawn_blocking(move || fill.file.write_all_at(&piece, at)).await;
            match wrote {
                Ok(Ok(())) => {
                    written += take as u64;
                    inner.stats.fetched(&obj.id, take as u64);
                    let _ = w.tx.send(FillState::Writing(written));
                }
                Ok(Err(e)) => break Err(Error::Io(e)),
                Err(e) => break Err(Error::Io(std::io::Error::other(e))),
            }
        };
        match outcome {
            Ok(()) => finish(&inner, w),
            Err(err) => {
                let mut rest = vec![w];
                rest.extend(writers);
                return fail_all(&inner, rest, &err);
            }
        }
        current = writers.next();
    }
}

/// Renames a complete chunk into place, indexes it and wakes its readers.
fn finish(inner: &Inner, w: FillWriter) {
    // Read-only once complete: a guard against anyone truncating a file the server maps
    // (see `super::map`); the folder's own permissions still let eviction unlink it.
    if let Err(err) = w
        .file
        .file
        .set_permissions(std::fs::Permissions::from_mode(0o444))
    {
        tracing::debug!(error = %err, "cannot make a cached chunk read-only");
    }
    let mut store = inner.lock_store();
    let path = store.path(w.id, w.len);
    let ok = w
        .file
        .file
        .metadata()
        .map(|m| m.len() == w.len)
        .unwrap_or(false)
        && std::fs::rename(&w.tmp, &path).is_ok();
    if ok {
        store.insert(w.id, w.len);
        let freed = store.evict();
        inner.stats.evicted(freed);
    } else {
        let _ = std::fs::remove_file(&w.tmp);
    }
    drop(store);
    inner.lock_fills().remove(&w.id);
    let state = if ok {
        FillState::Done(w.len)
    } else {
        FillState::Failed("io", "the cache could not store a chunk".into())
    };
    let _ = w.tx.send(state);
}

fn fail_all(inner: &Inner, writers: Vec<FillWriter>, err: &Error) {
    tracing::warn!(error = %err, chunks = writers.len(), "fetch failed; nothing cached");
    let mut fills = inner.lock_fills();
    for w in writers {
        let _ = std::fs::remove_file(&w.tmp);
        fills.remove(&w.id);
        let _ = w.tx.send(FillState::Failed(err.code(), err.to_string()));
    }
}
