//! The query of `/transcode/{id}`: `mode`, `start`, `max_bitrate`, `codec`, `session`, each
//! at most once, nothing else; pure and table-tested so the handler only renders.

use super::args::{AudioCodec, Mode, Profile};

/// Latest start accepted, seconds (a week: no media item is longer).
pub const MAX_START_SECS: f64 = 7.0 * 24.0 * 3600.0;
/// Highest `max_bitrate` accepted, kbit/s.
pub const MAX_KBPS: u32 = 200_000;
/// Longest session id accepted.
pub const MAX_SESSION_LEN: usize = 64;

/// What a query asks: the profile, and the client's playback session when it names one.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    /// The stream asked for.
    pub profile: Profile,
    /// The playback session (a new stream of it ends its previous one).
    pub session: Option<String>,
}

/// Parses the query pairs of a request for an item of kind audio (`audio_item`) or video.
/// Without `mode`, a video is transcoded in full and an audio item to AAC.
pub fn parse<K: AsRef<str>, V: AsRef<str>>(
    pairs: &[(K, V)],
    audio_item: bool,
) -> Result<Asked, String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut mode = None;
    let mut start_ms = 0;
    let mut max = None;
    let mut codec = None;
    let mut session = None;
    for (k, v) in pairs {
        let (k, v) = (k.as_ref(), v.as_ref());
        if seen.contains(&k) {
            return Err(format!("{k} is given twice"));
        }
        match k {
            "mode" => {
                mode = Some(
                    Mode::parse(v)
                        .ok_or_else(|| format!("mode must be remux, audio or full, not {v:?}"))?,
                );
            }
            "start" => {
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && (0.0..=MAX_START_SECS).contains(s))
                    .ok_or_else(|| format!("start must be seconds from 0, not {v:?}"))?;
                start_ms = (secs * 1000.0).round() as u64;
            }
            "max_bitrate" => {
                let kbps: u32 = v
                    .parse()
                    .ok()
                    .filter(|k| (1..=MAX_KBPS).contains(k))
                    .ok_or_else(|| format!("max_bitrate must be kbit/s, 1 to {MAX_KBPS}"))?;
                max = Some(kbps);
            }
            "codec" => {
                codec = Some(match v {
                    "aac" => AudioCodec::Aac,
                    "opus" => AudioCodec::Opus,
                    _ => return Err(format!("codec must be aac or opus, not {v:?}")),
                });
            }
            "session" => {
                let ok = !v.is_empty()
                    && v.len() <= MAX_SESSION_LEN
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !ok {
                    return Err("session must be 1 to 64 letters, digits, - or _".into());
                }
                session = Some(v.to_owned());
            }
            _ => return Err(format!("unknown parameter {k:?}")),
        }
        seen.push(k);
    }
    let mode = mode.unwrap_or(if audio_item { Mode::Audio } else { Mode::Full });
    if codec == Some(AudioCodec::Opus) && !audio_item {
        return Err("codec=opus is for audio items (videos get AAC in MP4)".into());
    }
    Ok(Asked {
        profile: Profile {
            mode,
            start_ms,
            max_bitrate_kbps: max,
            codec: codec.unwrap_or_default(),
        },
        session,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &[(&str, &str)], audio: bool) -> Result<Asked, String> {
        parse(q, audio)
    }

    #[test]
    fn good_queries() {
        let a = p(&[("mode", "remux"), ("start", "12.3456")], false).expect("ok");
        assert_eq!(a.profile.mode, Mode::Remux);
        assert_eq!(a.profile.start_ms, 12_346);
        assert_eq!(a.session, None);
        let a = p(&[], false).expect("ok");
        assert_eq!((a.profile.mode, a.profile.start_ms), (Mode::Full, 0));
        let a = p(
            &[
                ("max_bitrate", "96"),
                ("codec", "opus"),
                ("session", "s-1_A"),
            ],
            true,
        )
        .expect("ok");
        assert_eq!(a.profile.mode, Mode::Audio);
        assert_eq!(a.profile.max_bitrate_kbps, Some(96));
        assert_eq!(a.profile.codec, AudioCodec::Opus);
        assert_eq!(a.session.as_deref(), Some("s-1_A"));
        assert_eq!(p(&[("start", "0")], true).expect("ok").profile.start_ms, 0);
    }

    #[test]
    fn bad_queries_say_why() {
        let long = "x".repeat(65);
        /// A query, whether the item is audio, and a word the refusal names.
        type Case<'a> = (&'a [(&'a str, &'a str)], bool, &'a str);
        let cases: &[Case] = &[
            (&[("mode", "hls")], false, "mode"),
            (&[("mode", "full"), ("mode", "full")], false, "twice"),
            (&[("start", "-1")], false, "start"),
            (&[("start", "NaN")], false, "start"),
            (&[("start", "inf")], false, "start"),
            (&[("start", "1e9")], false, "start"),
            (&[("start", "")], false, "start"),
            (&[("max_bitrate", "0")], false, "max_bitrate"),
            (&[("max_bitrate", "1.5")], false, "max_bitrate"),
            (&[("codec", "mp3")], true, "codec"),
            (&[("codec", "opus")], false, "audio items"),
            (&[("session", "a b")], false, "session"),
            (&[("session", "")], false, "session"),
            (&[("session", long.as_str())], false, "session"),
            (&[("key", "x")], false, "unknown"),
        ];
        for (q, audio, word) in cases {
            let err = p(q, *audio).expect_err("refused");
            assert!(err.contains(word), "{q:?}: {err}");
        }
    }
}
