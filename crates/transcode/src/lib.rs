//! Making everything in a library play in a browser: subtitles offered as WebVTT tracks
//! ([`subtitle`]: sidecar files found beside a video, SRT and ASS/SSA converted to WebVTT),
//! and remux and transcode with the system's ffmpeg ([`ffmpeg`]: fragmented MP4 from any
//! start, cached and shared, bounded).
//!
//! The conversions are pure functions over text, table-tested and fuzzable: subtitle files
//! are user content of any quality, so bad cues are skipped, never fatal.

pub mod ffmpeg;
pub mod subtitle;
