//! Video facts (duration, size, codecs, title) read from the container itself, MP4/QuickTime
//! atoms or Matroska/WebM elements, with the same few small ranged reads as audio tags: a
//! 4 GB film costs a few 32 KiB blocks, not the megabytes ffprobe pulls through 1 MiB chunks.
//! ffprobe stays the fallback for anything these readers do not understand.

mod mkv;
mod mp4;

use std::time::Instant;

use super::reader::RangedReader;
use super::{ProbeLimits, RangeFetch, VideoInfo};

/// What [`video_facts`] read: the facts (`None` when the container is not one we parse, or
/// says nothing useful) and the bytes it fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFacts {
    /// The facts, when the container was understood.
    pub info: Option<VideoInfo>,
    /// Bytes fetched from the object.
    pub fetched_bytes: u64,
    /// Why the container could not be read, when it could not.
    pub error: Option<String>,
}

/// Reads the facts of a video object of `size` bytes from its container, within `limits`
/// (the budget; embedded art is not read). Never panics; a hostile file ends in `error`.
pub fn video_facts(fetch: &dyn RangeFetch, size: u64, limits: &ProbeLimits) -> ContainerFacts {
    let deadline = Instant::now() + limits.timeout;
    let mut r = RangedReader::new(fetch, size, limits.budget, deadline);
    let read = match r.bytes_at(0, 16) {
        Ok(head) if head.get(4..8).is_some_and(mp4::is_top_atom) => mp4::facts(&mut r),
        Ok(head) if head.starts_with(&mkv::EBML_MAGIC) => mkv::facts(&mut r),
        Ok(_) => Ok(None),
        Err(e) => Err(e),
    };
    let (info, error) = match read {
        Ok(info) => (info.filter(|i| *i != VideoInfo::default()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    ContainerFacts {
        info,
        fetched_bytes: r.fetched(),
        error,
    }
}

/// Milliseconds of `ticks` at `per_second` ticks a second, `None` for nonsense.
fn ms_of(ticks: u128, per_second: u128) -> Option<u64> {
    if per_second == 0 || ticks == 0 {
        return None;
    }
    u64::try_from(ticks * 1000 / per_second)
        .ok()
        .filter(|ms| *ms < 1_000_000_000_000)
}
