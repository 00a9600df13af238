//! ffmpeg's command line for one stream: what to read, from where, and what to write.
//!
//! Pure: a [`Profile`] (mode, start, bitrate, audio codec) and an [`Input`] become the
//! argument list, table-tested below. The output is always one fragmented MP4 (or WebM for
//! Opus) on stdout, with timestamps starting at zero at the start asked for (see
//! [`super::probe::start_shift`] for where zero really falls when streams are copied).

use std::fmt;

/// How much ffmpeg does to the streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Streams copied into fragmented MP4 (the browser decodes them, not the container).
    Remux,
    /// Video copied, audio to AAC stereo; for audio items, the audio to AAC (or Opus).
    Audio,
    /// Video to H.264 (at most 720 lines), audio to AAC.
    Full,
}

impl Mode {
    /// The mode named `name` in a query (`remux`, `audio`, `full`).
    pub fn parse(name: &str) -> Option<Mode> {
        match name {
            "remux" => Some(Mode::Remux),
            "audio" => Some(Mode::Audio),
            "full" => Some(Mode::Full),
            _ => None,
        }
    }

    /// The name in a query and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Remux => "remux",
            Mode::Audio => "audio",
            Mode::Full => "full",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The audio codec of a transcoded audio item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AudioCodec {
    /// AAC in fragmented MP4 (every browser).
    #[default]
    Aac,
    /// Opus in WebM (smaller at low bitrates; not Safari before 17).
    Opus,
}

/// What the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Profile {
    /// How much is converted.
    pub mode: Mode,
    /// Where to start, in milliseconds from the start of the item.
    pub start_ms: u64,
    /// The highest bitrate wanted, kbit/s (audio: the audio bitrate; full: video and audio).
    pub max_bitrate_kbps: Option<u32>,
    /// The audio codec (audio items only; video items always get AAC).
    pub codec: AudioCodec,
}

/// What ffmpeg reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// An `http://` URL (the server's own `/media`) or a file path.
    pub url: String,
    /// Extra request headers for an http URL, each ending in CRLF.
    pub headers: Option<String>,
    /// The item is audio (no video stream is written).
    pub audio_item: bool,
}

/// AAC bitrate when none is asked, kbit/s.
pub const DEFAULT_AUDIO_KBPS: u32 = 192;
/// Lowest and highest audio bitrate accepted, kbit/s.
pub const AUDIO_KBPS: (u32, u32) = (16, 512);
/// Seconds between forced keyframes in a full transcode: each starts a fragment, so this is
/// about the longest a player waits for its first bytes after ffmpeg starts encoding.
pub const KEYFRAME_SECS: u32 = 1;
/// How long ffmpeg waits for a read of the source before it gives up, microseconds.
pub const READ_TIMEOUT_US: u64 = 20_000_000;

/// The Content-Type of the output for `input` and `profile`.
pub fn content_type(input: &Input, profile: &Profile) -> &'static str {
    match (input.audio_item, profile.codec) {
        (true, AudioCodec::Opus) => "audio/webm",
        (true, AudioCodec::Aac) => "audio/mp4",
        (false, _) => "video/mp4",
    }
}

/// Seconds with millisecond precision, as ffmpeg reads them (`12.345`).
pub fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// The arguments after the program name.
pub fn ffmpeg_args(input: &Input, profile: &Profile) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(|s| (*s).to_owned()));
    // `-debug_ts` logs each packet's timestamps (at info level): the first muxed packet tells
    // where the output's zero is in the item (see `probe::start_shift`).
    push(&["-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"]);
    push(&["-debug_ts"]);
    let http = input.url.starts_with("http://") || input.url.starts_with("https://");
    if http {
        push(&["-rw_timeout", &READ_TIMEOUT_US.to_string()]);
        if let Some(headers) = &input.headers {
            push(&["-headers", headers]);
        }
    }
    if profile.start_ms > 0 {
        // Before `-i`: a seek by the container's index (ranged reads), not a decode of all
        // that comes before.
        push(&["-ss", &seconds(profile.start_ms)]);
    }
    push(&["-i", &input.url]);
    let audio_kbps = profile
        .max_bitrate_kbps
        .map(|k| k.clamp(AUDIO_KBPS.0, AUDIO_KBPS.1))
        .unwrap_or(DEFAULT_AUDIO_KBPS);
    if input.audio_item {
        push(&["-map", "0:a:0", "-vn", "-sn", "-dn"]);
        let opus = profile.codec == AudioCodec::Opus;
        match (profile.mode, opus) {
            (Mode::Remux, _) => push(&["-c:a", "copy"]),
            (_, true) => push(&["-c:a", "libopus", "-b:a", &format!("{audio_kbps}k")]),
            (_, false) => push(&["-c:a", "aac", "-ac", "2", "-b:a", &format!("{audio_kbps}k")]),
        }
        if opus && profile.mode != Mode::Remux {
            push(&["-f", "webm", "-cluster_time_limit", "1000", "pipe:1"]);
        } else {
            // Audio packets are all keyframes: fragments by duration, one a second.
            push(&["-f", "mp4", "-frag_duration", "1000000"]);
            push(&[
                "-movflags",
                "empty_moov+default_base_moof+delay_moov",
                "pipe:1",
            ]);
        }
        return a;
    }
    push(&["-map", "0:v:0?", "-map", "0:a:0?", "-sn", "-dn"]);
    let aac = ["-c:a", "aac", "-ac", "2"];
    match profile.mode {
        Mode::Remux => push(&["-c", "copy"]),
        Mode::Audio => {
            push(&["-c:v", "copy"]);
            push(&aac);
            push(&["-b:a", &format!("{audio_kbps}k")]);
        }
        Mode::Full => {
            let audio = profile.max_bitrate_kbps.map_or(DEFAULT_AUDIO_KBPS, |k| {
                (k / 8).clamp(32, DEFAULT_AUDIO_KBPS)
            });
            push(&["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"]);
            push(&["-pix_fmt", "yuv420p", "-vf", "scale=-2:min(720\\,ih)"]);
            push(&[
                "-force_key_frames",
                &format!("expr:gte(t,n_forced*{KEYFRAME_SECS})"),
            ]);
            if let Some(total) = profile.max_bitrate_kbps {
                let video = total.saturating_sub(audio).max(100);
                push(&["-maxrate", &format!("{video}k")]);
                push(&["-bufsize", &format!("{}k", video * 2)]);
            }
            push(&aac);
            push(&["-b:a", &format!("{audio}k")]);
        }
    }
    push(&["-f", "mp4"]);
    push(&[
        "-movflags",
        "frag_keyframe+empty_moov+default_base_moof+delay_moov",
        "pipe:1",
    ]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(url: &str) -> Input {
        Input {
            url: url.to_owned(),
            headers: Some("X-T: 1\r\n".to_owned()),
            audio_item: false,
        }
    }

    fn profile(mode: Mode, start_ms: u64, max: Option<u32>) -> Profile {
        Profile {
            mode,
            start_ms,
            max_bitrate_kbps: max,
            codec: AudioCodec::Aac,
        }
    }

    /// Whether `args` holds `want` as consecutive arguments.
    fn has(args: &[String], want: &[&str]) -> bool {
        args.windows(want.len())
            .any(|w| w.iter().zip(want).all(|(a, b)| a == b))
    }

    #[test]
    fn modes_give_their_codecs() {
        let url = "http://127.0.0.1:1/media/abc";
        /// A profile, argument runs it must have, and arguments it must not.
        type Case<'a> = (Profile, &'a [&'a [&'a str]], &'a [&'a str]);
        let cases: &[Case] = &[
            (
                profile(Mode::Remux, 0, None),
                &[&["-c", "copy"]],
                &["-ss", "libx264"],
            ),
            (
                profile(Mode::Audio, 0, None),
                &[
                    &["-c:v", "copy"],
                    &["-c:a", "aac", "-ac", "2"],
                    &["-b:a", "192k"],
                ],
                &["libx264"],
            ),
            (
                profile(Mode::Full, 90_500, None),
                &[
                    &["-ss", "90.500", "-i", url],
                    &["-c:v", "libx264", "-preset", "veryfast"],
                    &["-pix_fmt", "yuv420p"],
                    &["-vf", "scale=-2:min(720\\,ih)"],
                ],
                &["-maxrate"],
            ),
            (
                profile(Mode::Full, 0, Some(2000)),
                &[
                    &["-maxrate", "1808k", "-bufsize", "3616k"],
                    &["-b:a", "192k"],
                ],
                &[],
            ),
            (
                profile(Mode::Full, 0, Some(400)),
                &[&["-maxrate", "350k"], &["-b:a", "50k"]],
                &[],
            ),
        ];
        for (p, wants, absent) in cases {
            let args = ffmpeg_args(&video(url), p);
            for want in *wants {
                assert!(has(&args, want), "{p:?}: {want:?} in {args:?}");
            }
            for no in *absent {
                assert!(!args.iter().any(|a| a == no), "{p:?}: no {no} in {args:?}");
            }
            assert!(has(&args, &["-headers", "X-T: 1\r\n"]), "{args:?}");
            assert!(
                has(&args, &["-map", "0:v:0?", "-map", "0:a:0?"]),
                "{args:?}"
            );
            assert_eq!(args.last().map(String::as_str), Some("pipe:1"));
            assert!(args
                .iter()
                .any(|a| a.starts_with("frag_keyframe+empty_moov")));
        }
    }

    #[test]
    fn audio_items_get_audio_only_output() {
        let input = Input {
            url: "/srv/a.wma".to_owned(),
            headers: Some("X: y\r\n".to_owned()),
            audio_item: true,
        };
        let mut p = profile(Mode::Audio, 0, Some(96));
        let args = ffmpeg_args(&input, &p);
        assert!(has(&args, &["-map", "0:a:0", "-vn"]));
        assert!(has(&args, &["-c:a", "aac", "-ac", "2", "-b:a", "96k"]));
        assert!(has(&args, &["-f", "mp4", "-frag_duration", "1000000"]));
        // A file path gets no http options.
        assert!(!args.iter().any(|a| a == "-headers" || a == "-rw_timeout"));
        assert_eq!(content_type(&input, &p), "audio/mp4");
        p.codec = AudioCodec::Opus;
        p.max_bitrate_kbps = Some(4);
        let args = ffmpeg_args(&input, &p);
        assert!(
            has(&args, &["-c:a", "libopus", "-b:a", "16k"]),
            "clamped: {args:?}"
        );
        assert!(has(&args, &["-f", "webm"]));
        assert_eq!(content_type(&input, &p), "audio/webm");
        assert_eq!(content_type(&video("x"), &p), "video/mp4");
    }

    #[test]
    fn seconds_and_modes_round_trip() {
        for (ms, s) in [
            (0, "0.000"),
            (1, "0.001"),
            (61_250, "61.250"),
            (3_600_000, "3600.000"),
        ] {
            assert_eq!(seconds(ms), s);
        }
        for m in [Mode::Remux, Mode::Audio, Mode::Full] {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Mode::parse("REMUX"), None);
        assert_eq!(Mode::parse(""), None);
    }
}
