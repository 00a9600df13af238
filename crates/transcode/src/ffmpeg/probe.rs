//! Reading what ffmpeg writes while it writes it: where the first playable fragment ends
//! ([`FragmentWatch`], over the top-level boxes of a fragmented MP4 or the clusters of a
//! WebM), and where the output's zero falls in the item ([`start_shift`], from `-debug_ts`).
//!
//! Both are pure and fed in pieces, so they are table-tested on any split of their input.

/// Watches a fragmented MP4 (or WebM) stream for the end of its first media fragment: the
/// first `mdat` after a `moof` (MP4), or the first byte after the first Cluster's start plus
/// some data (WebM: a Cluster's size is often unknown while it streams, so its start is
/// used).
#[derive(Debug, Clone, Default)]
pub struct FragmentWatch {
    /// Bytes of the stream seen so far.
    seen: u64,
    /// Where the next top-level box starts (MP4).
    next_box: u64,
    /// The header of the box being read, when it straddles pieces.
    header: Vec<u8>,
    /// A `moof` has started.
    moof: bool,
    /// Where the stream's first media fragment ends, once known.
    end: Option<u64>,
    /// The stream is WebM (starts with the EBML magic), not MP4.
    webm: bool,
    /// The last four bytes seen (WebM: looks for the Cluster id across pieces).
    tail: [u8; 4],
    /// The stream is neither (the watch gives up and reports the first bytes as playable).
    unknown: bool,
    /// The first bytes, until there are four to tell MP4 from WebM.
    pending: Option<Vec<u8>>,
}

/// The EBML magic that starts a WebM file.
const EBML: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];
/// A Matroska Cluster's element id.
const CLUSTER: [u8; 4] = [0x1F, 0x43, 0xB6, 0x75];

impl FragmentWatch {
    /// Feeds the next piece; returns where the first fragment ends once it has (the offset
    /// in the stream just after it), then the same on every later call.
    pub fn feed(&mut self, piece: &[u8]) -> Option<u64> {
        if self.seen == 0 {
            let mut first = self.pending.take().unwrap_or_default();
            first.extend_from_slice(piece);
            if first.len() < 4 {
                self.pending = Some(first);
                return None;
            }
            self.webm = first[..4] == EBML;
            return self.feed_known(&first);
        }
        self.feed_known(piece)
    }

    fn feed_known(&mut self, piece: &[u8]) -> Option<u64> {
        let base = self.seen;
        self.seen += piece.len() as u64;
        if self.end.is_some() {
            return self.end.filter(|end| *end <= self.seen);
        }
        if self.webm {
            return self.feed_webm(base, piece);
        }
        if self.unknown {
            self.end = Some(self.seen);
            return self.end;
        }
        // MP4: walk the top-level box headers that start within this piece.
        while self.next_box < self.seen {
            // The absolute position of the next header byte wanted; earlier ones are kept.
            let wanted = self.next_box + self.header.len() as u64;
            let from = wanted.saturating_sub(base) as usize;
            let avail = piece.get(from..).unwrap_or_default();
            let take = (16 - self.header.len()).min(avail.len());
            self.header.extend_from_slice(&avail[..take]);
            if self.header.len() < 8 {
                return None;
            }
            let size32 = u32::from_be_bytes([
                self.header[0],
                self.header[1],
                self.header[2],
                self.header[3],
            ]) as u64;
            let kind = [
                self.header[4],
                self.header[5],
                self.header[6],
                self.header[7],
            ];
            let size = match size32 {
                0 => u64::MAX - self.next_box, // to the end of the stream
                1 => {
                    if self.header.len() < 16 {
                        return None;
                    }
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&self.header[8..16]);
                    u64::from_be_bytes(b)
                }
                n => n,
            };
            if size < 8 || !kind.iter().all(|c| c.is_ascii_graphic()) {
                // Not MP4 boxes after all: treat what has come as playable.
                self.unknown = true;
                self.end = Some(self.seen);
                return self.end;
            }
            let box_end = self.next_box.saturating_add(size);
            match &kind {
                b"moof" => self.moof = true,
                b"mdat" if self.moof => {
                    self.end = Some(box_end);
                    break;
                }
                _ => {}
            }
            self.header.clear();
            self.next_box = box_end;
        }
        self.end.filter(|end| *end <= self.seen)
    }

    fn feed_webm(&mut self, base: u64, piece: &[u8]) -> Option<u64> {
        // The first Cluster's id, possibly split over pieces; the fragment is taken to end
        // 1 KiB of data after it (a Cluster opens with its timecode and its first block).
        let mut window = self.tail.to_vec();
        window.extend_from_slice(piece);
        if let Some(pos) = window.windows(4).position(|w| w == CLUSTER) {
            let at = (base + pos as u64).saturating_sub(4);
            self.end = Some(at + 1024);
        }
        let n = window.len();
        if n >= 4 {
            self.tail.copy_from_slice(&window[n - 4..]);
        }
        self.end.filter(|end| *end <= self.seen)
    }
}

/// From a line of ffmpeg's `-debug_ts` log, the decode time (seconds) of a packet handed to
/// the muxer (`muxer <- type:video pkt_pts:… pkt_dts_time:-1.075 …`): the first one is
/// where the muxer's zero is (it shifts negative timestamps up to zero, so the output's
/// zero is the item's `start + shift` when `shift` is negative). `None` for other lines.
pub fn muxed_dts(line: &str) -> Option<f64> {
    let rest = line.strip_prefix("muxer <- ")?;
    let value = rest
        .split_whitespace()
        .find_map(|field| field.strip_prefix("pkt_dts_time:"))?;
    value.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Whether a log line is one of `-debug_ts`'s per-packet lines (not worth an error message).
pub fn is_debug_line(line: &str) -> bool {
    [
        "muxer <-",
        "demuxer",
        "decoder",
        "encoder",
        "filter",
        "cur_dts is invalid",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// The shift (milliseconds, at most 0) from the first muxed packet's decode time: a copied
/// video starts at the keyframe before the start asked for, so the output's zero is that much
/// earlier in the item.
pub fn start_shift(first_dts: Option<f64>) -> i64 {
    match first_dts {
        Some(dts) if dts < 0.0 => (dts * 1000.0).round() as i64,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], body: usize) -> Vec<u8> {
        let mut b = ((body + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend(std::iter::repeat_n(0u8, body));
        b
    }

    /// Feeds `stream` split every `step` bytes; returns the first answer.
    fn first_end(stream: &[u8], step: usize) -> Option<u64> {
        let mut w = FragmentWatch::default();
        stream.chunks(step).find_map(|c| w.feed(c))
    }

    #[test]
    fn the_first_fragment_ends_after_the_first_mdat_after_a_moof() {
        let mut s = mp4_box(b"ftyp", 20);
        s.extend(mp4_box(b"moov", 700));
        let init = s.len() as u64;
        s.extend(mp4_box(b"moof", 100));
        s.extend(mp4_box(b"mdat", 5000));
        let first = s.len() as u64;
        s.extend(mp4_box(b"moof", 100));
        s.extend(mp4_box(b"mdat", 5000));
        for step in [1, 3, 7, 8, 16, 100, 4096, s.len()] {
            assert_eq!(first_end(&s, step), Some(first), "step {step}");
        }
        // Only the init segment and a partial mdat: not yet.
        assert_eq!(first_end(&s[..init as usize + 300], 64), None);
        assert_eq!(first_end(&s[..first as usize - 1], 64), None);
        // An mdat before any moof (a plain MP4) is not a fragment.
        let mut plain = mp4_box(b"ftyp", 8);
        plain.extend(mp4_box(b"mdat", 64));
        assert_eq!(first_end(&plain, 5), None);
    }

    #[test]
    fn large_sizes_and_garbage() {
        let mut s = mp4_box(b"moof", 8);
        let mut big = 1u32.to_be_bytes().to_vec();
        big.extend_from_slice(b"mdat");
        big.extend_from_slice(&(16u64 + 10).to_be_bytes());
        big.extend([0u8; 10]);
        s.extend(big);
        assert_eq!(first_end(&s, 5), Some(s.len() as u64));
        // Not boxes: the first bytes count as playable.
        assert_eq!(first_end(b"\x00\x00\x00\x02\xff\xffjunkjunk", 4), Some(8));
    }

    #[test]
    fn webm_fragments_start_at_the_first_cluster() {
        let mut s = EBML.to_vec();
        s.extend([0u8; 100]);
        s.extend(CLUSTER);
        s.extend([1u8; 3000]);
        for step in [1, 2, 5, 64, s.len()] {
            assert_eq!(first_end(&s, step), Some(104 + 1024), "step {step}");
        }
        assert_eq!(first_end(&s[..600], 50), None);
    }

    #[test]
    fn muxed_decode_times_are_read_from_debug_ts_lines() {
        let cases: &[(&str, Option<f64>)] = &[
            (
                "muxer <- type:video pkt_pts:-15920 pkt_pts_time:-0.995 pkt_dts:-17200 pkt_dts_time:-1.075 duration:640",
                Some(-1.075),
            ),
            ("muxer <- type:audio pkt_pts:0 pkt_pts_time:0 pkt_dts:0 pkt_dts_time:0 size:9", Some(0.0)),
            ("muxer <- type:video pkt_dts_time:NOPTS", None),
            ("demuxer -> ist_index:0 pkt_dts_time:2.0", None),
            ("", None),
            ("muxer <- pkt_dts_time:inf", None),
        ];
        for (line, want) in cases {
            assert_eq!(muxed_dts(line), *want, "{line}");
        }
        assert_eq!(start_shift(Some(-1.075)), -1075);
        assert_eq!(start_shift(Some(0.5)), 0);
        assert_eq!(start_shift(None), 0);
    }
}
