//! `probe` against real files made with ffmpeg, compared with ffprobe as an independent
//! reader, with the bytes read counted by a file-backed `RangeFetch`. Run with `--nocapture`
//! to see the per-fixture table of bytes read.

mod probe_fixtures;

use std::path::Path;
use std::sync::atomic::Ordering;

use bucketstream_core::catalog::meta::{bounded_text, MAX_TEXT_CHARS};
use bucketstream_library::probe::{probe, ProbeLimits, Probed};
use probe_fixtures::{ffprobe, fixture, long_title, tag, FileFetch, HOSTILE, UNICODE_TITLE};
use serde_json::Value;

const BUDGET: u64 = 256 * 1024;

/// Probes `path` with the default limits; returns the result and the bytes the fetch served.
fn run(path: &Path) -> (Probed, u64, u64) {
    let fetch = FileFetch::open(path);
    let size = std::fs::metadata(path).expect("stat").len();
    let name = path.file_name().and_then(|n| n.to_str()).expect("name");
    let probed = probe(&fetch, name, size, &ProbeLimits::default());
    let served = fetch.bytes.load(Ordering::SeqCst);
    assert_eq!(
        probed.fetched_bytes, served,
        "fetched_bytes counts what was served"
    );
    (probed, served, fetch.requests.load(Ordering::SeqCst))
}

fn audio_stream(json: &Value) -> &Value {
    json["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "audio"))
        .expect("an audio stream")
}

/// The reference duration in ms: decoded packets for mp3 (ffprobe itself only estimates
/// the duration of a VBR mp3 without a Xing header), the container's duration otherwise.
fn reference_ms(json: &Value, mp3: bool) -> f64 {
    if mp3 {
        let a = audio_stream(json);
        let packets: f64 = a["nb_read_packets"]
            .as_str()
            .expect("packets")
            .parse()
            .expect("n");
        let rate: f64 = a["sample_rate"].as_str().expect("rate").parse().expect("n");
        return packets * 1152.0 / rate * 1000.0;
    }
    let d: f64 = json["format"]["duration"]
        .as_str()
        .expect("duration")
        .parse()
        .expect("n");
    d * 1000.0
}

fn number(text: Option<String>) -> Option<u32> {
    text.and_then(|t| t.split('/').next()?.trim().parse().ok())
}

/// Probes fixture `name`, checks every value against ffprobe and the byte bound, prints a row.
fn check(name: &str, art: bool) -> Probed {
    let path = fixture(name);
    let size = std::fs::metadata(&path).expect("stat").len();
    let (p, served, requests) = run(&path);
    let mp3 = name.ends_with(".mp3");
    let json = ffprobe(&path, mp3);
    let m = &p.meta;
    let art_len = p.art.as_ref().map_or(0, |a| a.bytes.len() as u64);
    let ours = m.duration_ms.expect("a duration") as f64;
    let reference = reference_ms(&json, mp3);
    println!(
        "| {name} | {size} | {served} | {requests} | {art_len} | {ours:.0} | {reference:.0} | {:+.2}% |",
        (ours - reference) / reference * 100.0
    );
    assert_eq!(p.error, None, "{name}: no error");
    assert!(
        (ours - reference).abs() <= reference * 0.02,
        "{name}: duration {ours} ms vs {reference} ms"
    );
    assert!(
        served <= BUDGET + art_len,
        "{name}: {served} bytes read, art {art_len}"
    );
    // Tags, as ffprobe reads them.
    let text = |k: &str| {
        tag(&json, k)
            .and_then(|t| bounded_text(&t))
            .map(std::sync::Arc::<str>::from)
    };
    assert_eq!(m.title, text("title"), "{name}: title");
    assert!(m.title.is_some(), "{name}: has a title");
    assert_eq!(m.artist, text("artist"), "{name}: artist");
    assert_eq!(m.album, text("album"), "{name}: album");
    assert_eq!(m.genre, text("genre"), "{name}: genre");
    assert_eq!(m.track, number(tag(&json, "track")), "{name}: track");
    let year = tag(&json, "date").and_then(|d| d.get(..4)?.parse().ok());
    assert_eq!(m.year, year, "{name}: year");
    if !name.ends_with(".wav") {
        assert_eq!(m.album_artist, text("album_artist"), "{name}: album artist");
        assert_eq!(m.disc, number(tag(&json, "disc")), "{name}: disc");
    }
    // Technical facts.
    let a = audio_stream(&json);
    assert_eq!(
        m.audio_codec.as_deref(),
        a["codec_name"].as_str(),
        "{name}: codec"
    );
    assert_eq!(
        m.channels.map(u64::from),
        a["channels"].as_u64(),
        "{name}: channels"
    );
    let rate: Option<u32> = a["sample_rate"].as_str().and_then(|r| r.parse().ok());
    if !name.ends_with(".opus") {
        assert_eq!(m.sample_rate, rate, "{name}: sample rate");
    }
    assert!(m.bitrate_kbps.is_some_and(|b| b > 0), "{name}: bitrate");
    assert_eq!(m.art, None, "{name}: the art path is the caller's");
    if art {
        let cover = std::fs::read(fixture("cover.png")).expect("cover");
        let got = p.art.as_ref().expect("a cover");
        assert_eq!(got.mime, "image/png", "{name}: art type");
        assert!(got.bytes == cover, "{name}: the cover's bytes as embedded");
    } else {
        assert!(p.art.is_none(), "{name}: no art");
    }
    p
}

#[test]
fn mp3_id3v24_with_cover() {
    check("v24_cover.mp3", true);
}

#[test]
fn mp3_id3v23_with_cover() {
    check("v23_cover.mp3", true);
}

#[test]
fn mp3_id3v1_only() {
    check("id3v1.mp3", false);
}

#[test]
fn mp3_cbr_with_and_without_xing() {
    check("cbr_xing.mp3", false);
    check("cbr_noxing.mp3", false);
}

#[test]
fn mp3_vbr_with_and_without_xing() {
    check("vbr_xing.mp3", false);
    check("vbr_noxing.mp3", false);
    check("vbr_noxing_long.mp3", false);
}

#[test]
fn mp3_of_200_mb_reads_at_most_256_kib() {
    let p = check("big.mp3", false);
    assert!(std::fs::metadata(fixture("big.mp3")).expect("stat").len() > 190_000_000);
    assert!(p.fetched_bytes <= BUDGET, "{}", p.fetched_bytes);
}

#[test]
fn m4a_with_moov_at_the_end_and_a_cover() {
    let path = fixture("moov_end.m4a");
    let bytes = std::fs::read(&path).expect("read");
    let at = |k: &[u8]| bytes.windows(4).position(|w| w == k).expect("atom");
    assert!(at(b"moov") > at(b"mdat"), "moov after mdat");
    check("moov_end.m4a", true);
}

#[test]
fn flac_with_picture() {
    check("picture.flac", true);
}

#[test]
fn opus_and_vorbis_with_unicode_tags() {
    for name in ["unicode.opus", "unicode.ogg"] {
        let p = check(name, false);
        assert_eq!(p.meta.title.as_deref(), Some(UNICODE_TITLE));
        assert_eq!(p.meta.artist.as_deref(), Some("Björk Guðmundsdóttir"));
    }
}

#[test]
fn wav_and_aiff_tags() {
    check("tagged.wav", false);
    check("tagged.aiff", false);
}

#[test]
fn html_in_a_tag_is_kept_verbatim() {
    let p = check("html.mp3", true);
    assert_eq!(p.meta.title.as_deref(), Some(HOSTILE));
}

#[test]
fn a_20_kb_title_is_cut_to_1024_chars() {
    let p = check("long_title.mp3", true);
    let title = p.meta.title.expect("title");
    assert_eq!(title.chars().count(), MAX_TEXT_CHARS);
    assert!(long_title().starts_with(&*title));
}

#[test]
fn mp4_video_gives_title_and_duration() {
    let path = fixture("video.mp4");
    let (p, served, _) = run(&path);
    let json = ffprobe(&path, false);
    let reference = reference_ms(&json, false);
    let ours = p.meta.duration_ms.expect("duration") as f64;
    println!(
        "| video.mp4 | {} | {served} | | 0 | {ours:.0} | {reference:.0} | |",
        std::fs::metadata(&path).expect("stat").len()
    );
    assert_eq!(p.meta.title.as_deref(), Some("A short film"));
    assert!((ours - reference).abs() <= reference * 0.02);
    assert_eq!(p.meta.audio_codec.as_deref(), Some("aac"));
    assert!(served <= BUDGET);
}

#[test]
fn webm_has_no_tag_reader_and_says_so() {
    let (p, served, _) = run(&fixture("video.webm"));
    assert!(p.error.is_some(), "{p:?}");
    assert!(served <= BUDGET);
}

#[test]
fn mp4_without_sound_gets_the_movie_duration() {
    let path = fixture("wide.mp4");
    let (p, served, _) = run(&path);
    let reference = reference_ms(&ffprobe(&path, false), false);
    let ours = p.meta.duration_ms.expect("duration") as f64;
    assert!(
        (ours - reference).abs() <= reference * 0.02,
        "{ours} vs {reference}"
    );
    assert_eq!(p.meta.audio_codec, None);
    assert!(served <= BUDGET);
}
