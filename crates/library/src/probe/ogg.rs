//! Ogg Vorbis and Opus technical facts without walking every page (which lofty does): the
//! identification header from the first page and the granule position of the last page,
//! found by scanning the object's tail backwards.

use std::io;

use super::reader::{RangedReader, BLOCK};

/// Codec, channels, sample rate and duration of an Ogg stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OggFacts {
    pub(crate) codec: &'static str,
    pub(crate) channels: u8,
    pub(crate) sample_rate: u32,
    pub(crate) duration_ms: Option<u64>,
}

/// The largest Ogg page: 27 header bytes, 255 lacing values, 255 × 255 bytes of data.
const MAX_PAGE: u64 = 27 + 255 + 255 * 255;

/// Reads the identification header and the last granule; `None` for other Ogg codecs.
pub(crate) fn facts(r: &mut RangedReader<'_>) -> io::Result<Option<OggFacts>> {
    let head = r.bytes_at(0, 27 + 255 + 64)?;
    if head.len() < 28 || !head.starts_with(b"OggS") {
        return Ok(None);
    }
    let serial = head[14..18].to_vec();
    let nseg = usize::from(head[26]);
    let Some(body) = head.get(27 + nseg..) else {
        return Ok(None);
    };
    let le16 = |b: &[u8], i: usize| b.get(i..i + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let le32 = |b: &[u8], i: usize| {
        b.get(i..i + 4)
            .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
    };
    let (codec, channels, sample_rate, pre_skip, rate) = if body.starts_with(b"OpusHead") {
        let (Some(&ch), Some(pre), Some(input_rate)) =
            (body.get(9), le16(body, 10), le32(body, 12))
        else {
            return Ok(None);
        };
        ("opus", ch, input_rate, u64::from(pre), 48_000u64)
    } else if body.starts_with(b"\x01vorbis") {
        let (Some(&ch), Some(sr)) = (body.get(11), le32(body, 12)) else {
            return Ok(None);
        };
        ("vorbis", ch, sr, 0, u64::from(sr))
    } else {
        return Ok(None);
    };
    let granule = last_granule(r, &serial)?;
    let duration_ms = granule
        .filter(|_| rate > 0)
        .map(|g| g.saturating_sub(pre_skip).saturating_mul(1000) / rate);
    Ok(Some(OggFacts {
        codec,
        channels,
        sample_rate,
        duration_ms,
    }))
}

/// The granule position of the last page of stream `serial` that has one, from the tail.
fn last_granule(r: &mut RangedReader<'_>, serial: &[u8]) -> io::Result<Option<u64>> {
    let size = r.size();
    let mut from = size;
    // Grow the tail window a block at a time, up to one maximal page.
    while from > 0 && size - from <= MAX_PAGE + BLOCK {
        from = from.saturating_sub(BLOCK) / BLOCK * BLOCK;
        let tail = r.bytes_at(from, size)?;
        let mut i = tail.len().saturating_sub(27);
        loop {
            if tail[i..].starts_with(b"OggS")
                && tail.get(i + 4) == Some(&0)
                && tail.get(i + 14..i + 18) == Some(serial)
            {
                let g = tail.get(i + 6..i + 14).and_then(|b| b.try_into().ok());
                if let Some(g) = g.map(u64::from_le_bytes) {
                    if g != u64::MAX {
                        return Ok(Some(g));
                    }
                }
            }
            if i == 0 {
                break;
            }
            i -= 1;
        }
    }
    Ok(None)
}
