//! `probe` on garbage, truncated and hostile objects: an error is reported, nothing panics,
//! hangs or reads past the budget, and a fetch failure or a lying header is survived.

mod probe_fixtures;

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bucketstream_library::probe::{probe, ProbeLimits, Probed, RangeFetch};
use probe_fixtures::{fixture, noise, write, FileFetch, MemFetch};

const BUDGET: u64 = 256 * 1024;

fn probe_file(path: &std::path::Path, limits: &ProbeLimits) -> Probed {
    let fetch = FileFetch::open(path);
    let size = std::fs::metadata(path).expect("stat").len();
    let name = path.file_name().and_then(|n| n.to_str()).expect("name");
    let p = probe(&fetch, name, size, limits);
    assert_eq!(p.fetched_bytes, fetch.bytes.load(Ordering::SeqCst));
    println!("| {name} | {size} | {} | {:?} |", p.fetched_bytes, p.error);
    p
}

#[test]
fn garbage_gives_an_error_under_every_name() {
    let junk = noise(300_000, 7);
    for name in [
        "junk.mp3",
        "junk.m4a",
        "junk.flac",
        "junk.ogg",
        "junk.wav",
        "junk.bin",
    ] {
        let p = probe_file(&write(name, &junk), &ProbeLimits::default());
        assert!(p.error.is_some(), "{name}: an error");
        assert!(p.fetched_bytes <= BUDGET, "{name}: {}", p.fetched_bytes);
        assert!(p.art.is_none());
    }
}

#[test]
fn a_sparse_50_mb_file_of_zeros_stops_at_the_budget() {
    let path = write("zeros.mp3", &[]);
    File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(50_000_000))
        .expect("sparse file");
    let p = probe_file(&path, &ProbeLimits::default());
    assert!(p.error.is_some());
    assert!(p.fetched_bytes <= BUDGET, "{}", p.fetched_bytes);
}

#[test]
fn truncated_files_give_an_error_and_keep_what_was_read() {
    for (name, keep) in [
        ("v24_cover.mp3", 2_000usize),
        ("moov_end.m4a", 300_000),
        ("picture.flac", 1_500),
        ("unicode.opus", 3_000),
    ] {
        let bytes = std::fs::read(fixture(name)).expect("fixture");
        let cut = write(&format!("cut-{name}"), &bytes[..keep.min(bytes.len())]);
        let p = probe_file(&cut, &ProbeLimits::default());
        if name.ends_with(".opus") {
            // A cut Ogg stream is a short one: its last whole page says how short.
            assert!(
                p.error.is_some() || p.meta.duration_ms < Some(1000),
                "{name}: {p:?}"
            );
        } else {
            assert!(p.error.is_some(), "{name} cut at {keep}: an error");
        }
        assert!(p.fetched_bytes <= keep as u64);
    }
}

#[test]
fn an_id3v2_header_declaring_a_huge_tag_is_bounded() {
    // "ID3" v2.4 declaring a 256 MiB tag, in a 2 MB file of noise.
    let mut bytes = b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f".to_vec();
    bytes.extend(noise(2_000_000, 3));
    let limits = ProbeLimits {
        art_max: 1024 * 1024,
        ..ProbeLimits::default()
    };
    let p = probe_file(&write("huge_id3.mp3", &bytes), &limits);
    assert!(p.error.is_some());
    assert!(
        p.fetched_bytes <= BUDGET + limits.art_max,
        "{}",
        p.fetched_bytes
    );
}

#[test]
fn a_cover_larger_than_art_max_is_not_read() {
    let limits = ProbeLimits {
        art_max: 1024,
        ..ProbeLimits::default()
    };
    let p = probe_file(&fixture("picture.flac"), &limits);
    assert!(p.art.is_none());
    assert!(p.fetched_bytes <= BUDGET + 1024);
}

#[test]
fn a_tiny_budget_is_respected() {
    let limits = ProbeLimits {
        budget: 40 * 1024,
        ..ProbeLimits::default()
    };
    let p = probe_file(&fixture("cbr_noxing.mp3"), &limits);
    assert!(p.error.is_some(), "the VBR estimate needs more than 40 KiB");
    // The ID3v2 tag is allowed on top of the budget (it is where the art lives).
    let head = std::fs::read(fixture("cbr_noxing.mp3")).expect("fixture");
    let tag = 10
        + head[6..10]
            .iter()
            .fold(0u64, |a, b| (a << 7) | u64::from(b & 0x7F));
    assert!(
        p.fetched_bytes <= 40 * 1024 + tag,
        "{} > 40 KiB + {tag}",
        p.fetched_bytes
    );
    assert_eq!(p.meta.title.as_deref(), Some("cbr_noxing.mp3"), "tags kept");
}

/// A fetch that fails after `ok` calls, or is slow.
struct Flaky {
    inner: FileFetch,
    ok: u64,
    calls: AtomicU64,
    delay: Duration,
}

impl RangeFetch for Flaky {
    fn fetch(&self, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
        std::thread::sleep(self.delay);
        if self.calls.fetch_add(1, Ordering::SeqCst) >= self.ok {
            return Err(std::io::Error::other("connection reset"));
        }
        self.inner.fetch(start, end)
    }
}

#[test]
fn a_failing_fetch_is_an_error_not_a_panic() {
    let path = fixture("v24_cover.mp3");
    let size = std::fs::metadata(&path).expect("stat").len();
    for ok in 0..4 {
        let f = Flaky {
            inner: FileFetch::open(&path),
            ok,
            calls: AtomicU64::new(0),
            delay: Duration::ZERO,
        };
        let p = probe(&f, "v24_cover.mp3", size, &ProbeLimits::default());
        if ok < 3 {
            let e = p.error.expect("an error");
            assert!(e.contains("connection reset"), "{ok}: {e}");
        }
    }
}

#[test]
fn the_time_limit_stops_further_reads() {
    let path = fixture("cbr_noxing.mp3");
    let size = std::fs::metadata(&path).expect("stat").len();
    let f = Flaky {
        inner: FileFetch::open(&path),
        ok: u64::MAX,
        calls: AtomicU64::new(0),
        delay: Duration::from_millis(30),
    };
    let limits = ProbeLimits {
        timeout: Duration::from_millis(50),
        ..ProbeLimits::default()
    };
    let p = probe(&f, "cbr_noxing.mp3", size, &limits);
    let e = p.error.expect("an error");
    assert!(e.contains("time limit"), "{e}");
    assert!(f.calls.load(Ordering::SeqCst) < 10);
}

#[test]
fn an_empty_object_is_an_error() {
    let p = probe_file(&write("empty.mp3", &[]), &ProbeLimits::default());
    assert_eq!(p.error.as_deref(), Some("empty object"));
    assert_eq!(p.fetched_bytes, 0);
}

#[test]
fn mutated_real_files_never_panic_or_overread() {
    let limits = ProbeLimits {
        budget: 64 * 1024,
        art_max: 64 * 1024,
        ..ProbeLimits::default()
    };
    let names = [
        "v24_cover.mp3",
        "vbr_noxing.mp3",
        "moov_end.m4a",
        "picture.flac",
        "unicode.opus",
        "unicode.ogg",
        "tagged.wav",
        "tagged.aiff",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut errors = 0;
    for name in names {
        let original = std::fs::read(fixture(name)).expect("fixture");
        for round in 0..60 {
            let mut bytes = original.clone();
            // Mostly the head (where the headers are), sometimes anywhere; sometimes cut.
            for _ in 0..1 + next() % 8 {
                let span = if next() % 4 == 0 {
                    bytes.len()
                } else {
                    bytes.len().min(4096)
                };
                let at = (next() % span as u64) as usize;
                bytes[at] = next() as u8;
            }
            if round % 5 == 0 {
                bytes.truncate((next() % bytes.len() as u64) as usize);
            }
            let size = bytes.len() as u64;
            let p = probe(&MemFetch(bytes), name, size, &limits);
            errors += usize::from(p.error.is_some());
            assert!(
                p.fetched_bytes <= size.min(limits.budget + limits.art_max),
                "{name} {round}"
            );
            let m = &p.meta;
            for text in [&m.title, &m.artist, &m.album, &m.album_artist, &m.genre]
                .into_iter()
                .flatten()
            {
                assert!(text.chars().count() <= 1024);
            }
        }
    }
    println!(
        "mutated files: {errors} of {} gave an error",
        names.len() * 60
    );
    assert!(errors > 0, "some mutations must be caught");
}

#[test]
fn an_id3v2_tag_in_front_of_flac_is_still_flac() {
    let mp3 = std::fs::read(fixture("v24_cover.mp3")).expect("mp3");
    let tag_len = 10
        + mp3[6..10]
            .iter()
            .fold(0usize, |a, b| (a << 7) | usize::from(b & 0x7F));
    let mut bytes = mp3[..tag_len].to_vec();
    bytes.extend(std::fs::read(fixture("picture.flac")).expect("flac"));
    let p = probe_file(&write("id3_front.flac", &bytes), &ProbeLimits::default());
    assert_eq!(p.error, None);
    assert_eq!(p.meta.audio_codec.as_deref(), Some("flac"));
    assert_eq!(p.meta.duration_ms, Some(20_000));
    assert!(p.art.is_some());
}
