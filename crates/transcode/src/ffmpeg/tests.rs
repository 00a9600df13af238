//! The manager with the real ffmpeg over a fixture file: cache, sharing, bound, missing tool.

use std::path::Path;
use std::process::Command;

use futures_util::StreamExt;

use super::*;

fn fixture(dir: &Path) -> String {
    let out = dir.join("in.mkv");
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            "4",
        ])
        .args([
            "-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "ac3",
        ])
        .arg(&out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    out.display().to_string()
}

fn manager(dir: &Path, ffmpeg: &str, max: usize) -> Manager {
    Manager::new(Settings {
        ffmpeg: ffmpeg.into(),
        max_concurrent: max,
        cache_dir: dir.join("cache"),
        cache_max_bytes: 1 << 30,
        keep: true,
    })
    .expect("manager")
}

fn request(url: &str, mode: Mode, start_ms: u64) -> Request {
    Request {
        id: "item".into(),
        etag: Some("\"v1\"".into()),
        profile: Profile {
            mode,
            start_ms,
            max_bitrate_kbps: None,
            codec: AudioCodec::Aac,
        },
        input: Input {
            url: url.to_owned(),
            headers: None,
            audio_item: false,
        },
        session: None,
    }
}

async fn drain(out: Output) -> Vec<u8> {
    let mut body = out.body;
    let mut all = Vec::new();
    while let Some(piece) = body.next().await {
        all.extend_from_slice(&piece.expect("whole stream"));
    }
    all
}

#[tokio::test]
async fn a_finished_output_is_cached_and_a_running_one_shared() {
    let tmp = tempfile::tempdir().expect("tmp");
    let url = fixture(tmp.path());
    let m = manager(tmp.path(), "ffmpeg", 2);
    let first = m.open(request(&url, Mode::Audio, 0)).await.expect("first");
    assert_eq!(first.source, Served::Started);
    assert_eq!(first.content_type, "video/mp4");
    let second = m.open(request(&url, Mode::Audio, 0)).await.expect("second");
    // The same run, unless it finished in between (then the entry).
    assert_ne!(second.source, Served::Started);
    let (a, b) = tokio::join!(drain(first), drain(second));
    assert!(a.len() > 1000);
    assert_eq!(a, b, "both clients got the same bytes");
    let third = m.open(request(&url, Mode::Audio, 0)).await.expect("third");
    assert_eq!(third.source, Served::Cached);
    assert_eq!(drain(third).await, a);
    assert_eq!(m.running(), 0);
}

#[tokio::test]
async fn a_seek_by_stream_copy_starts_at_the_keyframe_before() {
    let tmp = tempfile::tempdir().expect("tmp");
    let url = fixture(tmp.path());
    let m = manager(tmp.path(), "ffmpeg", 2);
    // Keyframes every second at 0.005 + n: 2.5 s starts at the one at 2.005 (to a frame).
    let out = m
        .open(request(&url, Mode::Audio, 2500))
        .await
        .expect("open");
    assert!(
        (1900..=2100).contains(&out.start_ms),
        "start {}",
        out.start_ms
    );
    // A full transcode starts where asked.
    let out = m.open(request(&url, Mode::Full, 2500)).await.expect("open");
    // (AAC's priming samples put zero a frame earlier.)
    assert!(
        (2450..=2500).contains(&out.start_ms),
        "start {}",
        out.start_ms
    );
}

#[tokio::test]
async fn bound_missing_tool_and_bad_input_are_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let url = fixture(tmp.path());
    let missing = manager(tmp.path(), "/nonexistent/ffmpeg", 1);
    let err = missing.open(request(&url, Mode::Remux, 0)).await.err();
    assert!(
        matches!(err, Some(TranscodeError::FfmpegMissing(_))),
        "{err:?}"
    );
    let garbage = tmp.path().join("bad.mkv");
    std::fs::write(&garbage, vec![7u8; 5000]).expect("write");
    let m = manager(tmp.path(), "ffmpeg", 1);
    let err = m
        .open(request(&garbage.display().to_string(), Mode::Remux, 0))
        .await
        .err();
    match err {
        Some(TranscodeError::Failed(why)) => assert!(!why.is_empty()),
        other => panic!("{other:?}"),
    }
    // The failed run gave its slot back (the bound is 1): the next stream starts.
    let next = m
        .open(request(&url, Mode::Remux, 0))
        .await
        .expect("a slot is free");
    assert_eq!(next.source, Served::Started);
}

#[tokio::test]
async fn entries_over_the_cap_are_evicted_least_recently_used_first() {
    let tmp = tempfile::tempdir().expect("tmp");
    let url = fixture(tmp.path());
    // The output's size, from a manager without a cap that matters.
    let probe = manager(&tmp.path().join("probe"), "ffmpeg", 1);
    let one = drain(
        probe
            .open(request(&url, Mode::Remux, 0))
            .await
            .expect("one"),
    )
    .await;
    // Room for that output, not for it and another.
    let m = Manager::new(Settings {
        ffmpeg: "ffmpeg".into(),
        max_concurrent: 1,
        cache_dir: tmp.path().join("cache"),
        cache_max_bytes: one.len() as u64 + 1000,
        keep: true,
    })
    .expect("manager");
    assert_eq!(
        drain(m.open(request(&url, Mode::Remux, 0)).await.expect("one")).await,
        one
    );
    let again = m.open(request(&url, Mode::Remux, 0)).await.expect("again");
    assert_eq!(again.source, Served::Cached);
    drop(again);
    drain(m.open(request(&url, Mode::Remux, 1000)).await.expect("two")).await;
    // The first entry was the least recently used: gone, made again.
    let first = m.open(request(&url, Mode::Remux, 0)).await.expect("first");
    assert_eq!(first.source, Served::Started);
    assert_eq!(drain(first).await, one, "the same output again");
    let mut files: Vec<String> = std::fs::read_dir(tmp.path().join("cache"))
        .expect("dir")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .map(|n| n.rsplit('.').next().unwrap_or_default().to_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["meta", "out"],
        "only what fits is kept, with its record"
    );
}

#[tokio::test]
async fn finished_entries_outlive_a_restart_and_unfinished_ones_do_not() {
    let tmp = tempfile::tempdir().expect("tmp");
    let url = fixture(tmp.path());
    let first = manager(tmp.path(), "ffmpeg", 1);
    let made = first
        .open(request(&url, Mode::Audio, 2500))
        .await
        .expect("made");
    let start_ms = made.start_ms;
    let bytes = drain(made).await;
    drop(first);
    let cache = tmp.path().join("cache");
    // What a killed run leaves, and a file that is not ours.
    std::fs::write(cache.join(format!("{}-9.part", "a".repeat(64))), b"half").expect("part");
    std::fs::write(cache.join("notes.txt"), b"mine").expect("foreign");
    let again = manager(tmp.path(), "ffmpeg", 1);
    let out = again
        .open(request(&url, Mode::Audio, 2500))
        .await
        .expect("again");
    assert_eq!(out.source, Served::Cached, "no ffmpeg after a restart");
    assert_eq!(out.start_ms, start_ms, "the same zero, from its record");
    assert_eq!(drain(out).await, bytes);
    assert!(!cache.join(format!("{}-9.part", "a".repeat(64))).exists());
    assert_eq!(
        std::fs::read(cache.join("notes.txt")).expect("left alone"),
        b"mine"
    );
    // A record that no longer matches its entry: both go, and the output is made again.
    drop(again);
    for entry in std::fs::read_dir(&cache).expect("dir").flatten() {
        if entry.path().extension().is_some_and(|e| e == "meta") {
            std::fs::write(entry.path(), b"0 video/mp4 1\n").expect("spoil");
        }
    }
    let third = manager(tmp.path(), "ffmpeg", 1);
    let out = third
        .open(request(&url, Mode::Audio, 2500))
        .await
        .expect("third");
    assert_eq!(out.source, Served::Started);
    assert_eq!(drain(out).await, bytes);
    // A folder made for one run goes with its manager; others' files stay.
    drop(third);
    let once = Manager::new(Settings {
        ffmpeg: "ffmpeg".into(),
        max_concurrent: 1,
        cache_dir: tmp.path().join("once"),
        cache_max_bytes: 1 << 30,
        keep: false,
    })
    .expect("manager");
    drain(
        once.open(request(&url, Mode::Remux, 0))
            .await
            .expect("once"),
    )
    .await;
    assert!(tmp.path().join("once").exists());
    drop(once);
    assert!(
        !tmp.path().join("once").exists(),
        "removed with its manager"
    );
}
