//! ffprobe and ffmpeg for subtitle tracks inside a video, both reading this server's own
//! loopback `/media` URL (so ranged reads through the edge cache): ffprobe lists the subtitle
//! streams from the header; ffmpeg extracts one as SubRip, reading the whole file, which the
//! same converter as sidecar files turns into WebVTT (so both get the same markup rules).

use std::time::Duration;

use bucketstream_library::probe::{run_tool, ProbeError};
use bucketstream_transcode::subtitle::{self, Format};
use serde_json::Value;

use super::SubtitleError;

/// Containers that can hold text subtitle tracks ffmpeg turns into WebVTT.
const TEXT_CONTAINERS: [&str; 5] = ["mkv", "mp4", "m4v", "mov", "webm"];

/// Whether `key`'s container can hold text subtitle tracks (by extension, any case).
pub(super) fn may_hold_text(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| TEXT_CONTAINERS.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// ffprobe's JSON of the subtitle streams of `url`.
pub(super) async fn probe(url: &str, timeout: Duration) -> Result<Value, ProbeError> {
    let args = [
        "-v",
        "error",
        "-of",
        "json",
        "-show_streams",
        "-select_streams",
        "s",
        "-i",
        url,
    ];
    let out = run_tool("ffprobe", &args, timeout).await?;
    serde_json::from_slice(&out).map_err(|e| ProbeError::BadOutput(e.to_string()))
}

/// The subtitle stream `index` (`-map 0:s:N`) of `url` as WebVTT: extracted by ffmpeg as
/// SubRip with the container's own times (`-copyts`: no shift for a stream that starts
/// before 0, such as AAC's priming), then converted. A track without cues is an empty
/// document.
pub(super) async fn extract(
    url: String,
    index: usize,
    timeout: Duration,
) -> Result<String, SubtitleError> {
    let map = format!("0:s:{index}");
    let args = [
        "-v", "error", "-nostdin", "-copyts", "-i", &url, "-map", &map, "-f", "srt", "-",
    ];
    let out = run_tool("ffmpeg", &args, timeout)
        .await
        .map_err(|err| match err {
            ProbeError::ToolMissing(tool) => SubtitleError::Unreadable(format!(
                "{tool} is not installed on the server; install ffmpeg to read subtitles inside videos"
            )),
            other => SubtitleError::Unreadable(other.to_string()),
        })?;
    if out.iter().all(u8::is_ascii_whitespace) {
        return Ok("WEBVTT\n".to_owned());
    }
    tokio::task::spawn_blocking(move || subtitle::to_webvtt(&out, Format::Srt))
        .await
        .map_err(|e| SubtitleError::Unreadable(e.to_string()))?
        .map_err(|e| SubtitleError::Unreadable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers() {
        for (key, want) in [
            ("a/Film.MKV", true),
            ("Film.mp4", true),
            ("x.m4v", true),
            ("song.mp3", false),
            ("mkv", false),
            ("a.mkv/b.ogg", false),
        ] {
            assert_eq!(may_hold_text(key), want, "{key}");
        }
    }
}
