//! What the WebSocket fan-out measured, and its Markdown section for `BENCHMARKS.md`.
//!
//! Kept apart from the client code in `fanout.rs` so the report's shape (and the target check:
//! every client answered, p95 of a simultaneous `fetch_videos` round under the limit) is
//! decided in one place and unit-tested without a server.

use std::fmt::Write as _;
use std::time::Duration;

use crate::stats::{ms, thousands, verdict, Summary};

/// One push or fetch round.
#[derive(Debug, Clone)]
pub struct Round {
    /// Clients that received what the round waits for.
    pub answered: usize,
    /// Clients connected at the end of the round.
    pub alive: usize,
    /// From the round's start to the last client served.
    pub wall: Option<Duration>,
    /// Per-client latencies (push: trigger to receipt; fetch: round trip).
    pub summary: Option<Summary>,
    /// Push rounds: client 0's `fetch_videos` round trip (includes the folder rescan).
    pub trigger_rtt: Option<Duration>,
    /// CPU time the server and the bench used during the round.
    pub cpu: Cpu,
}

/// CPU time (user + system) used by the server and by this bench process over a span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cpu {
    pub server: Option<Duration>,
    pub bench: Option<Duration>,
}

impl Cpu {
    /// `1.23 / 0.98` (seconds), `?` where unknown.
    fn cell(&self) -> String {
        let secs = |d: Option<Duration>| {
            d.map_or_else(|| "?".to_owned(), |d| format!("{:.2}", d.as_secs_f64()))
        };
        format!("{} / {}", secs(self.server), secs(self.bench))
    }
}

/// Reads CPU counters of the server (when its pid is known) and of this process.
#[derive(Debug, Clone, Copy)]
pub struct CpuMeter {
    pub server_pid: Option<u32>,
}

/// A reading of [`CpuMeter`]: (server, bench).
pub type CpuSample = (Option<Duration>, Option<Duration>);

impl CpuMeter {
    /// Current counters.
    pub fn sample(&self) -> CpuSample {
        let server = self
            .server_pid
            .and_then(|pid| cpu_time(&format!("/proc/{pid}/stat")));
        (server, cpu_time("/proc/self/stat"))
    }

    /// CPU used since `start`.
    pub fn since(&self, start: CpuSample) -> Cpu {
        let (server, bench) = self.sample();
        let diff = |a: Option<Duration>, b: Option<Duration>| Some(a?.saturating_sub(b?));
        Cpu {
            server: diff(server, start.0),
            bench: diff(bench, start.1),
        }
    }
}

/// User + system time from a `/proc/PID/stat` file (fields 14 and 15, in clock ticks of
/// 1/100 s, the value of `sysconf(_SC_CLK_TCK)` on Linux).
pub fn cpu_time(stat_path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    parse_cpu_time(&stat)
}

fn parse_cpu_time(stat: &str) -> Option<Duration> {
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

impl Round {
    /// Every connected client was served.
    pub fn complete(&self) -> bool {
        self.alive > 0 && self.answered >= self.alive
    }
}

/// Everything one fan-out run saw.
#[derive(Debug, Clone)]
pub struct FanoutReport {
    /// Clients started.
    pub clients: usize,
    /// Items in the library at the start.
    pub objects: u64,
    /// Clients that connected and got the list.
    pub connected: usize,
    /// Start of the connect phase to the last client listed.
    pub connect_wall: Duration,
    /// Per-client connect-to-list latency.
    pub connect: Option<Summary>,
    /// CPU used during the connect phase.
    pub connect_cpu: Cpu,
    /// `media_list` frames whose count was not the expected one.
    pub wrong_counts: usize,
    /// Files the push rounds added.
    pub added: u64,
    /// Push rounds.
    pub pushes: Vec<Round>,
    /// Simultaneous `fetch_videos` rounds.
    pub fetches: Vec<Round>,
    /// First errors of clients that failed or were dropped.
    pub errors: Vec<String>,
    /// The server's resident memory after the run and its peak (`/proc/PID/status`).
    pub server_memory: Option<String>,
    /// Fetch rounds sent the generation each client held (the player's way).
    pub follow_generation: bool,
}

impl FanoutReport {
    /// An empty report for `clients` clients over `objects` items.
    pub fn new(clients: usize, objects: u64) -> FanoutReport {
        FanoutReport {
            clients,
            objects,
            connected: 0,
            connect_wall: Duration::ZERO,
            connect: None,
            connect_cpu: Cpu::default(),
            wrong_counts: 0,
            added: 0,
            pushes: Vec::new(),
            fetches: Vec::new(),
            errors: Vec::new(),
            server_memory: None,
            follow_generation: false,
        }
    }

    /// The worst p95 over the fetch rounds (what the target is judged on).
    pub fn worst_fetch_p95(&self) -> Option<Duration> {
        self.fetches
            .iter()
            .filter_map(|r| r.summary.map(|s| s.p95))
            .max()
    }

    /// The target: every client connected and answered in every round, with p95 under `limit`.
    pub fn target_met(&self, limit: Duration) -> bool {
        self.connected == self.clients
            && !self.fetches.is_empty()
            && self
                .fetches
                .iter()
                .all(|r| r.complete() && r.alive == self.clients)
            && self.wrong_counts == 0
            && self.worst_fetch_p95().is_some_and(|p| p < limit)
    }

    /// The Markdown section: a heading, a table, the verdict.
    pub fn markdown(&self, limit: Duration) -> String {
        let na = || "n/a".to_owned();
        let cell = |s: &Option<Summary>| s.map_or_else(na, |s| s.cell());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "#### {} WebSocket clients, {} objects\n",
            thousands(self.clients as u64),
            thousands(self.objects)
        );
        out.push_str("| measurement | clients served | wall time (start to last client) | per client p50 / p95 / p99 / max | CPU s server / bench |\n");
        out.push_str("|---|---:|---:|---|---:|\n");
        let _ = writeln!(
            out,
            "| connect, until each has `media_list` | {} / {} | {} | {} | {} |",
            self.connected,
            self.clients,
            ms(self.connect_wall),
            cell(&self.connect),
            self.connect_cpu.cell()
        );
        for (i, r) in self.pushes.iter().enumerate() {
            let trigger = r.trigger_rtt.map_or_else(na, ms);
            let _ = writeln!(
                out,
                "| push {}: file added + one `fetch_videos` (its round trip {trigger}), until each has `library_changed` | {} / {} | {} | {} | {} |",
                i + 1,
                r.answered,
                r.alive,
                r.wall.map_or_else(na, ms),
                cell(&r.summary),
                r.cpu.cell()
            );
        }
        let fetch_sent = if self.follow_generation {
            "`{\"type\":\"fetch_videos\",\"generation\":N}` (N = the generation it holds)"
        } else {
            "`fetch_videos`"
        };
        for (i, r) in self.fetches.iter().enumerate() {
            let _ = writeln!(
                out,
                "| fetch round {}: all send {fetch_sent} at once, round trip | {} / {} | {} | {} | {} |",
                i + 1,
                r.answered,
                r.alive,
                r.wall.map_or_else(na, ms),
                cell(&r.summary),
                r.cpu.cell()
            );
        }
        out.push('\n');
        if self.wrong_counts > 0 {
            let _ = writeln!(
                out,
                "- `media_list` frames with an unexpected `count`: {}",
                self.wrong_counts
            );
        }
        for err in &self.errors {
            let _ = writeln!(out, "- client error: `{}`", err.replace('`', "'"));
        }
        if let Some(mem) = &self.server_memory {
            let _ = writeln!(out, "- server memory after the run: {mem}");
        }
        let worst = self.worst_fetch_p95().map_or_else(na, ms);
        let _ = writeln!(
            out,
            "- target (all {} clients answered, `fetch_videos` round p95 < {}): worst round p95 {worst}: {}",
            thousands(self.clients as u64),
            ms(limit),
            verdict(self.target_met(limit))
        );
        out
    }
}

/// `VmRSS` and `VmHWM` of process `pid`, e.g. `RSS 210 MiB, peak 1,530 MiB`.
pub fn process_memory(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    let (rss, peak) = (field("VmRSS:")?, field("VmHWM:")?);
    Some(format!(
        "RSS {} MiB, peak {} MiB",
        thousands(rss / 1024),
        thousands(peak / 1024)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(answered: usize, alive: usize, p95_ms: u64) -> Round {
        let samples: Vec<Duration> = (1..=p95_ms).map(Duration::from_millis).collect();
        Round {
            answered,
            alive,
            wall: Some(Duration::from_millis(p95_ms)),
            summary: Summary::of(&samples),
            trigger_rtt: None,
            cpu: Cpu::default(),
        }
    }

    #[test]
    fn target_needs_everyone_and_a_low_p95() {
        let limit = Duration::from_millis(500);
        let mut r = FanoutReport::new(10, 1000);
        r.connected = 10;
        assert!(!r.target_met(limit), "no fetch round yet");
        r.fetches.push(round(10, 10, 100));
        assert!(r.target_met(limit));
        r.fetches.push(round(10, 10, 900));
        assert!(!r.target_met(limit), "a slow round fails it");
        r.fetches.pop();
        r.fetches.push(round(9, 10, 100));
        assert!(!r.target_met(limit), "a missing answer fails it");
        r.fetches.pop();
        r.wrong_counts = 1;
        assert!(!r.target_met(limit), "a wrong list fails it");
        let md = r.markdown(limit);
        assert!(
            md.starts_with("#### 10 WebSocket clients, 1,000 objects"),
            "{md}"
        );
        assert!(md.contains("| fetch round 1:"), "{md}");
        assert!(md.contains("**not met**"), "{md}");
    }

    #[test]
    fn reads_cpu_times() {
        let stat = "4242 (bucket (stream) x) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0";
        assert_eq!(parse_cpu_time(stat), Some(Duration::from_millis(1750)));
        assert_eq!(parse_cpu_time("garbage"), None);
        assert!(cpu_time("/proc/self/stat").is_some());
        let meter = CpuMeter {
            server_pid: Some(std::process::id()),
        };
        let cpu = meter.since(meter.sample());
        assert!(cpu.server.is_some() && cpu.bench.is_some());
        assert_eq!(Cpu::default().cell(), "? / ?");
    }

    #[test]
    fn reads_own_memory() {
        let mem = process_memory(std::process::id()).expect("/proc/self/status");
        assert!(mem.starts_with("RSS "), "{mem}");
    }
}
