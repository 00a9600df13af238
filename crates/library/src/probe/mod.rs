//! What is inside an object (tags, duration, technical facts, front cover), read with a few
//! small ranged reads: the head, the tail only when the format needs it, and the bytes in
//! between only when a header says so, under a per-object byte budget and time limit.
//!
//! Tags come from lofty through [`reader::RangedReader`]; durations lofty would get by
//! reading the whole file (Ogg) or by guessing (VBR mp3 without a Xing/VBRI header) are
//! computed here. Video facts and posters come from the system's ffprobe/ffmpeg
//! ([`probe_video`], [`poster`]).

mod art;
mod container;
mod mpeg;
mod ogg;
mod reader;
mod sniff;
mod tags;
mod video;

use std::path::Path;
use std::time::{Duration, Instant};

use bucketstream_core::catalog::ItemMeta;
use lofty::file::FileType;

pub use art::{is_folder_art, pick_folder_art};
pub use container::{video_facts, ContainerFacts};
pub use video::{parse_ffprobe, poster, probe_video, run as run_tool, ProbeError, VideoInfo};

use reader::RangedReader;
use sniff::Kind;

/// Blocking ranged reads of one object version. The scanner implements it over S3/local
/// (calls `Source::open(key, etag, size, Some((start, end)))` inside `Handle::block_on`).
pub trait RangeFetch: Send + Sync {
    /// Bytes `start..=end` (inclusive) of the object.
    fn fetch(&self, start: u64, end: u64) -> std::io::Result<Vec<u8>>;
}

/// Per-object limits of [`probe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeLimits {
    /// Bytes that may be read for tags and headers (embedded art is not counted).
    pub budget: u64,
    /// The largest embedded picture read; a larger one is skipped.
    pub art_max: u64,
    /// Wall-clock time for the object; no further read starts after it.
    pub timeout: Duration,
}

impl Default for ProbeLimits {
    fn default() -> Self {
        Self {
            budget: 256 * 1024,
            art_max: 16 * 1024 * 1024,
            timeout: Duration::from_secs(20),
        }
    }
}

/// An embedded picture, as stored in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Art {
    /// Its MIME type (`image/jpeg`, `image/png`, …).
    pub mime: String,
    /// The encoded image.
    pub bytes: Vec<u8>,
}

/// What [`probe`] found in one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probed {
    /// Tags and technical facts (`art` is left `None`: the caller stores [`Probed::art`]).
    pub meta: ItemMeta,
    /// The front cover (else the first picture), if any.
    pub art: Option<Art>,
    /// Bytes fetched from the object, art included.
    pub fetched_bytes: u64,
    /// Why reading failed or stopped early; `meta` keeps what was read before.
    pub error: Option<String>,
}

/// Tags + technical facts of an audio object (also works for mp4/m4a video containers for
/// title/duration). Never panics; on failure `error` says why and `meta` keeps what was read.
pub fn probe(fetch: &dyn RangeFetch, file_name: &str, size: u64, limits: &ProbeLimits) -> Probed {
    let deadline = Instant::now() + limits.timeout;
    let mut reader = RangedReader::new(fetch, size, limits.budget, deadline);
    let mut out = Probed::default();
    if size == 0 {
        out.error = Some("empty object".to_owned());
        return out;
    }
    if let Err(e) = read_into(&mut reader, file_name, limits, &mut out) {
        out.error = Some(e);
    }
    out.fetched_bytes = reader.fetched();
    out
}

/// The reading plan: sniff, lofty, then the facts lofty cannot give cheaply.
fn read_into(
    r: &mut RangedReader<'_>,
    file_name: &str,
    limits: &ProbeLimits,
    out: &mut Probed,
) -> Result<(), String> {
    let plan = sniff::plan(r).map_err(|e| format!("reading the header: {e}"))?;
    r.allow(
        plan.art_allowance,
        limits.budget.saturating_add(limits.art_max),
    );
    if let Kind::Mpeg { audio_start } = plan.kind {
        // The whole ID3v2 tag and the first frames in one ranged read. Best effort: on a
        // failure lofty reads what it can and reports the error itself.
        let _ = r.ensure(0, audio_start.saturating_add(4096));
    }
    let hint = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .and_then(FileType::from_ext);
    // Ogg: lofty would walk every page for the duration; tags only, facts from ogg.rs.
    let lofty = tags::read(r, plan.kind != Kind::Ogg, hint, limits.art_max);
    let mut error = None;
    let mut detected = None;
    match lofty {
        Ok(read) => {
            detected = read.file_type;
            out.meta = read.meta;
            out.art = read.art;
            out.meta.audio_codec = read
                .file_type
                .and_then(tags::codec_of)
                .map(Into::into)
                .or(read.pcm_codec.map(Into::into));
        }
        Err(e) => {
            error = Some(format!("reading tags: {e}"));
            // MPEG: lofty also reads the tail (ID3v1, APE); when that failed, the ID3v2 tag
            // in the bytes already read still has the tags.
            if let Kind::Mpeg { audio_start } = plan.kind {
                let head = r.cached_head();
                if audio_start > 0 && head.len() as u64 >= audio_start {
                    let mut cursor = std::io::Cursor::new(head);
                    if let Ok(read) = tags::read(&mut cursor, false, hint, limits.art_max) {
                        out.meta = read.meta;
                        out.art = read.art;
                    }
                }
            }
        }
    }
    // What lofty detected wins over the sniffed kind (an ID3v2 tag may front a FLAC or AAC
    // stream; an mp3 may start with junk).
    let facts = match (plan.kind, detected) {
        (Kind::Ogg, _) => ogg_facts(r, out),
        (Kind::Mpeg { audio_start }, None | Some(FileType::Mpeg)) => {
            mpeg_facts(r, audio_start, out)
        }
        (_, Some(FileType::Mpeg)) => mpeg_facts(r, 0, out),
        (Kind::Mp4, _) => mp4_facts(r, out),
        _ => Ok(()),
    };
    match (error, facts) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(format!("reading the stream: {e}")),
        (None, Ok(())) => Ok(()),
    }
}

/// Duration, channels and rate of Ogg Vorbis/Opus from the first and the last page.
fn ogg_facts(r: &mut RangedReader<'_>, out: &mut Probed) -> Result<(), String> {
    let Some(f) = ogg::facts(r).map_err(|e| e.to_string())? else {
        return Ok(());
    };
    let m = &mut out.meta;
    m.audio_codec = Some(f.codec.into());
    m.channels = (f.channels > 0).then_some(f.channels);
    m.sample_rate = (f.sample_rate > 0).then_some(f.sample_rate);
    m.duration_ms = f.duration_ms.filter(|d| *d > 0);
    m.bitrate_kbps = m
        .duration_ms
        .and_then(|d| u32::try_from(r.size().saturating_mul(8) / d).ok());
    Ok(())
}

/// The codec, and the duration of a VBR stream without a Xing/VBRI header, for MPEG audio.
fn mpeg_facts(r: &mut RangedReader<'_>, audio_start: u64, out: &mut Probed) -> Result<(), String> {
    let Some(head) = mpeg::head(r, audio_start).map_err(|e| e.to_string())? else {
        return Err("no MPEG audio frame found".to_owned());
    };
    out.meta.audio_codec = Some(head.first.codec().into());
    if head.has_vbr_header {
        return Ok(());
    }
    let size = r.size();
    let tail = r
        .bytes_at(size.saturating_sub(128), size)
        .map_err(|e| e.to_string())?;
    let end = if tail.starts_with(b"TAG") {
        size.saturating_sub(128)
    } else {
        size
    };
    let ms = mpeg::estimate_ms(r, &head, end).map_err(|e| e.to_string())?;
    if let Some(ms) = ms.filter(|ms| *ms > 0) {
        out.meta.duration_ms = Some(ms);
        let bits = end.saturating_sub(head.offset).saturating_mul(8);
        out.meta.bitrate_kbps = u32::try_from(bits / ms).ok();
    }
    Ok(())
}

/// The sound track's codec, and the movie's duration when there is no sound track.
fn mp4_facts(r: &mut RangedReader<'_>, out: &mut Probed) -> Result<(), String> {
    let codec = sniff::mp4_audio_codec(r).map_err(|e| e.to_string())?;
    out.meta.audio_codec = codec.map(Into::into);
    if out.meta.duration_ms.is_none() {
        out.meta.duration_ms = sniff::mp4_movie_ms(r)
            .map_err(|e| e.to_string())?
            .filter(|ms| *ms > 0);
    }
    Ok(())
}
