//! Reads the text `wrk --latency` prints and turns it into one row of the report.
//!
//! wrk is the load generator for `GET /api/videos` (a C tool, much lighter on the shared two
//! cores than a Rust client would be); its report is human text with unit suffixes (`us`, `ms`,
//! `s`, `k`, `MB`...). Parsing it here, with tests, keeps `run.sh` free of fragile awk and makes
//! the target check (p99 < 5 ms) exact rather than a string comparison.

use std::time::Duration;

use crate::stats::{ms, thousands, verdict};

/// What one wrk run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkRun {
    /// Completed requests.
    pub requests: u64,
    /// Requests per second over the run.
    pub rps: f64,
    /// Latency percentiles from `--latency`: 50, 75, 90, 99.
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    /// Largest latency (the "Max" column of the Latency line).
    pub max: Duration,
    /// Transfer per second as wrk printed it (e.g. `3.10GB`).
    pub transfer: String,
    /// Socket errors (connect + read + write + timeout) and non-2xx answers.
    pub errors: u64,
}

/// Parses wrk's duration format: `812.00us`, `1.23ms`, `2.00s`, `1.00m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (num, scale_us) = if let Some(n) = text.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1_000.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000_000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000_000.0)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000_000.0)
    } else {
        return None;
    };
    let value: f64 = num.parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value * scale_us / 1e6))
}

/// Parses the whole output of `wrk --latency`.
pub fn parse(output: &str) -> Result<WrkRun, String> {
    let mut run = WrkRun {
        requests: 0,
        rps: 0.0,
        p50: Duration::ZERO,
        p90: Duration::ZERO,
        p99: Duration::ZERO,
        max: Duration::ZERO,
        transfer: String::new(),
        errors: 0,
    };
    let (mut seen_rps, mut seen_p99) = (false, false);
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let duration_at = |i: usize| words.get(i).and_then(|w| parse_duration(w));
        match words.as_slice() {
            ["Latency", _avg, _stdev, max, ..] => run.max = parse_duration(max).unwrap_or_default(),
            ["50%", _] => run.p50 = duration_at(1).ok_or("bad 50% line")?,
            ["90%", _] => run.p90 = duration_at(1).ok_or("bad 90% line")?,
            ["99%", _] => {
                run.p99 = duration_at(1).ok_or("bad 99% line")?;
                seen_p99 = true;
            }
            [n, "requests", "in", ..] => {
                run.requests = n.parse().map_err(|_| "bad request count")?
            }
            ["Requests/sec:", v] => {
                run.rps = v.parse().map_err(|_| "bad Requests/sec")?;
                seen_rps = true;
            }
            ["Transfer/sec:", v] => run.transfer = (*v).to_owned(),
            ["Socket", "errors:", rest @ ..] => {
                run.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => {
                run.errors += n.parse::<u64>().unwrap_or(0)
            }
            _ => {}
        }
    }
    if !seen_rps || !seen_p99 {
        return Err("not the output of `wrk --latency` (no Requests/sec or 99% line)".into());
    }
    Ok(run)
}

/// The Markdown table header matching [`row`].
pub const HEADER: &str = "| objects | connections | Accept-Encoding | response size | requests/s | p50 | p90 | p99 | max | errors | target p99 < 5 ms |\n\
|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|";

/// One Markdown table row; the target column applies only when `target_p99` is given.
/// `gzip_bytes` is the compressed body's size when wrk asked for gzip.
pub fn row(
    run: &WrkRun,
    objects: u64,
    connections: u32,
    body_bytes: u64,
    gzip_bytes: Option<u64>,
    target_p99: Option<Duration>,
) -> String {
    let target = match target_p99 {
        Some(limit) => verdict(run.p99 < limit && run.errors == 0).to_owned(),
        None => "(no target)".to_owned(),
    };
    let (encoding, size) = match gzip_bytes {
        Some(gz) => (
            "gzip",
            format!("{} ({} JSON)", human_bytes(gz), human_bytes(body_bytes)),
        ),
        None => ("none", human_bytes(body_bytes)),
    };
    format!(
        "| {} | {connections} | {encoding} | {size} | {} | {} | {} | {} | {} | {} | {target} |",
        thousands(objects),
        thousands(run.rps.round() as u64),
        ms(run.p50),
        ms(run.p90),
        ms(run.p99),
        ms(run.max),
        run.errors,
    )
}

/// `331,234` bytes as `323 KiB`, `33,000,000` as `31.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    let v = n as f64;
    if v >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", v / (1024.0 * 1024.0))
    } else if v >= 1024.0 {
        format!("{:.0} KiB", v / 1024.0)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Running 10s test @ http://127.0.0.1:18080/api/videos
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms  812.00us  21.30ms   91.00%
    Req/Sec     5.34k   402.11     6.02k    70.50%
  Latency Distribution
     50%    1.40ms
     75%    1.77ms
     90%    2.21ms
     99%    4.05ms
  106321 requests in 10.00s, 33.61GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:  10630.75
Transfer/sec:      3.36GB
";

    #[test]
    fn parses_a_wrk_report() {
        let run = parse(SAMPLE).expect("parses");
        assert_eq!(run.requests, 106_321);
        assert!((run.rps - 10_630.75).abs() < 1e-6);
        assert_eq!(run.p50, Duration::from_micros(1_400));
        assert_eq!(run.p90, Duration::from_micros(2_210));
        assert_eq!(run.p99, Duration::from_micros(4_050));
        assert_eq!(run.max, Duration::from_micros(21_300));
        assert_eq!(run.transfer, "3.36GB");
        assert_eq!(run.errors, 6);
        let line = row(
            &run,
            1000,
            16,
            331_000,
            None,
            Some(Duration::from_millis(5)),
        );
        assert!(
            line.starts_with("| 1,000 | 16 | none | 323 KiB | 10,631 | 1.40 ms |"),
            "{line}"
        );
        let gz = row(&run, 1000, 16, 331_000, Some(34_000), None);
        assert!(
            gz.starts_with("| 1,000 | 16 | gzip | 33 KiB (323 KiB JSON) | 10,631 |"),
            "{gz}"
        );
        assert!(
            line.ends_with("| 6 | **not met** |"),
            "errors fail the target: {line}"
        );
        assert!(parse("Running 10s test\n").is_err());
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("812.00us"), Some(Duration::from_micros(812)));
        assert_eq!(parse_duration("2.00s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.50m"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("oops"), None);
        assert_eq!(parse_duration("-1ms"), None);
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(33_000_000), "31.5 MiB");
    }
}
