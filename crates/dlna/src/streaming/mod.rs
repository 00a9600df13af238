//! The DLNA headers of a media answer (DLNA guidelines, 7.4): what a TV asks with
//! `getcontentFeatures.dlna.org`, `transferMode.dlna.org` and `TimeSeekRange.dlna.org`, and
//! what it is told back, so renderers that insist on them (many smart TVs) play and seek.
//!
//! Pure functions over header values; the LAN server reads the request and writes the answer.

use crate::didl::{content_features, duration};

/// What a renderer's request asks of the DLNA headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Asked {
    /// `getcontentFeatures.dlna.org: 1`: answer with `contentFeatures.dlna.org`.
    pub features: bool,
    /// `transferMode.dlna.org`, when one of the three modes.
    pub transfer_mode: Option<&'static str>,
    /// `TimeSeekRange.dlna.org`, when present: the start in ms, or why it is unreadable.
    pub time_seek: Option<Result<u64, String>>,
}

impl Asked {
    /// Reads the three headers' values.
    pub fn read(
        get_features: Option<&str>,
        transfer_mode: Option<&str>,
        time_seek: Option<&str>,
    ) -> Asked {
        let mode = transfer_mode.map(str::trim).and_then(|m| {
            ["Streaming", "Interactive", "Background"]
                .into_iter()
                .find(|known| known.eq_ignore_ascii_case(m))
        });
        Asked {
            features: get_features.is_some_and(|v| v.trim() == "1"),
            transfer_mode: mode,
            time_seek: time_seek.map(parse_time_seek),
        }
    }

    /// Whether any was asked (no DLNA header is added to a browser's answer).
    pub fn any(&self) -> bool {
        self.features || self.transfer_mode.is_some() || self.time_seek.is_some()
    }

    /// The DLNA headers of an answer to this request for a resource that is a transcode or
    /// not; `transferMode.dlna.org` echoes the mode asked, `Streaming` for media otherwise.
    /// Names are lowercase, as HTTP/1.1 answers carry them here.
    pub fn answer(&self, transcoded: bool) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if !self.any() {
            return headers;
        }
        if self.features {
            headers.push(("contentfeatures.dlna.org", content_features(transcoded)));
        }
        let mode = self.transfer_mode.unwrap_or("Streaming");
        headers.push(("transfermode.dlna.org", mode.to_owned()));
        headers
    }
}

/// The start of a `TimeSeekRange.dlna.org` value (`npt=START-[END]`), in ms. START is seconds
/// (`12.5`) or `H:MM:SS[.fff]`; an END is allowed and ignored (the stream runs to the end).
pub fn parse_time_seek(value: &str) -> Result<u64, String> {
    let bad = || format!("TimeSeekRange.dlna.org must be npt=START-[END], not {value:?}");
    let range = value.trim().strip_prefix("npt=").ok_or_else(bad)?;
    let (start, end) = range.split_once('-').ok_or_else(bad)?;
    let start = npt_ms(start.trim()).ok_or_else(bad)?;
    if let Some(end) = Some(end.trim()).filter(|e| !e.is_empty()) {
        let end = npt_ms(end).ok_or_else(bad)?;
        if end < start {
            return Err(bad());
        }
    }
    Ok(start)
}

/// An npt time (`SS[.fff]` or `H+:MM:SS[.fff]`) in ms; `None` when unreadable or past a day.
fn npt_ms(time: &str) -> Option<u64> {
    let (whole, frac) = match time.split_once('.') {
        Some((w, f)) => (w, f),
        None => (time, ""),
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_ms = format!("{frac:0<3}").parse::<u64>().ok()?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = whole.split(':').collect();
    let secs = match parts.as_slice() {
        [s] if digits(s) && s.len() <= 6 => s.parse::<u64>().ok()?,
        [h, m, s]
            if digits(h)
                && h.len() <= 2
                && digits(m)
                && m.len() == 2
                && digits(s)
                && s.len() == 2 =>
        {
            let (h, m, s): (u64, u64, u64) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
            if m > 59 || s > 59 {
                return None;
            }
            h * 3600 + m * 60 + s
        }
        _ => return None,
    };
    let ms = secs * 1000 + frac_ms;
    (ms <= 86_400_000).then_some(ms)
}

/// The `TimeSeekRange.dlna.org` answer for a stream that starts at `start_ms` of an item of
/// `duration_ms` (`*` when unknown): `npt=START-END/DURATION`.
pub fn time_seek_answer(start_ms: u64, duration_ms: Option<u64>) -> String {
    match duration_ms {
        Some(d) => format!("npt={}-{}/{}", duration(start_ms), duration(d), duration(d)),
        None => format!("npt={}-/*", duration(start_ms)),
    }
}

#[cfg(test)]
mod tests;
