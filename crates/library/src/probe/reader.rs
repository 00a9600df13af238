//! A `Read + Seek` view of one object over ranged reads: fetches aligned blocks on demand,
//! keeps what it fetched (bounded by the budget), counts every byte and refuses once the
//! per-object budget or time limit is spent, so a tag parser can never pull a whole file.

use std::io::{self, Read, Seek, SeekFrom};
use std::time::Instant;

use super::RangeFetch;

/// Bytes per ranged read unless a caller asks for a larger span.
pub(crate) const BLOCK: u64 = 32 * 1024;
/// The alignment of reads in an object's last block.
const TAIL_UNIT: u64 = 8 * 1024;

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
                    // In the last block, where tail tags are read (ID3v1, APE, the last Ogg
                    // page), a smaller unit: such reads want a few hundred bytes.
                    let unit = if at.saturating_add(BLOCK) >= self.size {
                        TAIL_UNIT
                    } else {
                        BLOCK
                    };
                    let aligned = if align {
                        (at / unit * unit).max(prev_end)
                    } else {
                        at
                    };
                    // Near the end of the budget, round less rather than refuse a read.
                    let remaining = self.limit.saturating_sub(self.fetched);
                    let (aligned, want_end) = if want_end - aligned > remaining {
                        let need = end.min(next_start).min(self.size);
                        (at, need.max(at.saturating_add(remaining).min(want_end)))
                    } else {
                        (aligned, want_end)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// An object of `len` bytes (`byte i = i % 251`) that logs the ranges asked for.
    struct Log(u64, Mutex<Vec<(u64, u64)>>);

    impl RangeFetch for Log {
        fn fetch(&self, start: u64, end: u64) -> io::Result<Vec<u8>> {
            assert!(start <= end && end < self.0);
            self.1.lock().expect("lock").push((start, end));
            Ok((start..=end).map(|i| (i % 251) as u8).collect())
        }
    }

    fn reader(fetch: &Log, limit: u64) -> RangedReader<'_> {
        RangedReader::new(
            fetch,
            fetch.0,
            limit,
            Instant::now() + Duration::from_secs(60),
        )
    }

    #[test]
    fn reads_whole_aligned_blocks_once() {
        let log = Log(200_000, Mutex::default());
        let mut r = reader(&log, 1 << 20);
        let mut buf = [0u8; 10];
        r.seek(SeekFrom::Start(40_000)).expect("seek");
        r.read_exact(&mut buf).expect("read");
        assert_eq!(buf[0], (40_000 % 251) as u8);
        r.seek(SeekFrom::Start(BLOCK + 5)).expect("seek");
        r.read_exact(&mut buf).expect("read again, cached");
        r.seek(SeekFrom::End(-3)).expect("seek");
        assert_eq!(r.read(&mut buf).expect("tail"), 3);
        assert_eq!(r.read(&mut buf).expect("eof"), 0);
        let got = log.1.lock().expect("lock").clone();
        assert_eq!(got, vec![(BLOCK, 2 * BLOCK - 1), (6 * BLOCK, 199_999)]);
        assert_eq!(r.fetched(), BLOCK + 200_000 - 6 * BLOCK);
    }

    #[test]
    fn refuses_past_the_limit_and_rounds_less_near_it() {
        let log = Log(1_000_000, Mutex::default());
        let mut r = reader(&log, BLOCK + 100);
        r.ensure(0, 10).expect("first block");
        // Only 100 bytes left: a 50-byte read is fetched without rounding to a block.
        r.ensure(500_000, 500_050)
            .expect("small read near the limit");
        assert!(r.ensure(700_000, 700_100).is_err(), "past the limit");
        assert!(r.fetched() <= BLOCK + 100);
        assert!(r.seek(SeekFrom::Current(-1)).is_err(), "before the start");
        r.allow(u64::MAX, 2 * BLOCK);
        r.ensure(700_000, 700_100).expect("after allow");
        assert!(
            r.ensure(900_000, 900_000 + BLOCK).is_err(),
            "allow is capped"
        );
    }

    #[test]
    fn exact_reads_fill_only_the_gap() {
        let log = Log(100_000, Mutex::default());
        let mut r = reader(&log, 1 << 20);
        let a = r.bytes_exact(10, 20).expect("a");
        let b = r.bytes_exact(15, 30).expect("b");
        assert_eq!(a.len(), 10);
        assert_eq!(b[0], 15);
        assert_eq!(*log.1.lock().expect("lock"), vec![(10, 19), (20, 29)]);
        assert_eq!(r.cached_head(), Vec::<u8>::new(), "nothing cached from 0");
    }
}
