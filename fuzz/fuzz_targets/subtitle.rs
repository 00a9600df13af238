//! Fuzzes the subtitle conversions (SRT, ASS/SSA, WebVTT to WebVTT) on arbitrary bytes.
//! Checks: no panic; a converted SRT or ASS document starts with `WEBVTT`, and every line
//! with `-->` in it is a cue timing line (`HH:MM:SS.mmm --> HH:MM:SS.mmm`, end after start),
//! so no text can end a cue early or forge one.
#![no_main]

use bucketstream_transcode::subtitle::{to_webvtt, Format};
use libfuzzer_sys::fuzz_target;

fn millis(t: &str) -> Option<u64> {
    let (clock, ms) = t.split_once('.')?;
    let mut parts = clock.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    Some(((h * 60 + m) * 60 + s) * 1000 + ms.parse::<u64>().ok()?)
}

fuzz_target!(|data: &[u8]| {
    for format in [Format::Srt, Format::Ass] {
        let Ok(vtt) = to_webvtt(data, format) else {
            continue;
        };
        assert!(vtt.starts_with("WEBVTT\n"));
        for line in vtt.lines().filter(|l| l.contains("-->")) {
            let (a, b) = line.split_once(" --> ").expect("timing line");
            let (a, b) = (millis(a).expect("start"), millis(b).expect("end"));
            assert!(b > a, "{line}");
        }
    }
    let _ = to_webvtt(data, Format::WebVtt);
});
