//! The scan without ffmpeg or a server to read videos through: a video still gets what its
//! container's own tags say (title, duration), read with the same small ranged reads as
//! audio; it gets no poster. Over a real local folder and a real SQLite file.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::config::{CacheConfig, Config, LibraryConfig, LocalConfig, SourceConfig};
use bucketstream_core::Library;
use bucketstream_library::MediaLibrary;

/// A library over the folder `root`, its database in `data`, no cache, no refresher.
async fn local_library(root: &Path, data: &Path) -> Arc<Library> {
    let config = Config {
        bind: [127, 0, 0, 1].into(),
        port: 0,
        refresh: None,
        source: SourceConfig::Local(LocalConfig {
            roots: vec![root.to_owned()],
        }),
        cache: CacheConfig {
            enabled: false,
            dir: None,
            max_bytes: 0,
            direct: false,
        },
        library: LibraryConfig::new(data.to_owned()),
    };
    Library::new(config).await.expect("library")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_without_ffprobe_keeps_its_title_and_duration() {
    let media = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let film = media.path().join("film.mp4");
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .args([
            "testsrc=size=160x120:rate=10:duration=3",
            "-f",
            "lavfi",
            "-i",
        ])
        .args([
            "sine=duration=3",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .args(["-metadata", "title=Offline film"])
        .arg(&film)
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let library = local_library(media.path(), data.path()).await;
    let (lib, seeded) = MediaLibrary::start(&library).await;
    let lib = lib.expect("opens");
    assert!(!seeded);
    library.refresh().await.expect("listing");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&lib).run(None, stopped));
    let mut progress = library.scan_progress().subscribe();
    tokio::time::timeout(
        Duration::from_secs(60),
        progress.wait_for(|p| !p.running && p.total == 1 && p.done == 1),
    )
    .await
    .expect("the scan ends")
    .expect("progress");
    let _ = stop.send(true);
    let _ = task.await;
    let snap = library.snapshot();
    let item = &snap.items[0];
    let record = lib
        .db()
        .get(
            &bucketstream_library::scan::source_key(&library),
            &item.key,
            item.etag.as_deref(),
            item.size,
        )
        .expect("db");
    assert_eq!(
        item.meta.title.as_deref(),
        Some("Offline film"),
        "{record:?}"
    );
    let ms = item.meta.duration_ms.expect("a duration");
    assert!((2900..=3100).contains(&ms), "{ms}");
    assert_eq!(item.meta.art, None, "no poster without ffmpeg");
}

/// The scan yields to playback by [`Library::playing`]: an open media body counts until it is
/// dropped, whether read to the end or abandoned.
#[tokio::test]
async fn open_media_streams_are_counted_until_dropped() {
    let media = tempfile::tempdir().expect("tempdir");
    std::fs::write(media.path().join("a.mp3"), vec![7u8; 100_000]).expect("write");
    let library = local_library(media.path(), &media.path().join("data")).await;
    let snap = library.refresh().await.expect("listing");
    let item = snap.items[0].clone();
    assert_eq!(library.playing(), 0);
    let whole = library.open(&item, None).await.expect("open");
    let part = library.open(&item, Some((0, 9))).await.expect("open");
    assert_eq!(library.playing(), 2);
    let mut stream = whole.stream;
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        chunk.expect("bytes");
    }
    drop(stream);
    assert_eq!(library.playing(), 1, "read to the end and dropped");
    drop(part);
    assert_eq!(library.playing(), 0, "abandoned");
}
