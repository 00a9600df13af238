//! `bucketstream-bench`: the helper `bench/run.sh` drives to benchmark the LAN server.
//!
//! The load itself comes from `wrk` (HTTP) and from this program's WebSocket clients; the
//! subcommands here make the fixture library, wait for the server, parse wrk's report, and run
//! the fan-out. Each prints Markdown (or one plain value) on stdout for `run.sh` to put into
//! `BENCHMARKS.md`, and progress on stderr. Any failure is one line on stderr and exit code 1.

mod byteproxy;
mod fanout;
mod fixtures;
mod play;
mod report;
mod startup;
mod stats;
mod wrk;
mod wslist;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Benchmarks of the Bucketstream LAN server (see bench/run.sh).
#[derive(Debug, Parser)]
#[command(name = "bucketstream-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a folder of COUNT sparse .mp3 files spread over subfolders.
    Fixtures {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        count: usize,
        /// Apparent size of each file in bytes (sparse: no disk blocks).
        #[arg(long, default_value_t = 1 << 20)]
        size: u64,
    },
    /// Print a free loopback port.
    Port,
    /// Wait until the server at ADDR lists COUNT items (polls /api/health).
    Wait {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 300)]
        timeout_secs: u64,
    },
    /// Print the byte size of /api/videos (checking it has COUNT items).
    VideosSize {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        count: u64,
    },
    /// Wait until the server at ADDR has listed COUNT items and its scan finished; prints
    /// `/api/health`'s `scan` as JSON with the seconds waited (`secs`).
    ScanWait {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        count: u64,
        /// Objects the scan must have read [default: COUNT]
        #[arg(long)]
        total: Option<u64>,
        #[arg(long, default_value_t = 1800)]
        timeout_secs: u64,
    },
    /// A byte-counting HTTP proxy in front of the store (runs until killed); counts at
    /// GET /__byteproxy?prefix=P.
    Byteproxy {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        upstream: SocketAddr,
    },
    /// Play SECS seconds of URL from byte START like a media element (buffer 2 s to start,
    /// read up to 10 s ahead) at BITRATE bits/s; prints stalls and refill times as JSON.
    Play {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 0)]
        start: u64,
        #[arg(long)]
        secs: f64,
        #[arg(long)]
        bitrate: f64,
    },
    /// Time from the process start (SINCE, Unix seconds, e.g. `date +%s.%N` just before it)
    /// until `/api/videos?limit=1` has `total` COUNT and until the listing is reconciled
    /// (`/api/health`'s `last_refresh` set); prints `{"serving": s, "reconciled": s}`.
    Startup {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        count: u64,
        #[arg(long)]
        since: f64,
        #[arg(long, default_value_t = 1800)]
        timeout_secs: u64,
    },
    /// Connect to the WebSocket URL and time the list on connect (whole, count only or
    /// pages); prints JSON with the times (ms), bytes and frames, or the refusing status.
    WsList {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
    /// Print the Markdown header of the /api/videos table.
    WrkHeader,
    /// Turn the output of `wrk --latency` (in FILE) into one Markdown table row.
    WrkRow {
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        objects: u64,
        #[arg(long)]
        connections: u32,
        #[arg(long)]
        body_bytes: u64,
        /// wrk asked for gzip; the compressed body has this many bytes.
        #[arg(long)]
        gzip_bytes: Option<u64>,
        /// Judge the row against this p99 limit (omit for no target).
        #[arg(long)]
        target_p99_ms: Option<u64>,
    },
    /// WebSocket fan-out: CLIENTS clients connect, get a pushed change, fetch at once.
    Fanout {
        /// The server's WebSocket URL, e.g. ws://127.0.0.1:8080/ws.
        #[arg(long)]
        url: String,
        #[arg(long)]
        clients: usize,
        /// Items the server lists at the start.
        #[arg(long)]
        expect_count: u64,
        /// The served folder (push rounds add files to it).
        #[arg(long)]
        media_dir: PathBuf,
        #[arg(long, default_value_t = 2)]
        push_rounds: u32,
        #[arg(long, default_value_t = 3)]
        fetch_rounds: u32,
        #[arg(long, default_value_t = 256)]
        connect_concurrency: usize,
        #[arg(long, default_value_t = 120)]
        phase_timeout_secs: u64,
        #[arg(long, default_value_t = 500)]
        target_p95_ms: u64,
        /// The server's pid, to report its memory.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Fetch rounds send the generation each client holds, as the player does.
        #[arg(long)]
        follow_generation: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bucketstream-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<String, String> {
    match command {
        Command::Fixtures { dir, count, size } => {
            fixtures::make_library(&dir, count, size)?;
            Ok(format!("{count} files in {}", dir.display()))
        }
        Command::Port => fixtures::free_port().map(|p| p.to_string()),
        Command::Wait {
            addr,
            count,
            timeout_secs,
        } => {
            let took = fixtures::wait_ready(addr, count, Duration::from_secs(timeout_secs))?;
            Ok(format!("{:.2}", took.as_secs_f64()))
        }
        Command::VideosSize { addr, count } => {
            fixtures::videos_size(addr, count).map(|n| n.to_string())
        }
        Command::ScanWait {
            addr,
            count,
            total,
            timeout_secs,
        } => {
            let timeout = Duration::from_secs(timeout_secs);
            let (mut scan, took) =
                fixtures::wait_scan(addr, count, total.unwrap_or(count), timeout)?;
            if let Some(map) = scan.as_object_mut() {
                map.insert("secs".into(), serde_json::json!(took.as_secs_f64()));
            }
            Ok(scan.to_string())
        }
        Command::Byteproxy { listen, upstream } => {
            let runtime =
                tokio::runtime::Runtime::new().map_err(|e| format!("cannot start tokio: {e}"))?;
            runtime.block_on(byteproxy::run(listen, upstream))?;
            Ok(String::new())
        }
        Command::Play {
            url,
            start,
            secs,
            bitrate,
        } => {
            let runtime =
                tokio::runtime::Runtime::new().map_err(|e| format!("cannot start tokio: {e}"))?;
            runtime.block_on(play::play(&url, start, secs, bitrate))
        }
        Command::Startup {
            addr,
            count,
            since,
            timeout_secs,
        } => startup::wait(addr, count, since, Duration::from_secs(timeout_secs)),
        Command::WsList { url, timeout_secs } => {
            let runtime =
                tokio::runtime::Runtime::new().map_err(|e| format!("cannot start tokio: {e}"))?;
            runtime.block_on(wslist::run(&url, Duration::from_secs(timeout_secs)))
        }
        Command::WrkHeader => Ok(wrk::HEADER.to_owned()),
        Command::WrkRow {
            file,
            objects,
            connections,
            body_bytes,
            gzip_bytes,
            target_p99_ms,
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let run = wrk::parse(&text)?;
            let target = target_p99_ms.map(Duration::from_millis);
            Ok(wrk::row(
                &run,
                objects,
                connections,
                body_bytes,
                gzip_bytes,
                target,
            ))
        }
        Command::Fanout {
            url,
            clients,
            expect_count,
            media_dir,
            push_rounds,
            fetch_rounds,
            connect_concurrency,
            phase_timeout_secs,
            target_p95_ms,
            server_pid,
            follow_generation,
        } => {
            check_fd_limit(clients)?;
            let opts = fanout::Options {
                url,
                clients,
                expect_count,
                media_dir,
                push_rounds,
                fetch_rounds,
                connect_concurrency,
                phase_timeout: Duration::from_secs(phase_timeout_secs),
                server_pid,
                follow_generation,
            };
            let runtime =
                tokio::runtime::Runtime::new().map_err(|e| format!("cannot start tokio: {e}"))?;
            let mut report = runtime.block_on(fanout::run(opts))?;
            report.server_memory = server_pid.and_then(report::process_memory);
            report.follow_generation = follow_generation;
            Ok(report.markdown(Duration::from_millis(target_p95_ms)))
        }
    }
}

/// File descriptors this process may open (soft limit), from `/proc/self/limits`.
fn fd_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    if soft == "unlimited" {
        return Some(u64::MAX);
    }
    soft.parse().ok()
}

/// Fails early, with the fix, when `clients` sockets would not fit under the fd limit.
fn check_fd_limit(clients: usize) -> Result<(), String> {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return Ok(()); // Not Linux: let connect errors speak for themselves.
    };
    let need = clients as u64 + 64;
    match fd_limit(&limits) {
        Some(have) if have < need => Err(format!(
            "{clients} clients need about {need} file descriptors but the limit is {have}; raise it first (ulimit -n {need})"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fd_limit() {
        let limits =
            "Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max open files            20000                20000                files     \n";
        assert_eq!(fd_limit(limits), Some(20_000));
        assert_eq!(
            fd_limit("Max open files unlimited unlimited files"),
            Some(u64::MAX)
        );
        assert_eq!(fd_limit("nothing here"), None);
        let ours = std::fs::read_to_string("/proc/self/limits").expect("Linux /proc");
        assert!(fd_limit(&ours).is_some());
    }

    #[test]
    fn cli_parses() {
        let cli = Cli::try_parse_from([
            "bucketstream-bench",
            "fanout",
            "--url",
            "ws://127.0.0.1:1/ws",
            "--clients",
            "10",
            "--expect-count",
            "5",
            "--media-dir",
            "/tmp/x",
        ])
        .expect("parses");
        assert!(matches!(
            cli.command,
            Command::Fanout {
                clients: 10,
                push_rounds: 2,
                ..
            }
        ));
        assert!(Cli::try_parse_from(["bucketstream-bench", "fixtures"]).is_err());
    }
}
