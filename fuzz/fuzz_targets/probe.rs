//! Fuzzes the whole object-reading path (`probe::probe`: sniffing, lofty, the MPEG and Ogg
//! readers; `probe::video_facts`: the MP4 and Matroska readers) on random bytes served by an in-memory `RangeFetch`: no panic, no fetch outside
//! the object, the byte budget and art cap hold, and every text is bounded.
#![no_main]

use std::time::Duration;

use bucketstream_library::probe::{probe, video_facts, ProbeLimits, RangeFetch};
use libfuzzer_sys::fuzz_target;

/// The object, served from memory; checks every range it is asked for.
struct Mem<'a>(&'a [u8]);

impl RangeFetch for Mem<'_> {
    fn fetch(&self, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
        assert!(start <= end, "inverted range {start}..={end}");
        assert!(end < self.0.len() as u64, "range {start}..={end} past {}", self.0.len());
        Ok(self.0[start as usize..=end as usize].to_vec())
    }
}

/// File names the first byte picks from (the extension is lofty's fallback hint).
const NAMES: [&str; 8] = [
    "a.mp3", "a.m4a", "a.flac", "a.ogg", "a.opus", "a.wav", "a.aiff", "a.bin",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, object)) = data.split_first() else {
        return;
    };
    let limits = ProbeLimits {
        budget: 16 * 1024,
        art_max: 16 * 1024,
        timeout: Duration::from_secs(5),
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let p = probe(&Mem(object), name, object.len() as u64, &limits);
    assert!(p.fetched_bytes <= object.len() as u64);
    assert!(p.fetched_bytes <= limits.budget + limits.art_max);
    if let Some(art) = &p.art {
        assert!(art.bytes.len() as u64 <= limits.art_max);
        assert!(!art.bytes.is_empty());
    }
    let m = &p.meta;
    for text in [&m.title, &m.artist, &m.album, &m.album_artist, &m.genre].into_iter().flatten() {
        assert!(text.chars().count() <= 1024);
        assert!(!text.contains('\0'));
    }
    assert!(m.art.is_none());

    let v = video_facts(&Mem(object), object.len() as u64, &limits);
    assert!(v.fetched_bytes <= object.len() as u64);
    assert!(v.fetched_bytes <= limits.budget);
    if let Some(info) = &v.info {
        let texts = [&info.title, &info.video_codec, &info.audio_codec];
        for text in texts.into_iter().flatten() {
            assert!(text.chars().count() <= 1024);
            assert!(!text.contains('\0'));
        }
    }
});
