//! MPEG audio frame headers, Xing/Info/VBRI detection and a duration estimate for VBR streams
//! without such a header (lofty assumes the first frame's bitrate for the whole stream).
//!
//! The estimate samples the frames in 36 windows of 3 KiB spread evenly over the stream
//! (162 KiB read with their margins for a long file) and divides the stream length by their bytes per second; for
//! CBR it is exact, for VBR see [`estimate_ms`].

use std::io;

use super::reader::{RangedReader, BLOCK};

/// A parsed MPEG audio frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    /// 1 for MPEG-1, 2 for MPEG-2, 25 for MPEG-2.5.
    version: u8,
    layer: u8,
    pub(crate) sample_rate: u32,
    /// Bytes in the frame, header included.
    pub(crate) len: u32,
    /// PCM samples the frame decodes to.
    pub(crate) samples: u32,
    mono: bool,
}

const BITRATES_V1: [[u32; 15]; 3] = [
    [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
];
const BITRATES_V2: [[u32; 15]; 2] = [
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

impl Frame {
    /// Parses 4 header bytes; `None` unless they are a valid, non-free-format header.
    pub(crate) fn parse(h: &[u8]) -> Option<Frame> {
        let h: [u8; 4] = h.get(..4)?.try_into().ok()?;
        if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
            return None;
        }
        let version = match (h[1] >> 3) & 3 {
            0 => 25,
            2 => 2,
            3 => 1,
            _ => return None,
        };
        let layer = match (h[1] >> 1) & 3 {
            1 => 3,
            2 => 2,
            3 => 1,
            _ => return None,
        };
        let br_idx = usize::from(h[2] >> 4);
        let sr_idx = usize::from((h[2] >> 2) & 3);
        if br_idx == 0 || br_idx == 15 || sr_idx == 3 {
            return None;
        }
        let kbps = if version == 1 {
            BITRATES_V1[usize::from(layer - 1)][br_idx]
        } else {
            BITRATES_V2[usize::from(layer != 1)][br_idx]
        };
        let sample_rate = [44_100, 48_000, 32_000][sr_idx]
            / match version {
                1 => 1,
                2 => 2,
                _ => 4,
            };
        let pad = u32::from((h[2] >> 1) & 1);
        let bps = kbps * 1000;
        let (len, samples) = match (layer, version) {
            (1, _) => ((12 * bps / sample_rate + pad) * 4, 384),
            (2, _) | (3, 1) => (144 * bps / sample_rate + pad, 1152),
            _ => (72 * bps / sample_rate + pad, 576),
        };
        Some(Frame {
            version,
            layer,
            sample_rate,
            len,
            samples,
            mono: h[3] >> 6 == 3,
        })
    }

    /// Whether `other` belongs to the same stream (version, layer, sample rate).
    fn same_stream(&self, other: &Frame) -> bool {
        self.version == other.version
            && self.layer == other.layer
            && self.sample_rate == other.sample_rate
    }

    /// ffprobe's codec name for this layer.
    pub(crate) fn codec(&self) -> &'static str {
        match self.layer {
            1 => "mp1",
            2 => "mp2",
            _ => "mp3",
        }
    }
}

/// The first frame in `buf` followed by a matching frame; (offset in `buf`, frame).
fn sync(buf: &[u8], like: Option<&Frame>) -> Option<(usize, Frame)> {
    let mut i = 0;
    while i + 4 <= buf.len() {
        if let Some(f) = Frame::parse(&buf[i..]) {
            let next = i + f.len as usize;
            let fits = like.is_none_or(|l| l.same_stream(&f));
            if fits
                && Frame::parse(buf.get(next..).unwrap_or(&[])).is_some_and(|n| n.same_stream(&f))
            {
                return Some((i, f));
            }
        }
        i += 1;
    }
    None
}

/// Sum of (bytes, samples) of the frames that start before `count_until` in `buf`, walked
/// from the first sync. A frame counts by where it starts, whatever its length, so that
/// long frames are not under-counted at window edges.
fn walk(buf: &[u8], like: &Frame, count_until: usize) -> (u64, u64) {
    let Some((mut i, _)) = sync(buf, Some(like)) else {
        return (0, 0);
    };
    let (mut bytes, mut samples) = (0u64, 0u64);
    while let Some(f) = Frame::parse(buf.get(i..).unwrap_or(&[])) {
        if !f.same_stream(like) || i >= count_until {
            break;
        }
        bytes += u64::from(f.len);
        samples += u64::from(f.samples);
        i += f.len as usize;
    }
    (bytes, samples)
}

/// What the stream head says about duration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    /// The first frame and its offset.
    pub(crate) first: Frame,
    pub(crate) offset: u64,
    /// A Xing, Info or VBRI header is present (lofty's duration is then exact).
    pub(crate) has_vbr_header: bool,
}

/// Finds the first frame at or after `audio_start` (within one block) and its VBR header.
pub(crate) fn head(r: &mut RangedReader<'_>, audio_start: u64) -> io::Result<Option<Head>> {
    let buf = r.bytes_at(audio_start, audio_start + BLOCK)?;
    let Some((i, first)) = sync(&buf, None) else {
        return Ok(None);
    };
    let side = match (first.version, first.mono) {
        (1, false) => 32,
        (1, true) | (_, false) => 17,
        (_, true) => 9,
    };
    let tag_at = |o: usize| buf.get(i + o..i + o + 4);
    let has_vbr_header =
        matches!(tag_at(4 + side), Some(b"Xing") | Some(b"Info")) || tag_at(36) == Some(b"VBRI");
    Ok(Some(Head {
        first,
        offset: audio_start + i as u64,
        has_vbr_header,
    }))
}

/// Sampling windows for the VBR estimate, the bytes in each where frames are counted, and
/// the margin read after each (the longest frame, so that the last counted frame's
/// successor can confirm the sync).
const WINDOWS: u64 = 36;
const WINDOW: u64 = 3 * 1024;
const MARGIN: u64 = 1536;

/// Estimated duration in ms of the stream `head.offset..stream_end`.
///
/// A stream of at most `WINDOWS × WINDOW` bytes is walked whole. A longer one is sampled in
/// [`WINDOWS`] windows of [`WINDOW`] bytes, one in the middle of each equal slice of the stream
/// (systematic sampling by bytes), and the duration is `length × samples / (bytes × rate)`
/// over the frames walked. Sampling by bytes makes this ratio unbiased for VBR; the error is
/// at most about half a slice's worth of a bitrate change (≈1% for a stream whose bitrate
/// jumps from 64 to 200 kbit/s once; well under that for music).
pub(crate) fn estimate_ms(
    r: &mut RangedReader<'_>,
    head: &Head,
    stream_end: u64,
) -> io::Result<Option<u64>> {
    let start = head.offset;
    let len = stream_end.saturating_sub(start);
    if len == 0 {
        return Ok(None);
    }
    let spans: Vec<(u64, u64)> = if len <= WINDOWS * (WINDOW + MARGIN) {
        vec![(start, stream_end)]
    } else {
        (0..WINDOWS)
            .map(|k| {
                let mid = start + len * (2 * k + 1) / (2 * WINDOWS);
                let s = mid.saturating_sub(WINDOW / 2).max(start);
                (s, (s + WINDOW).min(stream_end))
            })
            .collect()
    };
    let (mut bytes, mut samples) = (0u64, 0u64);
    for (s, e) in spans {
        let buf = r.bytes_exact(s, (e + MARGIN).min(stream_end))?;
        let until = usize::try_from(e - s).unwrap_or(usize::MAX);
        let (b, n) = walk(&buf, &head.first, until);
        bytes += b;
        samples += n;
    }
    if bytes == 0 || samples == 0 || head.first.sample_rate == 0 {
        return Ok(None);
    }
    // duration = len / (bytes per second) = len * samples / (bytes * rate), in ms.
    let ms = u128::from(len) * u128::from(samples) * 1000
        / (u128::from(bytes) * u128::from(head.first.sample_rate));
    Ok(u64::try_from(ms).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_128k_mpeg1_layer3_header() {
        let f = Frame::parse(&[0xFF, 0xFB, 0x90, 0x64]).expect("frame");
        assert_eq!((f.sample_rate, f.len, f.samples), (44_100, 417, 1152));
        assert_eq!(f.codec(), "mp3");
        assert!(
            Frame::parse(&[0xFF, 0xFB, 0xF0, 0x64]).is_none(),
            "bad bitrate"
        );
        assert!(
            Frame::parse(&[0xFF, 0xFB, 0x9C, 0x64]).is_none(),
            "bad rate"
        );
    }
}
