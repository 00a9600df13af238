//! Video facts and posters through the system's ffprobe/ffmpeg, on videos made with ffmpeg:
//! the values are the ones the videos were made with; a stuck input times out.

mod probe_fixtures;

use std::time::Duration;

use bucketstream_library::probe::{poster, probe_video, ProbeError};
use probe_fixtures::fixture;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn mp4_and_webm_facts() {
    let mp4 = fixture("video.mp4");
    let v = probe_video(mp4.to_str().expect("path"), LIMIT)
        .await
        .expect("mp4");
    assert_eq!((v.width, v.height), (Some(640), Some(360)));
    assert_eq!(v.video_codec.as_deref(), Some("h264"));
    assert_eq!(v.audio_codec.as_deref(), Some("aac"));
    assert_eq!(v.title.as_deref(), Some("A short film"));
    let ms = v.duration_ms.expect("duration");
    assert!(ms.abs_diff(10_000) <= 200, "{ms}");

    let webm = fixture("video.webm");
    let v = probe_video(webm.to_str().expect("path"), LIMIT)
        .await
        .expect("webm");
    assert_eq!((v.width, v.height), (Some(320), Some(240)));
    assert_eq!(v.video_codec.as_deref(), Some("vp8"));
    assert_eq!(v.audio_codec.as_deref(), Some("opus"));
    assert_eq!(v.title.as_deref(), Some("A webm film"));
    let ms = v.duration_ms.expect("duration");
    assert!(ms.abs_diff(6_000) <= 200, "{ms}");
}

#[tokio::test]
async fn a_poster_is_one_jpeg_at_most_1000_px_wide() {
    for (name, width, height) in [
        ("video.mp4", 640, 360),
        ("wide.mp4", 1000, 562),
        ("video.webm", 320, 240),
    ] {
        let path = fixture(name);
        let jpeg = poster(path.to_str().expect("path"), 1_000, LIMIT)
            .await
            .expect("poster");
        let img =
            image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).expect("a JPEG");
        assert_eq!((img.width(), img.height()), (width, height), "{name}");
    }
}

#[tokio::test]
async fn a_poster_past_the_end_or_of_no_video_is_an_error() {
    let audio = fixture("unicode.opus");
    let e = poster(audio.to_str().expect("path"), 1_000, LIMIT).await;
    assert!(matches!(e, Err(ProbeError::Failed { .. })), "{e:?}");
    let missing = probe_video("/nonexistent/bucketstream.mp4", LIMIT).await;
    assert!(
        matches!(missing, Err(ProbeError::Failed { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_stuck_input_times_out() {
    // ffprobe blocks opening a FIFO that nobody writes to.
    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("stuck.mp4");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let e = probe_video(fifo.to_str().expect("path"), Duration::from_millis(500)).await;
    assert!(matches!(e, Err(ProbeError::Timeout("ffprobe", _))), "{e:?}");
    let e = poster(fifo.to_str().expect("path"), 0, Duration::from_millis(500)).await;
    assert!(matches!(e, Err(ProbeError::Timeout("ffmpeg", _))), "{e:?}");
}
