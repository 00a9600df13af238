//! Subtitle timestamps: SRT's `HH:MM:SS,mmm`, ASS's `H:MM:SS.cc`, and WebVTT's output form.

/// A timestamp `H:MM:SS[,.]f` (hours of any length, 1–3 fraction digits scaled to ms), in ms.
pub(super) fn parse(text: &str) -> Option<u64> {
    let text = text.trim();
    let (clock, frac) = match text.find([',', '.']) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (number(h)?, number(m)?, number(s)?),
        [m, s] => (0, number(m)?, number(s)?),
        _ => return None,
    };
    if m >= 60 || s >= 60 {
        return None;
    }
    let ms = match frac.len() {
        0 => 0,
        1..=3 => number(frac)? * 10u64.pow(3 - u32::try_from(frac.len()).ok()?),
        _ => return None,
    };
    h.checked_mul(3_600_000)?
        .checked_add(m * 60_000 + s * 1000 + ms)
}

/// `ms` as WebVTT's `HH:MM:SS.mmm`.
pub(super) fn vtt(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let table: &[(&str, Option<u64>)] = &[
            ("00:00:01,000", Some(1000)),
            ("01:02:03,456", Some(3_723_456)),
            ("1:02:03.45", Some(3_723_450)),
            ("0:00:00.5", Some(500)),
            ("02:03.004", Some(123_004)),
            ("100:00:00,000", Some(360_000_000)),
            (" 00:00:01,000 ", Some(1000)),
            ("00:60:00,000", None),
            ("00:00:60,000", None),
            ("00:00:01,0000", None),
            ("aa:00:01,000", None),
            ("-1:00:01,000", None),
            ("00:00", Some(0)),
            ("1", None),
            ("", None),
            ("99999999999999:00:00,000", None),
        ];
        for (text, want) in table {
            assert_eq!(parse(text), *want, "{text:?}");
        }
        assert_eq!(vtt(3_723_456), "01:02:03.456");
        assert_eq!(vtt(0), "00:00:00.000");
        assert_eq!(vtt(360_000_000), "100:00:00.000");
    }
}
