//! A WebVTT document moved earlier in time, for a stream that starts `offset` into the film
//! (a transcoded stream after a seek restarts its clock at 0): every cue and inline timestamp
//! moves back by the offset, cues that end at or before 0 are dropped, and a cue that
//! straddles 0 starts at 0. Blocks that are not cues (`NOTE`, `STYLE`, `REGION`) are kept.

use std::fmt::Write as _;

use super::timing;

/// `vtt` with its cues `offset_ms` earlier (see the module documentation). An offset of 0
/// gives the document back unchanged; a cue whose timing line cannot be read is dropped.
pub fn shift(vtt: &str, offset_ms: u64) -> String {
    if offset_ms == 0 {
        return vtt.to_owned();
    }
    let text = vtt.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    let mut blocks = text.split("\n\n").filter(|b| !b.trim().is_empty());
    // The header block (`WEBVTT` and its header lines) is kept as it is.
    if let Some(header) = blocks.next() {
        out.push_str(header.trim_end_matches('\n'));
        out.push('\n');
    }
    for block in blocks {
        let block = block.trim_matches('\n');
        let lines: Vec<&str> = block.lines().collect();
        let Some(at) = lines.iter().take(2).position(|l| l.contains("-->")) else {
            // NOTE, STYLE, REGION: not timed.
            let _ = write!(out, "\n{block}\n");
            continue;
        };
        let Some((start, end, settings)) = timing_line(lines[at]) else {
            continue;
        };
        if end <= offset_ms {
            continue;
        }
        out.push('\n');
        for id in &lines[..at] {
            out.push_str(id);
            out.push('\n');
        }
        let _ = write!(
            out,
            "{} --> {}",
            timing::vtt(start.saturating_sub(offset_ms)),
            timing::vtt(end - offset_ms)
        );
        if !settings.is_empty() {
            out.push(' ');
            out.push_str(settings);
        }
        out.push('\n');
        for line in &lines[at + 1..] {
            out.push_str(&inline_timestamps(line, offset_ms));
            out.push('\n');
        }
    }
    out
}

/// A cue timing line's start, end (in ms) and settings (`line:0 align:start`).
fn timing_line(line: &str) -> Option<(u64, u64, &str)> {
    let (start, rest) = line.split_once("-->")?;
    let rest = rest.trim_start();
    let (end, settings) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    let start = timing::parse(start)?;
    let end = timing::parse(end)?;
    (end > start).then_some((start, end, settings.trim()))
}

/// Cue text with its karaoke timestamps (`<00:00:01.500>`) moved `offset_ms` earlier (not
/// below 0); any other `<…>` is left alone.
fn inline_timestamps(line: &str, offset_ms: u64) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let stamp = after
            .find('>')
            .filter(|&end| end <= 16 && after[..end].contains(':'))
            .and_then(|end| Some((end, timing::parse(&after[..end])?)));
        match stamp {
            Some((end, ms)) => {
                let _ = write!(out, "<{}>", timing::vtt(ms.saturating_sub(offset_ms)));
                rest = &after[end + 1..];
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const VTT: &str = "WEBVTT - a film\nKind: captions\n\nNOTE made by hand\n\n\
                       1\n00:00:01.000 --> 00:00:02.000\nbefore\n\n\
                       00:00:09.000 --> 00:00:11.500 line:0 align:start\nstraddles\n\n\
                       intro\n00:00:10.000 --> 00:00:10.000\nempty span, unreadable\n\n\
                       00:01:00.000 --> 00:01:02.000\n<c>sung</c> <00:01:01.000>on <00:00:05.000>time\n\n\
                       01:00.000 --> 01:01.000\nshort form\n\nbroken --> cue\ndropped\n";

    #[test]
    fn cues_move_back_and_the_past_is_dropped() {
        let table: &[(u64, &str)] = &[
            (0, VTT),
            (
                10_000,
                "WEBVTT - a film\nKind: captions\n\nNOTE made by hand\n\n\
                 00:00:00.000 --> 00:00:01.500 line:0 align:start\nstraddles\n\n\
                 00:00:50.000 --> 00:00:52.000\n<c>sung</c> <00:00:51.000>on <00:00:00.000>time\n\n\
                 00:00:50.000 --> 00:00:51.000\nshort form\n",
            ),
            (
                2_000,
                "WEBVTT - a film\nKind: captions\n\nNOTE made by hand\n\n\
                 00:00:07.000 --> 00:00:09.500 line:0 align:start\nstraddles\n\n\
                 00:00:58.000 --> 00:01:00.000\n<c>sung</c> <00:00:59.000>on <00:00:03.000>time\n\n\
                 00:00:58.000 --> 00:00:59.000\nshort form\n",
            ),
            (
                1_500,
                "WEBVTT - a film\nKind: captions\n\nNOTE made by hand\n\n\
                 1\n00:00:00.000 --> 00:00:00.500\nbefore\n\n\
                 00:00:07.500 --> 00:00:10.000 line:0 align:start\nstraddles\n\n\
                 00:00:58.500 --> 00:01:00.500\n<c>sung</c> <00:00:59.500>on <00:00:03.500>time\n\n\
                 00:00:58.500 --> 00:00:59.500\nshort form\n",
            ),
            (
                3_600_000,
                "WEBVTT - a film\nKind: captions\n\nNOTE made by hand\n",
            ),
        ];
        for (offset, want) in table {
            assert_eq!(shift(VTT, *offset), *want, "offset {offset}");
        }
    }

    #[test]
    fn line_endings_and_odd_input() {
        let crlf = "WEBVTT\r\n\r\n00:00:05.000 --> 00:00:06.000\r\nhi\r\n";
        assert_eq!(
            shift(crlf, 1000),
            "WEBVTT\n\n00:00:04.000 --> 00:00:05.000\nhi\n"
        );
        assert_eq!(shift("", 1000), "");
        assert_eq!(shift("WEBVTT", 1000), "WEBVTT\n");
        assert_eq!(
            inline_timestamps("a < b <i>x</i> <99:99>", 5),
            "a < b <i>x</i> <99:99>"
        );
        assert_eq!(
            shift(
                "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\n\u{1F3B5} <b>x\n",
                u64::MAX
            ),
            "WEBVTT\n"
        );
    }
}
