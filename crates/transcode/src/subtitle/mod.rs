//! Subtitles as WebVTT, the only format a browser's `<track>` reads: sidecar files found beside
//! a video ([`sidecar`]), text tracks inside it ([`embedded`]), the list offered ([`tracks`]),
//! text in SRT, ASS/SSA or WebVTT turned into WebVTT ([`to_webvtt`]), and WebVTT moved to a
//! stream that starts later in the film ([`shift`]).
//!
//! Input is decoded leniently: UTF-8 (with or without a byte-order mark), UTF-16 with a mark,
//! and otherwise Windows-1252/Latin-1, which is what old `.srt` files are. A file larger than
//! [`MAX_INPUT`] is refused rather than read into memory.

mod ass;
pub mod embedded;
pub mod language;
mod shift;
pub mod sidecar;
mod srt;
mod timing;
pub mod tracks;

use std::fmt::Write as _;

pub use embedded::{embedded_tracks, EmbeddedTrack};
pub use shift::shift;
pub use sidecar::{sidecars, Sidecar};
pub use tracks::{list, parse_ref, Origin, Track, TrackRef};

/// Largest subtitle file converted (a two-hour film's subtitles are about 100 KiB).
pub const MAX_INPUT: usize = 8 * 1024 * 1024;

/// A subtitle format we convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// SubRip (`.srt`).
    Srt,
    /// Advanced SubStation Alpha / SubStation Alpha (`.ass`, `.ssa`).
    Ass,
    /// WebVTT (`.vtt`): passed through after a check of its header.
    WebVtt,
}

impl Format {
    /// The format of a file by its extension (any case).
    pub fn from_name(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "srt" => Some(Format::Srt),
            "ass" | "ssa" => Some(Format::Ass),
            "vtt" => Some(Format::WebVtt),
            _ => None,
        }
    }
}

/// Why a file could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubtitleError {
    /// Larger than [`MAX_INPUT`].
    TooLarge,
    /// Not a subtitle file of the format (no cue could be read).
    NoCues,
}

impl std::fmt::Display for SubtitleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubtitleError::TooLarge => {
                write!(f, "the subtitle file is larger than {MAX_INPUT} bytes")
            }
            SubtitleError::NoCues => write!(f, "no subtitle could be read from the file"),
        }
    }
}

impl std::error::Error for SubtitleError {}

/// One cue: when it shows and its text (plain text, lines separated by `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    /// Start, in milliseconds.
    pub start_ms: u64,
    /// End, in milliseconds (after the start).
    pub end_ms: u64,
    /// Text, WebVTT-safe (see [`markup`]).
    pub text: String,
}

/// `bytes` as text: UTF-8 (a mark dropped), UTF-16 with a mark, else Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    let utf16 = |rest: &[u8], big: bool| {
        let units = rest.chunks_exact(2).map(|c| {
            if big {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, false);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, true);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

/// Windows-1252's character for byte `b` (Latin-1 with typographic marks in 0x80–0x9F).
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// Tags kept as they are: the markup WebVTT shares with SRT.
const KEPT_TAGS: [&str; 6] = ["i", "/i", "b", "/b", "u", "/u"];

/// Subtitle text (SRT-style markup) as WebVTT cue text: `<i>`, `<b>`, `<u>` kept, other tags
/// (`<font …>`) and ASS overrides in braces dropped, `&` and a stray `<` escaped, blank lines
/// (which would end the cue) and the `-->` marker removed.
pub fn markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => match rest[1..].find('>').filter(|&end| end <= 64) {
                Some(end) => {
                    let tag = rest[1..1 + end].trim().to_ascii_lowercase();
                    if KEPT_TAGS.contains(&tag.as_str()) {
                        out.push('<');
                        out.push_str(&tag);
                        out.push('>');
                    }
                    rest = &rest[end + 2..];
                    continue;
                }
                None => out.push_str("&lt;"),
            },
            '{' if rest[1..].starts_with('\\') => {
                if let Some(end) = rest.find('}') {
                    rest = &rest[end + 1..];
                    continue;
                }
                out.push('{');
            }
            '&' => out.push_str("&amp;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.replace("--&gt;", "\u{2192}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `cues` as a WebVTT document.
pub fn render(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n");
    for cue in cues {
        let _ = write!(
            out,
            "\n{} --> {}\n{}\n",
            timing::vtt(cue.start_ms),
            timing::vtt(cue.end_ms),
            cue.text
        );
    }
    out
}

/// The subtitle file `bytes` in `format` as WebVTT.
pub fn to_webvtt(bytes: &[u8], format: Format) -> Result<String, SubtitleError> {
    if bytes.len() > MAX_INPUT {
        return Err(SubtitleError::TooLarge);
    }
    let text = decode(bytes);
    let cues = match format {
        Format::Srt => srt::parse(&text),
        Format::Ass => ass::parse(&text),
        Format::WebVtt => {
            let body = text.trim_start_matches('\u{FEFF}');
            let first = body.lines().next().unwrap_or_default();
            if first == "WEBVTT" || first.starts_with("WEBVTT ") || first.starts_with("WEBVTT\t") {
                return Ok(body.to_owned());
            }
            // A `.vtt` without the header is usually SRT with dots: read it as SRT.
            srt::parse(body)
        }
    };
    if cues.is_empty() {
        return Err(SubtitleError::NoCues);
    }
    Ok(render(&cues))
}

#[cfg(test)]
mod tests;
