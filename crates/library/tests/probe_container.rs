//! Video facts from the container itself (MP4/QuickTime atoms, Matroska/WebM elements), on
//! videos made with ffmpeg, compared with ffprobe as an independent reader; the bytes read
//! stay a few blocks whatever the file's size; garbage and truncated files end in an error.

mod probe_fixtures;

use std::sync::atomic::Ordering;

use bucketstream_library::probe::{video_facts, ProbeLimits, VideoInfo};
use probe_fixtures::{ffprobe, fixture, noise, FileFetch, MemFetch};
use serde_json::Value;

/// The facts ffprobe gives for `name`, in the same shape.
fn expected(name: &str) -> VideoInfo {
    let json = ffprobe(&fixture(name), false);
    let mut v = bucketstream_library::probe::parse_ffprobe(&json);
    // ffprobe names PCM variants precisely; the containers say "pcm". Not used by fixtures.
    if let Some(Value::String(_)) = json["format"]["tags"].get("title") {
        assert!(v.title.is_some());
    }
    v.duration_ms = v.duration_ms.map(|d| d / 100);
    v
}

#[test]
fn container_facts_match_ffprobe() {
    for name in [
        "video.mp4",
        "wide.mp4",
        "faststart.mov",
        "video.mkv",
        "video.webm",
    ] {
        let path = fixture(name);
        let fetch = FileFetch::open(&path);
        let size = std::fs::metadata(&path).expect("size").len();
        let read = video_facts(&fetch, size, &ProbeLimits::default());
        assert_eq!(read.error, None, "{name}");
        let mut got = read.info.unwrap_or_else(|| panic!("{name}: no facts"));
        let want = expected(name);
        let ms = got.duration_ms.expect("duration");
        // Container durations: ffprobe's is the longest stream's; within 2%.
        let want_ms = want.duration_ms.expect("ffprobe duration") * 100;
        assert!(
            ms.abs_diff(want_ms) * 50 <= want_ms + 100,
            "{name}: {ms} ms, ffprobe {want_ms} ms"
        );
        got.duration_ms = want.duration_ms;
        assert_eq!(got, want, "{name}");
        assert_eq!(read.fetched_bytes, fetch.bytes.load(Ordering::SeqCst));
        assert!(
            read.fetched_bytes <= 256 * 1024,
            "{name}: {}",
            read.fetched_bytes
        );
    }
}

#[test]
fn garbage_and_truncated_containers_are_errors_or_nothing() {
    let limits = ProbeLimits::default();
    let garbage = noise(3 << 20, 7);
    let read = video_facts(&MemFetch(garbage.clone()), garbage.len() as u64, &limits);
    assert_eq!(read.info, None);
    for name in ["video.mp4", "faststart.mov", "video.mkv", "video.webm"] {
        let whole = std::fs::read(fixture(name)).expect("read");
        for cut in [16, 100, 4096, whole.len() / 2, whole.len() - 1] {
            let part = whole[..cut].to_vec();
            // Never a panic or a hang; whatever is read is bounded.
            let read = video_facts(&MemFetch(part), cut as u64, &limits);
            assert!(read.fetched_bytes <= cut as u64, "{name} at {cut}");
        }
        // The file's bytes with the lengths scrambled: headers that lie.
        let mut lying = whole.clone();
        for i in (0..lying.len().min(64 * 1024)).step_by(97) {
            lying[i] ^= 0xFF;
        }
        let read = video_facts(&MemFetch(lying.clone()), lying.len() as u64, &limits);
        assert!(read.fetched_bytes <= limits.budget, "{name} scrambled");
    }
}
