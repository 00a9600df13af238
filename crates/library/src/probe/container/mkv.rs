//! Matroska/WebM: the segment's `Info` (duration, timestamp scale, title) and `Tracks` (codec
//! ids, the first video track's pixel size), found in order before the first `Cluster` or
//! through the `SeekHead`, reading element headers and those two elements only.

use std::io;

use bucketstream_core::catalog::meta::bounded_text;

use super::super::reader::RangedReader;
use super::super::sniff::MAX_WALK;
use super::super::VideoInfo;
use super::ms_of;

/// The EBML header's id, the first four bytes of every Matroska/WebM file.
pub(super) const EBML_MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];

const SEGMENT: u64 = 0x1853_8067;
const SEEK_HEAD: u64 = 0x114D_9B74;
const SEEK: u64 = 0x4DBB;
const SEEK_ID: u64 = 0x53AB;
const SEEK_POSITION: u64 = 0x53AC;
const INFO: u64 = 0x1549_A966;
const TIMESTAMP_SCALE: u64 = 0x2A_D7B1;
const DURATION: u64 = 0x4489;
const TITLE: u64 = 0x7BA9;
const TRACKS: u64 = 0x1654_AE6B;
const TRACK_ENTRY: u64 = 0xAE;
const TRACK_TYPE: u64 = 0x83;
const CODEC_ID: u64 = 0x86;
const VIDEO: u64 = 0xE0;
const PIXEL_WIDTH: u64 = 0xB0;
const PIXEL_HEIGHT: u64 = 0xBA;
const CLUSTER: u64 = 0x1F43_B675;

/// The largest `Info` or `Tracks` element read (real ones are a few hundred bytes; a track's
/// codec private data can make `Tracks` a few KiB).
const MAX_ELEMENT: u64 = 64 * 1024;

/// One element: its id, where its data starts, and where it ends (`None`: unknown size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Element {
    pub(super) id: u64,
    pub(super) data: u64,
    pub(super) end: Option<u64>,
}

/// An EBML variable-length integer at the start of `b`: (value, length). With `marker` the
/// length marker bit is kept (element ids), else removed (sizes).
pub(super) fn vint(b: &[u8], marker: bool) -> Option<(u64, usize)> {
    let first = *b.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || b.len() < len {
        return None;
    }
    let head = if marker {
        u64::from(first)
    } else {
        u64::from(first) & (0xFF >> len)
    };
    let value = b[1..len]
        .iter()
        .fold(head, |acc, byte| (acc << 8) | u64::from(*byte));
    Some((value, len))
}

/// The element header at `at` (within `end`), `None` past the end or on nonsense.
pub(super) fn element(b: &[u8], at: u64, end: u64) -> Option<Element> {
    let (id, id_len) = vint(b, true)?;
    if id_len > 4 {
        return None;
    }
    let (size, size_len) = vint(b.get(id_len..)?, false)?;
    let unknown = size == (1u64 << (7 * size_len)) - 1;
    let data = at + (id_len + size_len) as u64;
    let elem_end = if unknown {
        None
    } else {
        Some(data.checked_add(size)?)
    };
    if data > end || elem_end.is_some_and(|e| e > end) {
        return None;
    }
    Some(Element {
        id,
        data,
        end: elem_end,
    })
}

fn header(r: &mut RangedReader<'_>, at: u64, end: u64) -> io::Result<Option<Element>> {
    if at >= end {
        return Ok(None);
    }
    let b = r.bytes_at(at, (at + 12).min(end))?;
    Ok(element(&b, at, end))
}

/// The facts of a Matroska/WebM file; `None` without a segment.
pub(super) fn facts(r: &mut RangedReader<'_>) -> io::Result<Option<VideoInfo>> {
    let size = r.size();
    let Some(ebml) = header(r, 0, size)? else {
        return Ok(None);
    };
    let Some(seg_at) = ebml.end else {
        return Ok(None);
    };
    let Some(seg) = header(r, seg_at, size)?.filter(|e| e.id == SEGMENT) else {
        return Ok(None);
    };
    let seg_end = seg.end.unwrap_or(size);
    let mut info = VideoInfo::default();
    let (mut have_info, mut have_tracks) = (false, false);
    let mut seeks: Vec<(u64, u64)> = Vec::new();
    let mut at = seg.data;
    for _ in 0..MAX_WALK {
        let Some(e) = header(r, at, seg_end)? else {
            break;
        };
        match e.id {
            INFO if !have_info => {
                read_info(r, e, &mut info)?;
                have_info = true;
            }
            TRACKS if !have_tracks => {
                read_tracks(r, e, &mut info)?;
                have_tracks = true;
            }
            SEEK_HEAD if seeks.is_empty() => seeks = read_seek_head(r, e, seg.data)?,
            CLUSTER => break,
            _ => {}
        }
        if have_info && have_tracks {
            return Ok(Some(info));
        }
        match e.end {
            Some(next) => at = next,
            None => break,
        }
    }
    // Info or Tracks after the clusters (or past an unknown-size element): the SeekHead says where.
    for (id, pos) in seeks {
        let wanted = (id == INFO && !have_info) || (id == TRACKS && !have_tracks);
        if !wanted {
            continue;
        }
        if let Some(e) = header(r, pos, seg_end)?.filter(|e| e.id == id) {
            if id == INFO {
                read_info(r, e, &mut info)?;
                have_info = true;
            } else {
                read_tracks(r, e, &mut info)?;
                have_tracks = true;
            }
        }
    }
    Ok((have_info || have_tracks).then_some(info))
}

/// The children of `e` (read whole, at most [`MAX_ELEMENT`]): (id, data).
fn children(r: &mut RangedReader<'_>, e: Element) -> io::Result<Vec<(u64, Vec<u8>)>> {
    let Some(end) = e.end else {
        return Ok(Vec::new());
    };
    if end - e.data > MAX_ELEMENT {
        return Ok(Vec::new());
    }
    let body = r.bytes_at(e.data, end)?;
    Ok(parse_children(&body))
}

/// The child elements in `body` (ids and data), stopping at the first malformed one.
pub(super) fn parse_children(body: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    let len = body.len() as u64;
    for _ in 0..MAX_WALK {
        let Some(e) = body.get(at..).and_then(|b| element(b, at as u64, len)) else {
            break;
        };
        let Some(end) = e.end else { break };
        // In bounds: `element` checked `end <= len`.
        out.push((e.id, body[e.data as usize..end as usize].to_vec()));
        at = end as usize;
    }
    out
}

fn uint(b: &[u8]) -> Option<u64> {
    (!b.is_empty() && b.len() <= 8).then(|| b.iter().fold(0u64, |a, x| (a << 8) | u64::from(*x)))
}

fn float(b: &[u8]) -> Option<f64> {
    match b.len() {
        4 => Some(f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]]))),
        8 => Some(f64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ])),
        _ => None,
    }
    .filter(|f| f.is_finite() && *f > 0.0)
}

fn read_info(r: &mut RangedReader<'_>, e: Element, info: &mut VideoInfo) -> io::Result<()> {
    let mut scale = 1_000_000u64;
    let mut duration = None;
    for (id, data) in children(r, e)? {
        match id {
            TIMESTAMP_SCALE => scale = uint(&data).filter(|s| *s > 0).unwrap_or(scale),
            DURATION => duration = float(&data),
            TITLE => info.title = bounded_text(&String::from_utf8_lossy(&data)),
            _ => {}
        }
    }
    // Duration counts timestamp-scale units (nanoseconds each by default).
    info.duration_ms = duration
        .filter(|d| *d < 1e18)
        .and_then(|d| ms_of((d * scale as f64) as u128, 1_000_000_000));
    Ok(())
}

fn read_tracks(r: &mut RangedReader<'_>, e: Element, info: &mut VideoInfo) -> io::Result<()> {
    for (id, entry) in children(r, e)? {
        if id != TRACK_ENTRY {
            continue;
        }
        let fields = parse_children(&entry);
        let get = |want: u64| fields.iter().find(|(id, _)| *id == want).map(|(_, d)| d);
        let codec = get(CODEC_ID).map(|d| String::from_utf8_lossy(d).into_owned());
        match get(TRACK_TYPE).and_then(|d| uint(d)) {
            Some(1) if info.video_codec.is_none() => {
                info.video_codec = codec.as_deref().and_then(video_codec).map(str::to_owned);
                if let Some(video) = get(VIDEO) {
                    let dims = parse_children(video);
                    let dim = |want: u64| {
                        dims.iter()
                            .find(|(id, _)| *id == want)
                            .and_then(|(_, d)| uint(d))
                            .and_then(|v| u32::try_from(v).ok())
                            .filter(|v| *v > 0)
                    };
                    info.width = dim(PIXEL_WIDTH);
                    info.height = dim(PIXEL_HEIGHT);
                }
            }
            Some(2) if info.audio_codec.is_none() => {
                info.audio_codec = codec.as_deref().and_then(audio_codec).map(str::to_owned);
            }
            _ => {}
        }
    }
    Ok(())
}

/// (element id, absolute position) of each `Seek` in a `SeekHead`.
fn read_seek_head(
    r: &mut RangedReader<'_>,
    e: Element,
    seg_data: u64,
) -> io::Result<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    for (id, seek) in children(r, e)? {
        if id != SEEK {
            continue;
        }
        let fields = parse_children(&seek);
        let get = |want: u64| {
            fields
                .iter()
                .find(|(id, _)| *id == want)
                .and_then(|(_, d)| uint(d))
        };
        if let (Some(target), Some(pos)) = (get(SEEK_ID), get(SEEK_POSITION)) {
            if let Some(abs) = seg_data.checked_add(pos) {
                out.push((target, abs));
            }
        }
    }
    Ok(out)
}

/// ffprobe's name for a Matroska video codec id.
fn video_codec(id: &str) -> Option<&'static str> {
    Some(match id {
        "V_MPEG4/ISO/AVC" => "h264",
        "V_MPEGH/ISO/HEVC" => "hevc",
        "V_VP8" => "vp8",
        "V_VP9" => "vp9",
        "V_AV1" => "av1",
        "V_MPEG1" => "mpeg1video",
        "V_MPEG2" => "mpeg2video",
        "V_THEORA" => "theora",
        "V_MJPEG" => "mjpeg",
        id if id.starts_with("V_MPEG4/ISO/") => "mpeg4",
        _ => return None,
    })
}

/// ffprobe's name for a Matroska audio codec id.
fn audio_codec(id: &str) -> Option<&'static str> {
    Some(match id {
        "A_OPUS" => "opus",
        "A_VORBIS" => "vorbis",
        "A_AC3" => "ac3",
        "A_EAC3" => "eac3",
        "A_DTS" => "dts",
        "A_FLAC" => "flac",
        "A_TRUEHD" => "truehd",
        "A_MPEG/L3" => "mp3",
        "A_MPEG/L2" => "mp2",
        id if id.starts_with("A_AAC") => "aac",
        id if id.starts_with("A_PCM/") => "pcm",
        _ => return None,
    })
}
