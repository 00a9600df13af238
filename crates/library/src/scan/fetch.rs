//! [`SourceFetch`]: the probe's blocking ranged reads, over the async [`Source`].
//!
//! The probe (lofty) is synchronous, so it runs on tokio's blocking pool and each of its
//! reads becomes one ranged `Source::open` driven by `Handle::block_on`, conditional on the
//! listed ETag (a changed object fails rather than mixing two versions).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bucketstream_core::source::Source;
use futures_util::StreamExt;
use tokio::runtime::Handle;

use crate::probe::RangeFetch;

/// Ranged reads of one object version, counted.
pub struct SourceFetch {
    /// The runtime the source's client lives on.
    pub handle: Handle,
    /// Where the object is.
    pub source: Arc<Source>,
    /// Its key.
    pub key: String,
    /// Its listed ETag.
    pub etag: Option<String>,
    /// Its listed size.
    pub size: u64,
    /// Bytes received so far (shared with the scan's totals).
    pub fetched: Arc<AtomicU64>,
}

impl SourceFetch {
    /// The whole object (folder art), refused beyond `max` bytes.
    pub fn all(&self, max: u64) -> io::Result<Vec<u8>> {
        if self.size == 0 || self.size > max {
            return Err(io::Error::other(format!(
                "{} bytes: not between 1 and {max}",
                self.size
            )));
        }
        self.fetch(0, self.size - 1)
    }
}

impl RangeFetch for SourceFetch {
    fn fetch(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        if start > end || end >= self.size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "range outside the object",
            ));
        }
        let want = usize::try_from(end - start + 1).map_err(io::Error::other)?;
        self.handle.block_on(async {
            let body = self
                .source
                .open(
                    &self.key,
                    self.etag.as_deref(),
                    self.size,
                    Some((start, end)),
                )
                .await
                .map_err(|e| io::Error::other(e.to_string()))?;
            let mut out = Vec::with_capacity(want);
            let mut stream = body.stream;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                self.fetched
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                if out.len() + chunk.len() > want {
                    return Err(io::Error::other("the store sent more than asked"));
                }
                out.extend_from_slice(&chunk);
            }
            if out.len() != want {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the store sent less than asked",
                ));
            }
            Ok(out)
        })
    }
}
