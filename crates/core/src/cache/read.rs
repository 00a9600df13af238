//! The reader: walks a byte range chunk by chunk, from disk or behind a fill, with read-ahead.
//!
//! Each step yields at most [`PIECE`] bytes. Entering a chunk triggers read-ahead of the next
//! chunks of the request (bounded by [`super::DEFAULT_READ_AHEAD`]); a reader that stops
//! pulling (a paused player) stops triggering more.

use std::io::{self, SeekFrom};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::fill::{error_from, Fill, FillState};
use super::{Inner, ObjectRef, Slot};
use crate::error::{Error, Result};
use crate::source::{ObjectBody, Source};

/// Largest piece yielded at once.
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
}

/// An open chunk.
enum Open {
    Disk(tokio::fs::File),
    Filling(Arc<Fill>),
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
        let cs = self.inner.chunk_size;
        let index = self.pos / cs;
        let within = self.pos - index * cs;
        let last = self.end / cs;
        if self.current.as_ref().map(|(i, _)| *i) != Some(index) {
            let until = last.min(index + self.inner.read_ahead);
            let slot = self.inner.slot(&self.source, &self.obj, index, until)?;
            if index < until {
                self.inner
                    .prefetch(&self.source, &self.obj, index + 1, until);
            }
            let open = match slot {
                Slot::Disk { path, len } => {
                    self.inner.stats.hit(&self.obj.id, true);
                    debug_assert_eq!(len, self.inner.chunk_len(&self.obj, index));
                    Open::Disk(tokio::fs::File::open(path).await?)
                }
                Slot::Filling(fill) => {
                    self.inner.stats.hit(&self.obj.id, false);
                    Open::Filling(fill)
                }
            };
            self.current = Some((index, open));
            if let Some((_, Open::Disk(file))) = self.current.as_mut() {
                file.seek(SeekFrom::Start(within)).await?;
            }
        }
        let chunk_end = ((index + 1) * cs - 1).min(self.end);
        let want = ((chunk_end - self.pos + 1) as usize).min(PIECE);
        let bytes = match self.current.as_mut().map(|(_, open)| open) {
            Some(Open::Disk(file)) => {
                let mut buf = BytesMut::zeroed(want);
                file.read_exact(&mut buf).await?;
                buf.freeze()
            }
            Some(Open::Filling(fill)) => read_filling(fill.clone(), within, want).await?,
            None => return Err(Error::NotFound),
        };
        self.pos += bytes.len() as u64;
        self.inner.stats.served(&self.obj.id, bytes.len() as u64);
        Ok(bytes)
    }
}

/// Reads up to `want` bytes at `offset` of a chunk being filled, waiting for them to exist.
async fn read_filling(fill: Arc<Fill>, offset: u64, want: usize) -> Result<Bytes> {
    let mut state = fill.state.clone();
    loop {
        let have = match &*state.borrow_and_update() {
            FillState::Writing(n) | FillState::Done(n) => *n,
            FillState::Failed(code, message) => return Err(error_from(code, message.clone())),
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
