//! Advanced SubStation Alpha (and SSA): the `[Events]` section's `Format:` line names the
//! fields, and each `Dialogue:` line gives them, its last field (`Text`) holding commas. Style
//! overrides in braces become WebVTT's `<i>`, `<b>`, `<u>` where they can and are dropped
//! otherwise; `\N` is a line break; vector drawings (`\p1`) are not text and are skipped.

use super::{markup, timing, Cue};

/// The fields of a `Dialogue:` line when the file has no `Format:` line (ASS's default).
const DEFAULT_FORMAT: [&str; 10] = [
    "layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text",
];

/// The cues of ASS/SSA `text`, by start time.
pub(super) fn parse(text: &str) -> Vec<Cue> {
    let mut in_events = false;
    let mut format: Vec<String> = DEFAULT_FORMAT.iter().map(|s| (*s).to_owned()).collect();
    let mut cues = Vec::new();
    for line in text.lines() {
        let line = line.trim_start_matches('\u{FEFF}').trim();
        if line.starts_with('[') {
            in_events = line.eq_ignore_ascii_case("[events]");
            continue;
        }
        if !in_events {
            continue;
        }
        if let Some(rest) = strip_key(line, "format") {
            format = rest
                .split(',')
                .map(|f| f.trim().to_ascii_lowercase())
                .collect();
            continue;
        }
        let Some(rest) = strip_key(line, "dialogue") else {
            continue;
        };
        let fields: Vec<&str> = rest.splitn(format.len().max(1), ',').collect();
        let field = |name: &str| {
            format
                .iter()
                .position(|f| f == name)
                .and_then(|i| fields.get(i))
                .copied()
        };
        let (Some(start), Some(end), Some(body)) = (
            field("start").and_then(timing::parse),
            field("end").and_then(timing::parse),
            field("text"),
        ) else {
            continue;
        };
        if end <= start || body.contains("\\p1") {
            continue;
        }
        let text = markup(&overrides(body));
        if !text.is_empty() {
            cues.push(Cue {
                start_ms: start,
                end_ms: end,
                text,
            });
        }
    }
    cues.sort_by_key(|c| (c.start_ms, c.end_ms));
    cues
}

/// The rest of `line` after `key:` (any case).
fn strip_key<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (k, rest) = line.split_once(':')?;
    k.trim()
        .eq_ignore_ascii_case(key)
        .then_some(rest.trim_start())
}

/// ASS text with its overrides as SRT-style tags (for [`markup`]) and its escapes resolved.
fn overrides(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            rest = "";
            break;
        };
        let block = &rest[open + 1..open + close];
        for tag in block.split('\\').map(str::trim) {
            let html = match tag {
                "i1" => "<i>",
                "i0" => "</i>",
                "b1" => "<b>",
                "b0" => "</b>",
                "u1" => "<u>",
                "u0" => "</u>",
                _ => "",
            };
            out.push_str(html);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.replace("\\N", "\n")
        .replace("\\n", "\n")
        .replace("\\h", " ")
}
