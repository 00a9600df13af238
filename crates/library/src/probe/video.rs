//! Video facts and a poster frame from the system's `ffprobe`/`ffmpeg`, run against a URL (the
//! server's own loopback `/media` URL, so their range reads go through the edge cache) or a
//! file path, with a small probe size, a timeout, and the child killed when it runs over.

use std::process::Stdio;
use std::time::Duration;

use bucketstream_core::catalog::meta::bounded_text;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// Bytes ffmpeg/ffprobe may read before deciding what the streams are.
const PROBE_SIZE: &str = "262144";
/// Microseconds of media they may analyse.
const ANALYZE_US: &str = "5000000";
/// The largest output read from either tool (JSON or one JPEG).
const MAX_OUTPUT: u64 = 16 * 1024 * 1024;

/// What went wrong running ffprobe or ffmpeg.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The tool is not installed (not on `PATH`): no poster, the rest is still read.
    #[error("{0} is not installed")]
    ToolMissing(&'static str),
    /// The tool ran longer than the timeout and was killed.
    #[error("{0} took longer than {1:?} and was stopped")]
    Timeout(&'static str, Duration),
    /// The tool failed (exit status and the start of its error output).
    #[error("{tool} failed: {message}")]
    Failed {
        /// `ffprobe` or `ffmpeg`.
        tool: &'static str,
        /// Exit status and the first line of stderr.
        message: String,
    },
    /// ffprobe's output was not the JSON expected.
    #[error("ffprobe output unreadable: {0}")]
    BadOutput(String),
}

/// Facts about a video object, as ffprobe reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VideoInfo {
    /// Container duration in milliseconds.
    pub duration_ms: Option<u64>,
    /// Width of the first video stream.
    pub width: Option<u32>,
    /// Height of the first video stream.
    pub height: Option<u32>,
    /// First video stream's codec (`h264`, `vp9`, …).
    pub video_codec: Option<String>,
    /// First audio stream's codec (`aac`, `opus`, …).
    pub audio_codec: Option<String>,
    /// The container's title tag, bounded like every tag text.
    pub title: Option<String>,
}

/// Video facts with ffprobe against `url` (an http URL or a file path).
pub async fn probe_video(url: &str, timeout: Duration) -> Result<VideoInfo, ProbeError> {
    let args = [
        "-v",
        "error",
        "-probesize",
        PROBE_SIZE,
        "-analyzeduration",
        ANALYZE_US,
        "-of",
        "json",
        "-show_format",
        "-show_streams",
        "-i",
        url,
    ];
    let out = run("ffprobe", &args, timeout).await?;
    let json: Value =
        serde_json::from_slice(&out).map_err(|e| ProbeError::BadOutput(e.to_string()))?;
    Ok(parse_ffprobe(&json))
}

/// [`VideoInfo`] from ffprobe's `-show_format -show_streams` JSON.
pub fn parse_ffprobe(json: &Value) -> VideoInfo {
    let streams = json["streams"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    // The first real video stream (a cover is an `attached_pic` video stream).
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video" && s["disposition"]["attached_pic"] != 1);
    let audio = streams.iter().find(|s| s["codec_type"] == "audio");
    let dim = |s: Option<&Value>, k: &str| {
        s.and_then(|s| s[k].as_u64())
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v > 0)
    };
    let codec = |s: Option<&Value>| {
        s.and_then(|s| s["codec_name"].as_str())
            .and_then(bounded_text)
            .map(|c| c.chars().take(32).collect())
    };
    let format = &json["format"];
    let duration_ms = format["duration"]
        .as_str()
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d > 0.0 && *d < 1e12)
        .map(|d| (d * 1000.0).round() as u64);
    let title = format["tags"]
        .as_object()
        .and_then(|tags| {
            tags.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("title"))
                .and_then(|(_, v)| v.as_str())
        })
        .and_then(bounded_text);
    VideoInfo {
        duration_ms,
        width: dim(video, "width"),
        height: dim(video, "height"),
        video_codec: codec(video),
        audio_codec: codec(audio),
        title,
    }
}

/// One JPEG frame about `at_ms` into `url` (seeking before the input), at most 1000 px wide.
pub async fn poster(url: &str, at_ms: u64, timeout: Duration) -> Result<Vec<u8>, ProbeError> {
    let at = format!("{}.{:03}", at_ms / 1000, at_ms % 1000);
    let args = [
        "-v",
        "error",
        "-nostdin",
        "-probesize",
        PROBE_SIZE,
        "-analyzeduration",
        ANALYZE_US,
        // The keyframe at or before `at`, decoded alone: without these two, ffmpeg reads
        // (and drops) every frame from that keyframe to `at`, megabytes of a film.
        "-noaccurate_seek",
        "-copyts",
        "-ss",
        &at,
        "-i",
        url,
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        "scale='min(1000,iw)':-2",
        "-f",
        "image2pipe",
        "-c:v",
        "mjpeg",
        "-q:v",
        "4",
        "-",
    ];
    let jpeg = run("ffmpeg", &args, timeout).await?;
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return Err(ProbeError::Failed {
            tool: "ffmpeg",
            message: "no frame decoded".to_owned(),
        });
    }
    Ok(jpeg)
}

/// Runs `tool` with `args`, returning its stdout (at most [`MAX_OUTPUT`]); killed on timeout
/// (and when the future is dropped). Also used by the LAN server's subtitle extraction.
pub async fn run(
    tool: &'static str,
    args: &[&str],
    timeout: Duration,
) -> Result<Vec<u8>, ProbeError> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ProbeError::ToolMissing(tool),
            _ => ProbeError::Failed {
                tool,
                message: e.to_string(),
            },
        })?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(ProbeError::Failed {
            tool,
            message: "no pipes".to_owned(),
        });
    };
    let work = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut stdout = stdout.take(MAX_OUTPUT);
        let mut stderr = stderr.take(64 * 1024);
        let (a, b) = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
        let status = child.wait().await;
        (a.and(b).and(status), out, err)
    };
    // On timeout the future (and with it `child`) is dropped: kill_on_drop stops the tool.
    let (status, out, err) = tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| ProbeError::Timeout(tool, timeout))?;
    let failed = |message: String| ProbeError::Failed { tool, message };
    let status = status.map_err(|e| failed(e.to_string()))?;
    if !status.success() {
        let first = String::from_utf8_lossy(&err);
        let line = first
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(300)
            .collect::<String>();
        return Err(failed(format!("{status}: {line}")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_tool_says_so() {
        let e = run("bucketstream-no-such-tool", &["-h"], Duration::from_secs(5)).await;
        assert!(matches!(e, Err(ProbeError::ToolMissing(_))), "{e:?}");
    }

    #[test]
    fn ffprobe_json_is_read_defensively() {
        let json = serde_json::json!({
            "streams": [
                {"codec_type": "video", "codec_name": "mjpeg", "width": 300, "height": 300,
                 "disposition": {"attached_pic": 1}},
                {"codec_type": "audio", "codec_name": "aac"},
                {"codec_type": "video", "codec_name": "h264", "width": -1, "height": "x"}
            ],
            "format": {"duration": "NaN", "tags": {"TITLE": "<b>".repeat(1000)}}
        });
        let v = parse_ffprobe(&json);
        assert_eq!(
            v.video_codec.as_deref(),
            Some("h264"),
            "the film, not the cover"
        );
        assert_eq!((v.width, v.height), (None, None));
        assert_eq!(v.audio_codec.as_deref(), Some("aac"));
        assert_eq!(v.duration_ms, None);
        assert_eq!(v.title.map(|t| t.chars().count()), Some(1024));
        assert_eq!(
            parse_ffprobe(&serde_json::json!("nonsense")),
            VideoInfo::default()
        );
    }
}
