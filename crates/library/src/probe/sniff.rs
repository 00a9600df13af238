//! What kind of object this is and how much art its headers declare, read from a few header
//! bytes: the ID3v2 tag size, FLAC PICTURE blocks, the MP4 `covr` atom, a RIFF/AIFF `id3 `
//! chunk. The declared art size raises the read budget for that object alone.

use std::io;

use super::reader::RangedReader;

/// Container families that need different reading plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// MPEG audio, possibly behind an ID3v2 tag (the tag ends at `audio_start`).
    Mpeg {
        /// Offset just after the leading ID3v2 tag(s) (0 without one).
        audio_start: u64,
    },
    /// Native FLAC.
    Flac,
    /// ISO base media (mp4, m4a, mov).
    Mp4,
    /// Ogg (Vorbis, Opus, …).
    Ogg,
    /// RIFF/WAVE or AIFF.
    Iff,
    /// Anything else: lofty guesses, no extra allowance.
    Other,
}

/// The plan for one object: its kind and the art bytes its headers declare.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) kind: Kind,
    pub(crate) art_allowance: u64,
}

/// At most this many atoms, chunks or blocks are walked per level (hostile files loop).
pub(crate) const MAX_WALK: usize = 512;

/// Reads the head and decides the plan.
pub(crate) fn plan(r: &mut RangedReader<'_>) -> io::Result<Plan> {
    let head = r.bytes_at(0, 12)?;
    let plan = |kind, art_allowance| Plan {
        kind,
        art_allowance,
    };
    if head.starts_with(b"ID3") {
        let audio_start = id3v2_end(r, 0)?;
        return Ok(plan(Kind::Mpeg { audio_start }, audio_start));
    }
    if head.starts_with(b"fLaC") {
        return Ok(plan(Kind::Flac, flac_pictures(r)?));
    }
    if head.get(4..8) == Some(b"ftyp") {
        return Ok(plan(Kind::Mp4, mp4_covr(r)?));
    }
    if head.starts_with(b"OggS") {
        // Pictures live base64-encoded in the comment packet, whose size is not declared up
        // front: the allowance is the art cap (see `ProbeLimits::art_max`).
        return Ok(plan(Kind::Ogg, u64::MAX));
    }
    if head.starts_with(b"RIFF") || head.starts_with(b"FORM") {
        return Ok(plan(Kind::Iff, iff_id3(r, head.starts_with(b"RIFF"))?));
    }
    if head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0 {
        return Ok(plan(Kind::Mpeg { audio_start: 0 }, 0));
    }
    Ok(plan(Kind::Other, 0))
}

/// The end of consecutive ID3v2 tags starting at `at` (at most a few).
fn id3v2_end(r: &mut RangedReader<'_>, mut at: u64) -> io::Result<u64> {
    for _ in 0..4 {
        let h = r.bytes_at(at, at + 10)?;
        if h.len() < 10 || !h.starts_with(b"ID3") {
            break;
        }
        let size = h[6..10]
            .iter()
            .fold(0u64, |acc, b| (acc << 7) | u64::from(b & 0x7F));
        let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
        at = at.saturating_add(10 + size + footer);
    }
    Ok(at)
}

/// Total size of the PICTURE metadata blocks of a native FLAC stream.
fn flac_pictures(r: &mut RangedReader<'_>) -> io::Result<u64> {
    let mut at = 4u64;
    let mut pictures = 0u64;
    for _ in 0..MAX_WALK {
        let h = r.bytes_at(at, at + 4)?;
        if h.len() < 4 {
            break;
        }
        let len = u64::from(h[1]) << 16 | u64::from(h[2]) << 8 | u64::from(h[3]);
        if h[0] & 0x7F == 6 {
            pictures = pictures.saturating_add(len);
        }
        at = at.saturating_add(4 + len);
        if h[0] & 0x80 != 0 {
            break;
        }
    }
    Ok(pictures)
}

/// One ISO-BMFF atom header: (type, start, total length, header length).
pub(crate) fn atom_at(
    r: &mut RangedReader<'_>,
    at: u64,
    end: u64,
) -> io::Result<Option<([u8; 4], u64, u64)>> {
    if at.saturating_add(8) > end {
        return Ok(None);
    }
    let h = r.bytes_at(at, at + 16)?;
    if h.len() < 8 {
        return Ok(None);
    }
    let kind = [h[4], h[5], h[6], h[7]];
    let len32 = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
    let len = match len32 {
        0 => end - at,
        1 if h.len() >= 16 => {
            u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]])
        }
        n => n,
    };
    if len < 8 || at.saturating_add(len) > end {
        return Ok(None);
    }
    Ok(Some((kind, at, len)))
}

/// Finds the child atom `want` in `start..end`; returns (start of its body, end).
pub(crate) fn child(
    r: &mut RangedReader<'_>,
    start: u64,
    end: u64,
    want: &[u8; 4],
) -> io::Result<Option<(u64, u64)>> {
    let mut at = start;
    for _ in 0..MAX_WALK {
        let Some((kind, s, len)) = atom_at(r, at, end)? else {
            return Ok(None);
        };
        if &kind == want {
            return Ok(Some((s + 8, s + len)));
        }
        at = s + len;
    }
    Ok(None)
}

/// Size of `moov.udta.meta.ilst.covr` (the embedded cover atoms), 0 when absent.
fn mp4_covr(r: &mut RangedReader<'_>) -> io::Result<u64> {
    let size = r.size();
    let Some((s, e)) = child(r, 0, size, b"moov")? else {
        return Ok(0);
    };
    let Some((s, e)) = child(r, s, e, b"udta")? else {
        return Ok(0);
    };
    let Some((s, e)) = child(r, s, e, b"meta")? else {
        return Ok(0);
    };
    // `meta` is a full atom (4 bytes of version and flags) in every writer but old QuickTime.
    let body = r.bytes_at(s, s + 8)?;
    let s = if body.get(4..8) == Some(b"hdlr") {
        s
    } else {
        s + 4
    };
    let Some((s, e)) = child(r, s, e, b"ilst")? else {
        return Ok(0);
    };
    Ok(child(r, s, e, b"covr")?.map_or(0, |(s, e)| e - s))
}

/// Size of the `id3 ` chunk of a RIFF (little-endian) or AIFF (big-endian) file, 0 when none.
fn iff_id3(r: &mut RangedReader<'_>, little: bool) -> io::Result<u64> {
    let mut at = 12u64;
    for _ in 0..MAX_WALK {
        let h = r.bytes_at(at, at + 8)?;
        if h.len() < 8 {
            break;
        }
        let raw = [h[4], h[5], h[6], h[7]];
        let len = u64::from(if little {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        });
        if h[..4].eq_ignore_ascii_case(b"id3 ") {
            return Ok(len);
        }
        at = at.saturating_add(8 + len + (len & 1));
    }
    Ok(0)
}

/// ffprobe's name for the codec of the first sound track of an MP4 (`aac`, `alac`, …).
pub(crate) fn mp4_audio_codec(r: &mut RangedReader<'_>) -> io::Result<Option<&'static str>> {
    let size = r.size();
    let Some((moov, moov_end)) = child(r, 0, size, b"moov")? else {
        return Ok(None);
    };
    let mut at = moov;
    for _ in 0..MAX_WALK {
        let Some((kind, s, len)) = atom_at(r, at, moov_end)? else {
            break;
        };
        at = s + len;
        if &kind != b"trak" {
            continue;
        }
        let Some((ms, me)) = child(r, s + 8, s + len, b"mdia")? else {
            continue;
        };
        let Some((hs, _)) = child(r, ms, me, b"hdlr")? else {
            continue;
        };
        if r.bytes_at(hs + 8, hs + 12)? != b"soun" {
            continue;
        }
        let mut span = (ms, me);
        for name in [b"minf", b"stbl", b"stsd"] {
            match child(r, span.0, span.1, name)? {
                Some(next) => span = next,
                None => return Ok(None),
            }
        }
        let entry = r.bytes_at(span.0 + 12, span.0 + 16)?;
        return Ok(sound_codec(&entry));
    }
    Ok(None)
}

/// ffprobe's name for an MP4 sound sample entry's format (`mp4a` → `aac`, …).
pub(crate) fn sound_codec(format: &[u8]) -> Option<&'static str> {
    Some(match format {
        b"mp4a" => "aac",
        b"alac" => "alac",
        b"Opus" => "opus",
        b"fLaC" => "flac",
        b".mp3" => "mp3",
        b"ac-3" => "ac3",
        b"ec-3" => "eac3",
        b"sowt" | b"twos" | b"lpcm" | b"in24" => "pcm",
        _ => return None,
    })
}

/// The movie's duration in ms from `moov.mvhd` (for an MP4 without an audio track).
pub(crate) fn mp4_movie_ms(r: &mut RangedReader<'_>) -> io::Result<Option<u64>> {
    let size = r.size();
    let Some((s, e)) = child(r, 0, size, b"moov")? else {
        return Ok(None);
    };
    let Some((s, _)) = child(r, s, e, b"mvhd")? else {
        return Ok(None);
    };
    let b = r.bytes_at(s, s + 32)?;
    let be32 = |i: usize| {
        b.get(i..i + 4)
            .map(|x| u64::from(u32::from_be_bytes([x[0], x[1], x[2], x[3]])))
    };
    let (scale, duration) = match b.first() {
        Some(0) => (be32(12), be32(16)),
        Some(1) => (
            be32(20),
            b.get(24..32)
                .and_then(|x| x.try_into().ok())
                .map(u64::from_be_bytes),
        ),
        _ => return Ok(None),
    };
    Ok(match (scale, duration) {
        (Some(scale), Some(d)) if scale > 0 && d != u64::MAX && d != u64::from(u32::MAX) => {
            Some(u64::try_from(u128::from(d) * 1000 / u128::from(scale)).unwrap_or(u64::MAX))
        }
        _ => None,
    })
}
