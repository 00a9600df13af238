//! A `Read + Seek` view of one object over ranged reads: fetches aligned blocks on demand,
//! keeps what it fetched (bounded by the budget), counts every byte and refuses once the
//! per-object budget or time limit is spent, so a tag parser can never pull a whole file.

use std::io::{self, Read, Seek, SeekFrom};
use std::time::Instant;

use super::RangeFetch;

/// Bytes per ranged read unless a caller asks for a larger span.
pub(crate) const BLOCK: u64 = 32 * 1024;

/// A cached span of the object: `data` holds bytes `start..start + data.len()`.
struct Segment {
    start: u64,
    data: Vec<u8>,
}

impl Segment {
    fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }
}

/// `Read + Seek` over a [`RangeFetch`], with a byte budget and a deadline.
pub(crate) struct RangedReader<'a> {
    fetch: &'a dyn RangeFetch,
    size: u64,
    pos: u64,
    /// Sorted, non-overlapping spans already fetched.
    segments: Vec<Segment>,
    fetched: u64,
    /// Bytes that may be fetched in all (the budget plus any art allowance).
    limit: u64,
    deadline: Instant,
}

impl<'a> RangedReader<'a> {
    /// A reader of an object of `size` bytes that fetches at most `limit` bytes before `deadline`.
    pub(crate) fn new(fetch: &'a dyn RangeFetch, size: u64, limit: u64, deadline: Instant) -> Self {
        Self {
            fetch,
            size,
            pos: 0,
            segments: Vec::new(),
            fetched: 0,
            limit,
            deadline,
        }
    }

    /// Bytes fetched so far.
    pub(crate) fn fetched(&self) -> u64 {
        self.fetched
    }

    /// The object's size.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Raises the fetch limit by `extra` bytes (the art a header declares), never above `cap`.
    pub(crate) fn allow(&mut self, extra: u64, cap: u64) {
        self.limit = self.limit.saturating_add(extra).min(cap.max(self.limit));
    }

    /// Makes sure `start..end` (exclusive) is cached, fetching the missing parts as whole
    /// spans (one ranged read per gap, each at least a block). Errors past the limit.
    pub(crate) fn ensure(&mut self, start: u64, end: u64) -> io::Result<()> {
        self.ensure_span(start, end, true)
    }

    /// Like [`Self::ensure`]; with `align` false the gaps are fetched exactly, not as blocks
    /// (for small sampling windows).
    fn ensure_span(&mut self, start: u64, end: u64, align: bool) -> io::Result<()> {
        let end = end.min(self.size);
        let mut at = start;
        // Bounded: every pass either moves `at` past a segment or fills the gap before the next.
        for _ in 0..2 * self.segments.len() + 4 {
            if at >= end {
                return Ok(());
            }
            let idx = self.segments.partition_point(|s| s.end() <= at);
            match self.segments.get(idx) {
                Some(seg) if seg.start <= at => at = seg.end(),
                next => {
                    let next_start = next.map_or(self.size, |s| s.start);
                    // Whole blocks, so that gaps between cached spans are whole blocks too.
                    let want_end = if align {
                        end.max(at + 1).div_ceil(BLOCK).saturating_mul(BLOCK)
                    } else {
                        end
                    }
                    .min(next_start)
                    .min(self.size);
                    // Align the start down to a block when that does not overlap a segment.
                    let prev_end = idx
                        .checked_sub(1)
                        .and_then(|i| self.segments.get(i))
                        .map_or(0, Segment::end);
                    let aligned = if align {
                        (at / BLOCK * BLOCK).max(prev_end)
                    } else {
                        at
                    };
                    self.fetch_span(aligned, want_end)?;
                    at = want_end;
                }
            }
        }
        if at >= end {
            Ok(())
        } else {
            Err(io::Error::other("range not cached after fetch"))
        }
    }

    /// Fetches `start..end` (exclusive, not cached yet) and inserts it.
    fn fetch_span(&mut self, start: u64, end: u64) -> io::Result<()> {
        if end <= start {
            return Ok(());
        }
        let len = end - start;
        if self.fetched.saturating_add(len) > self.limit {
            return Err(io::Error::other(format!(
                "read budget spent ({} of {} bytes fetched, {len} more wanted)",
                self.fetched, self.limit
            )));
        }
        if Instant::now() >= self.deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "time limit for this object passed",
            ));
        }
        let data = self.fetch.fetch(start, end - 1)?;
        self.fetched += len;
        if data.len() as u64 != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("asked for {len} bytes at {start}, got {}", data.len()),
            ));
        }
        let idx = self.segments.partition_point(|s| s.start < start);
        self.segments.insert(idx, Segment { start, data });
        Ok(())
    }

    /// The bytes already cached from offset 0 on, up to the first gap (no fetch).
    pub(crate) fn cached_head(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for seg in &self.segments {
            if seg.start != out.len() as u64 {
                break;
            }
            out.extend_from_slice(&seg.data);
        }
        out
    }

    /// Copies cached bytes at `pos` into `buf`; returns how many (0 when not cached).
    fn copy_cached(&self, pos: u64, buf: &mut [u8]) -> usize {
        let idx = self.segments.partition_point(|s| s.end() <= pos);
        let Some(seg) = self.segments.get(idx) else {
            return 0;
        };
        if seg.start > pos {
            return 0;
        }
        let from = (pos - seg.start) as usize;
        let n = buf.len().min(seg.data.len() - from);
        buf[..n].copy_from_slice(&seg.data[from..from + n]);
        n
    }

    /// Bytes `start..end` (exclusive, clipped to the object), fetched if needed.
    pub(crate) fn bytes_at(&mut self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        self.bytes_span(start, end, true)
    }

    /// Bytes `start..end`, fetching only the missing bytes themselves (no block rounding).
    pub(crate) fn bytes_exact(&mut self, start: u64, end: u64) -> io::Result<Vec<u8>> {
        self.bytes_span(start, end, false)
    }

    fn bytes_span(&mut self, start: u64, end: u64, align: bool) -> io::Result<Vec<u8>> {
        let end = end.min(self.size);
        if start >= end {
            return Ok(Vec::new());
        }
        self.ensure_span(start, end, align)?;
        let mut out = vec![0u8; (end - start) as usize];
        let mut done = 0;
        while done < out.len() {
            let n = self.copy_cached(start + done as u64, &mut out[done..]);
            if n == 0 {
                return Err(io::Error::other("range not cached after fetch"));
            }
            done += n;
        }
        Ok(out)
    }
}

impl Read for RangedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.size - self.pos);
        let mut n = self.copy_cached(self.pos, &mut buf[..want as usize]);
        if n == 0 {
            self.ensure(self.pos, self.pos + want)?;
            n = self.copy_cached(self.pos, &mut buf[..want as usize]);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangedReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the object",
            )),
        }
    }
}
