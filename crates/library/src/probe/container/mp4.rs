//! MP4/QuickTime: the movie header's duration, the first video track's codec and coded size,
//! the first sound track's codec, and the title (`ilst ©nam` or QuickTime's `udta ©nam`),
//! reading only atom headers and the few atoms that hold these (never the sample tables).

use std::io;

use bucketstream_core::catalog::meta::bounded_text;

use super::super::reader::RangedReader;
use super::super::sniff::{atom_at, child, mp4_movie_ms, sound_codec, MAX_WALK};
use super::super::VideoInfo;

/// Whether `kind` (bytes 4..8 of a file) is an atom an MP4/QuickTime file starts with.
pub(super) fn is_top_atom(kind: &[u8]) -> bool {
    matches!(
        kind,
        b"ftyp" | b"moov" | b"mdat" | b"free" | b"skip" | b"wide" | b"pnot"
    )
}

/// The facts of an MP4/QuickTime file; `None` without a `moov`.
pub(super) fn facts(r: &mut RangedReader<'_>) -> io::Result<Option<VideoInfo>> {
    let size = r.size();
    let Some((moov, moov_end)) = child(r, 0, size, b"moov")? else {
        return Ok(None);
    };
    let mut info = VideoInfo {
        duration_ms: mp4_movie_ms(r)?.filter(|ms| *ms > 0),
        ..VideoInfo::default()
    };
    let mut at = moov;
    for _ in 0..MAX_WALK {
        let Some((kind, s, len)) = atom_at(r, at, moov_end)? else {
            break;
        };
        at = s + len;
        match &kind {
            b"trak" => track(r, s + 8, s + len, &mut info)?,
            b"udta" if info.title.is_none() => info.title = title(r, s + 8, s + len)?,
            _ => {}
        }
        if info.video_codec.is_some() && info.audio_codec.is_some() && info.title.is_some() {
            break;
        }
    }
    Ok(Some(info))
}

/// Reads one `trak`: its handler type, then the first sample entry of its `stsd`.
fn track(r: &mut RangedReader<'_>, start: u64, end: u64, info: &mut VideoInfo) -> io::Result<()> {
    let Some((ms, me)) = child(r, start, end, b"mdia")? else {
        return Ok(());
    };
    let Some((hs, _)) = child(r, ms, me, b"hdlr")? else {
        return Ok(());
    };
    let handler = r.bytes_at(hs + 8, hs + 12)?;
    let video = match handler.as_slice() {
        b"vide" if info.video_codec.is_none() => true,
        b"soun" if info.audio_codec.is_none() => false,
        _ => return Ok(()),
    };
    let mut span = (ms, me);
    for name in [b"minf", b"stbl", b"stsd"] {
        match child(r, span.0, span.1, name)? {
            Some(next) => span = next,
            None => return Ok(()),
        }
    }
    // stsd: version/flags (4), entry count (4), then the first entry: size (4), format (4),
    // 6 reserved, data reference (2), and for video 16 bytes before width and height.
    let entry = r.bytes_at(span.0 + 8, span.0 + 44)?;
    let Some(format) = entry.get(4..8) else {
        return Ok(());
    };
    if video {
        info.video_codec = video_codec(format).map(str::to_owned);
        let dim = |i: usize| {
            entry
                .get(i..i + 2)
                .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])))
                .filter(|v| *v > 0)
        };
        info.width = dim(32);
        info.height = dim(34);
    } else {
        info.audio_codec = sound_codec(format).map(str::to_owned);
    }
    Ok(())
}

/// ffprobe's name for a video sample entry format.
fn video_codec(format: &[u8]) -> Option<&'static str> {
    Some(match format {
        b"avc1" | b"avc3" => "h264",
        b"hvc1" | b"hev1" => "hevc",
        b"vp09" => "vp9",
        b"vp08" => "vp8",
        b"av01" => "av1",
        b"mp4v" => "mpeg4",
        b"mjpa" | b"mjpb" | b"jpeg" => "mjpeg",
        b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h" => "prores",
        _ => return None,
    })
}

/// The title in `udta` (`start..end`): iTunes-style `meta.ilst.©nam.data`, else QuickTime's
/// `udta.©nam` (a 16-bit length, a language, the text).
fn title(r: &mut RangedReader<'_>, start: u64, end: u64) -> io::Result<Option<String>> {
    const NAM: &[u8; 4] = b"\xa9nam";
    if let Some((ms, me)) = child(r, start, end, b"meta")? {
        // `meta` is a full atom (4 bytes of version and flags) except in old QuickTime.
        let peek = r.bytes_at(ms, ms + 8)?;
        let ms = if peek.get(4..8) == Some(b"hdlr") {
            ms
        } else {
            ms + 4
        };
        if let Some((is, ie)) = child(r, ms, me, b"ilst")? {
            if let Some((ns, ne)) = child(r, is, ie, NAM)? {
                if let Some((ds, de)) = child(r, ns, ne, b"data")? {
                    // type (4) and locale (4), then the text.
                    return text(r, ds + 8, de);
                }
            }
        }
    }
    if let Some((ns, ne)) = child(r, start, end, NAM)? {
        return text(r, ns + 4, ne);
    }
    Ok(None)
}

/// At most 4 KiB of UTF-8 text at `start..end`, bounded like every tag.
fn text(r: &mut RangedReader<'_>, start: u64, end: u64) -> io::Result<Option<String>> {
    let bytes = r.bytes_at(start, end.min(start.saturating_add(4096)))?;
    Ok(bounded_text(&String::from_utf8_lossy(&bytes)))
}
