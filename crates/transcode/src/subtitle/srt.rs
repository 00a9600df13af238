//! SubRip: numbered blocks of a `start --> end` line and text, separated by blank lines.
//! Read leniently: the number is optional, blank lines inside a block or missing between
//! blocks are tolerated (a line with `-->` starts a new cue), a block with a bad time is
//! skipped, and the markup SRT players accept (`<i>`, `<b>`, `<u>`, `<font>`, `{\an8}`) is
//! kept where WebVTT has it and dropped otherwise.

use super::{markup, timing, Cue};

/// The cues of SRT `text`, in file order.
pub(super) fn parse(text: &str) -> Vec<Cue> {
    let mut cues = Vec::new();
    let mut current: Option<(u64, u64, Vec<&str>)> = None;
    let finish = |cur: Option<(u64, u64, Vec<&str>)>, cues: &mut Vec<Cue>| {
        if let Some((start_ms, end_ms, lines)) = cur {
            let text = markup(&lines.join("\n"));
            if !text.is_empty() && end_ms > start_ms {
                cues.push(Cue {
                    start_ms,
                    end_ms,
                    text,
                });
            }
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let is_index = |l: &str| !l.trim().is_empty() && l.trim().bytes().all(|b| b.is_ascii_digit());
    for (i, line) in lines.iter().enumerate() {
        // A block starts after a blank line, an index line, or at the top.
        let block_start = i == 0 || lines[i - 1].trim().is_empty() || is_index(lines[i - 1]);
        if let Some((start, end)) = line.split_once("-->") {
            // The end may be followed by position settings (`X1:… Y1:…`).
            let end = end.split_whitespace().next().unwrap_or_default();
            let times = timing::parse(start).zip(timing::parse(end));
            if times.is_some() || block_start {
                finish(current.take(), &mut cues);
                current = times.map(|(s, e)| (s, e, Vec::new()));
                continue;
            }
        }
        let Some((_, _, body)) = current.as_mut() else {
            continue;
        };
        // A number alone on the line before a timing line is the next cue's index.
        let next_is_timing = lines.get(i + 1).is_some_and(|l| l.contains("-->"));
        if next_is_timing && is_index(line) {
            continue;
        }
        if !line.trim().is_empty() {
            body.push(line);
        }
    }
    finish(current.take(), &mut cues);
    cues
}
