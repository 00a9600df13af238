//! The reader: walks a byte range chunk by chunk, from disk or behind a fill, with read-ahead.
//!
//! Each step yields at most [`PIECE`] bytes. A complete chunk is one map of its file
//! ([`super::map`]): its pieces are slices of it, with no copy and no thread hop (only mapping
//! a chunk the store does not keep mapped yet goes to the blocking pool, once per chunk). A
//! chunk being filled is read from the fill's file, only up to the bytes written; once that
//! fill is done the reader switches to the chunk's map. Entering a chunk triggers read-ahead
//! of the next chunks of the request (bounded by [`super::DEFAULT_READ_AHEAD`]); a reader
//! that stops pulling (a paused player) stops triggering more.
//!
//! The cache is an optimisation, never a reason for playback to fail: when its own disk fails
//! (a fill could not write — disk full even after evicting — or a chunk cannot be created or
//! read back: every [`Error::Io`] on the cached path), the reader streams the rest of its range
//! straight from the store with one GetObject (checked like every other,
//! [`crate::source::Source::open`]) and caches none of it. Store errors stay errors.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;

use super::fill::{Fill, FillState, STALL_LIMIT};
use super::store::ChunkId;
use super::{map, Inner, ObjectRef, Slot};
use crate::error::{Error, Result};
use crate::source::{ByteStream, ObjectBody, Source};

/// Largest piece yielded at once. The connection copies each piece into its write buffer
/// (hyper flattens unless the IO writes vectored), so this also bounds that buffer per
/// connection.
const PIECE: usize = 256 * 1024;

/// Where the reader is.
struct Reader {
    inner: Arc<Inner>,
    source: Arc<Source>,
    obj: Arc<ObjectRef>,
    /// Next byte to yield.
    pos: u64,
    /// Last byte to yield (inclusive).
    end: u64,
    /// The chunk being read and its open source.
    current: Option<(u64, Open)>,
    /// The rest of the range straight from the store, once the cache failed this reader.
    direct: Option<ByteStream>,
    /// Chunks this reader has entered: its read-ahead grows with them (see [`ahead`]).
    entered: u32,
}

/// Chunks to read ahead of a reader that has entered `entered` chunks, with at most `max`:
/// none for its first chunk, then 1, 3, 7… up to `max`. Like the kernel's readahead, the
/// window grows only as the reader shows it reads on: a client that asks for `bytes=N-` and
/// stops after a few kilobytes (a seek, a probe reading an index, ffmpeg finding a frame)
/// costs one chunk from the store, not a whole window, while playback reaches the full window
/// within a few chunks.
fn ahead(entered: u32, max: u64) -> u64 {
    (1u64 << entered.min(16)).saturating_sub(1).min(max)
}

/// An open chunk.
enum Open {
    /// A complete chunk: all its bytes (a map of its file).
    Disk(Bytes),
    /// A chunk being fetched, and whether switching to its map was tried since it finished.
    Filling(Arc<Fill>, bool),
}

/// Opens a reader and waits for its first piece.
pub async fn open(
    inner: Arc<Inner>,
    source: Arc<Source>,
    obj: Arc<ObjectRef>,
    start: u64,
    end: u64,
) -> Result<ObjectBody> {
    if start > end || end >= obj.size {
        return Err(Error::NotFound);
    }
    let mut reader = Reader {
        inner,
        source,
        obj,
        pos: start,
        end,
        current: None,
        direct: None,
        entered: 0,
    };
    let first = match reader.next_piece().await {
        Some(Ok(bytes)) => bytes,
        Some(Err(err)) => return Err(err),
        None => Bytes::new(),
    };
    let rest = futures_util::stream::unfold(reader, |mut r| async move {
        r.next_piece()
            .await
            .map(|res| (res.map_err(|e| io::Error::other(e.to_string())), r))
    });
    let stream =
        futures_util::StreamExt::chain(futures_util::stream::once(async move { Ok(first) }), rest);
    Ok(ObjectBody {
        stream: Box::pin(stream),
        len: end - start + 1,
    })
}

impl Reader {
    async fn next_piece(&mut self) -> Option<Result<Bytes>> {
        if self.pos > self.end {
            return None;
        }
        Some(self.piece().await)
    }

    async fn piece(&mut self) -> Result<Bytes> {
        if self.direct.is_none() {
            match self.cached_piece().await {
                Err(Error::Io(err)) => {
                    tracing::warn!(id = %self.obj.id, error = %err,
                        "the cache failed this read; streaming the rest from the store");
                    self.open_direct().await?;
                }
                other => return other,
            }
        }
        self.direct_piece().await
    }

    /// Opens the rest of the range (`pos..=end`) at the store, bypassing the cache.
    async fn open_direct(&mut self) -> Result<()> {
        self.current = None;
        self.inner.stats.get_request(&self.obj.id);
        let want = self.end - self.pos + 1;
        let opened = tokio::time::timeout(
            STALL_LIMIT,
            self.source.open(
                &self.obj.key,
                self.obj.etag.as_deref(),
                self.obj.size,
                Some((self.pos, self.end)),
            ),
        )
        .await
        .map_err(|_| {
            Error::Unreachable(format!(
                "the store sent no answer within {} s",
                STALL_LIMIT.as_secs()
            ))
        })??;
        if opened.len != want {
            return Err(Error::StoreBadAnswer(format!(
                "{} bytes where {want} were asked",
                opened.len
            )));
        }
        self.direct = Some(opened.stream);
        Ok(())
    }

    /// The next piece of the pass-through stream.
    async fn direct_piece(&mut self) -> Result<Bytes> {
        let Some(stream) = self.direct.as_mut() else {
            return Err(Error::NotFound);
        };
        let mut bytes = match tokio::time::timeout(STALL_LIMIT, stream.next()).await {
            Ok(Some(Ok(bytes))) => bytes,
            Ok(Some(Err(e))) => return Err(Error::Upstream(format!("the transfer broke: {e}"))),
            Ok(None) => return Err(Error::Upstream("the store ended the transfer early".into())),
            Err(_) => {
                return Err(Error::Unreachable(format!(
                    "the transfer stalled for {} s",
                    STALL_LIMIT.as_secs()
                )))
            }
        };
        // Never past the range (the store's length was checked; this is a second guard).
        let left = usize::try_from(self.end - self.pos + 1).unwrap_or(usize::MAX);
        bytes.truncate(left);
        let n = bytes.len() as u64;
        self.pos += n;
        self.inner.stats.fetched(&self.obj.id, n);
        self.inner.stats.served(&self.obj.id, n);
        self.inner.stats.bypassed(n);
        Ok(bytes)
    }

    /// The next piece from the cache (a complete chunk, or one being filled).
    async fn cached_piece(&mut self) -> Result<Bytes> {
        let cs = self.inner.chunk_size;
        let index = self.pos / cs;
        let within = self.pos - index * cs;
        let last = self.end / cs;
        if self.current.as_ref().map(|(i, _)| *i) != Some(index) {
            let window = ahead(self.entered, self.inner.read_ahead);
            self.entered = self.entered.saturating_add(1);
            let open = self.enter(index, last.min(index + window)).await?;
            self.current = Some((index, open));
        }
        // A fill that has finished: serve the rest of its chunk from the chunk's map (once
        // tried; if the chunk is already evicted, the fill's file still has the bytes).
        if let Some((_, Open::Filling(fill, tried @ false))) = &mut self.current {
            if matches!(*fill.state.borrow(), FillState::Done(_)) {
                *tried = true;
                if let Some(bytes) = self.complete(index).await {
                    self.current = Some((index, Open::Disk(bytes)));
                }
            }
        }
        let chunk_end = ((index + 1) * cs - 1).min(self.end);
        let want = ((chunk_end - self.pos + 1) as usize).min(PIECE);
        let bytes = match self.current.as_ref().map(|(_, open)| open) {
            Some(Open::Disk(chunk)) => {
                let from = within as usize;
                if from + want > chunk.len() {
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "a cached chunk is shorter than its object says",
                    )));
                }
                chunk.slice(from..from + want)
            }
            Some(Open::Filling(fill, _)) => read_filling(fill.clone(), within, want).await?,
            None => return Err(Error::NotFound),
        };
        self.pos += bytes.len() as u64;
        self.inner.stats.served(&self.obj.id, bytes.len() as u64);
        Ok(bytes)
    }

    /// Opens chunk `index` (fetching it with the missing chunks up to `until` if need be) and
    /// starts read-ahead up to `until`.
    async fn enter(&mut self, index: u64, until: u64) -> Result<Open> {
        let mut retried = false;
        loop {
            let slot = self.inner.slot(&self.source, &self.obj, index, until)?;
            if index < until && !retried {
                self.inner
                    .prefetch(&self.source, &self.obj, index + 1, until);
            }
            match slot {
                Slot::Disk { path, len, map } => {
                    debug_assert_eq!(len, self.inner.chunk_len(&self.obj, index));
                    match self.map(index, path, len, map).await {
                        Ok(bytes) => {
                            self.inner.stats.hit(&self.obj.id, true);
                            return Ok(Open::Disk(bytes));
                        }
                        // Evicted between the lookup and the open: fetch it again, once.
                        Err(Error::Io(e)) if e.kind() == io::ErrorKind::NotFound && !retried => {
                            retried = true;
                        }
                        Err(err) => return Err(err),
                    }
                }
                Slot::Filling(fill) => {
                    self.inner.stats.hit(&self.obj.id, false);
                    return Ok(Open::Filling(fill, false));
                }
            }
        }
    }

    /// The bytes of complete chunk `index`: the store's kept map, or a new map made on the
    /// blocking pool (and kept).
    async fn map(
        &mut self,
        index: u64,
        path: PathBuf,
        len: u64,
        kept: Option<Bytes>,
    ) -> Result<Bytes> {
        if let Some(bytes) = kept {
            return Ok(bytes);
        }
        let chunk = tokio::task::spawn_blocking(move || map::open(&path, len))
            .await
            .map_err(|e| Error::Io(io::Error::other(e)))??;
        if chunk.mapped {
            let dropped = self
                .inner
                .lock_store()
                .keep_map(self.id(index), chunk.bytes.clone());
            drop(dropped); // unmapped here, outside the lock
        }
        Ok(chunk.bytes)
    }

    /// The map of chunk `index` once its fill is done, if the store still has it.
    async fn complete(&mut self, index: u64) -> Option<Bytes> {
        let id = self.id(index);
        let (path, len, kept) = {
            let mut store = self.inner.lock_store();
            let (len, kept) = store.touch(id)?;
            (store.path(id, len), len, kept)
        };
        self.map(index, path, len, kept).await.ok()
    }

    fn id(&self, index: u64) -> ChunkId {
        ChunkId {
            object: self.obj.hash,
            index,
        }
    }
}

/// Reads up to `want` bytes at `offset` of a chunk being filled, waiting for them to exist.
async fn read_filling(fill: Arc<Fill>, offset: u64, want: usize) -> Result<Bytes> {
    let mut state = fill.state.clone();
    loop {
        let have = match &*state.borrow_and_update() {
            FillState::Writing(n) | FillState::Done(n) => *n,
            FillState::Failed(err) => return Err(Error::clone(err)),
        };
        if have > offset {
            let n = ((have - offset) as usize).min(want);
            let fill = fill.clone();
            return tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; n];
                std::os::unix::fs::FileExt::read_exact_at(&fill.file, &mut buf, offset)?;
                Ok::<_, io::Error>(Bytes::from(buf))
            })
            .await
            .map_err(|e| Error::Io(io::Error::other(e)))?
            .map_err(Error::Io);
        }
        if state.changed().await.is_err() {
            return Err(Error::Upstream("the fetch ended without finishing".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_grows_as_the_reader_reads_on() {
        let table = [
            (0, 8, 0),
            (1, 8, 1),
            (2, 8, 3),
            (3, 8, 7),
            (4, 8, 8),
            (40, 8, 8),
            (9, 2, 2),
        ];
        for (entered, max, want) in table {
            assert_eq!(
                ahead(entered, max),
                want,
                "{entered} entered, at most {max}"
            );
        }
    }

    /// A failed fill hands each reader its error as it was: a folder, configuration or disk
    /// error is not turned into `upstream` (the old code-string round trip did that).
    #[tokio::test]
    async fn a_failed_fill_gives_readers_the_error_itself() {
        let errors = [
            Error::Folder {
                path: "/srv/Music".into(),
                reason: "gone".into(),
            },
            Error::Config("bad".into()),
            Error::Io(io::Error::new(io::ErrorKind::StorageFull, "disk full")),
            Error::Changed,
            Error::Unreachable("silent".into()),
            Error::StoreBadAnswer("short".into()),
        ];
        for err in errors {
            let (code, text) = (err.code(), err.to_string());
            let (tx, rx) = tokio::sync::watch::channel(FillState::Writing(0));
            let fill = Arc::new(Fill {
                file: tempfile::tempfile().expect("tempfile"),
                state: rx,
            });
            tx.send(FillState::Failed(Arc::new(err))).expect("send");
            for _ in 0..2 {
                let got = read_filling(fill.clone(), 0, 10).await.expect_err("failed");
                assert_eq!((got.code(), got.to_string()), (code, text.clone()));
            }
        }
    }
}
