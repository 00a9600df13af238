//! Latency summaries (percentiles) and their formatting, shared by the benchmarks.
//!
//! The WebSocket fan-out collects one `Duration` per client and per phase; what the report
//! needs is p50/p95/p99/max and "how many answered" in a fixed, comparable format. Percentiles
//! use the nearest-rank method (the value at rank ceil(p * n)), which never interpolates and so
//! always reports a latency some client actually saw.

use std::time::Duration;

/// Percentiles of a set of latencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest sample.
    pub max: Duration,
}

impl Summary {
    /// Summarises `samples` (any order); `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        Some(Summary {
            count: sorted.len(),
            p50: nearest_rank(&sorted, 50),
            p95: nearest_rank(&sorted, 95),
            p99: nearest_rank(&sorted, 99),
            max: sorted[sorted.len() - 1],
        })
    }

    /// `p50 / p95 / p99 / max` as one table cell.
    pub fn cell(&self) -> String {
        format!(
            "{} / {} / {} / {}",
            ms(self.p50),
            ms(self.p95),
            ms(self.p99),
            ms(self.max)
        )
    }
}

/// The value at rank ceil(pct/100 * n) (1-based) of a sorted, non-empty slice.
fn nearest_rank(sorted: &[Duration], pct: usize) -> Duration {
    let n = sorted.len();
    let rank = (pct * n).div_ceil(100).clamp(1, n);
    sorted[rank - 1]
}

/// A duration in milliseconds with a precision suited to its size (`0.42 ms`, `12.3 ms`, `2,345 ms`).
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{} ms", thousands(v.round() as u64))
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "met" or "**not met**" for a report's target column.
pub fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**not met**"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<u64> = (1..=100).collect();
        let s = Summary::of(&millis(&hundred)).expect("samples");
        assert_eq!(s.count, 100);
        assert_eq!(s.p50, Duration::from_millis(50));
        assert_eq!(s.p95, Duration::from_millis(95));
        assert_eq!(s.p99, Duration::from_millis(99));
        assert_eq!(s.max, Duration::from_millis(100));

        let one = Summary::of(&millis(&[7])).expect("one sample");
        assert_eq!(
            (one.p50, one.p99, one.max),
            (one.max, one.max, Duration::from_millis(7))
        );

        // Unsorted input, small n: p95 of 10 samples is the 10th.
        let ten = Summary::of(&millis(&[9, 1, 8, 2, 7, 3, 6, 4, 5, 10])).expect("ten");
        assert_eq!(ten.p50, Duration::from_millis(5));
        assert_eq!(ten.p95, Duration::from_millis(10));
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn formats() {
        assert_eq!(ms(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(ms(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(ms(Duration::from_millis(2345)), "2,345 ms");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(verdict(true), "met");
        assert_eq!(verdict(false), "**not met**");
    }
}
