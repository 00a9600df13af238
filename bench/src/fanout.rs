//! WebSocket fan-out benchmark: N real tokio-tungstenite clients against `/ws`.
//!
//! Three measurements, in order, on the same N connections:
//! 1. connect: every client connects and waits for the `media_list` the server sends on
//!    connect; we report the wall time until the last one has it and each client's
//!    connect-to-list latency;
//! 2. push: the bench adds a file to the served folder and client 0 sends `fetch_videos`; the
//!    server refreshes and pushes `library_changed` to everyone; we report the time from the
//!    trigger until each client has the push;
//! 3. fetch rounds: every client sends `fetch_videos` at once; we report each client's round
//!    trip (its send to its `media_list` answer). With `--follow-generation` each client
//!    sends the generation it holds (`{"type":"fetch_videos","generation":N}`), as the
//!    player does, so a current client gets the short `unchanged` answer; without it, plain
//!    `fetch_videos`, answered with the whole list.
//!
//! Clients are tasks driven by a `watch` channel of [`Phase`]s and report back on an mpsc
//! channel; the coordinator waits for the expected reports with a deadline per phase, so a
//! stuck server makes the bench report missing answers instead of hanging. Everything is
//! bounded: finite rounds, per-phase timeouts, and a final close with a timeout, after which
//! remaining tasks are aborted.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::fixtures::sparse_file;
use crate::report::{CpuMeter, FanoutReport, Round};
use crate::stats::Summary;

/// What the coordinator asks every client to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Connected; wait.
    Idle,
    /// Push round k: client 0 sends `fetch_videos` after the bench changed the folder.
    Push(u32),
    /// Fetch round k: everyone sends `fetch_videos` now.
    Fetch(u32),
    /// Close and exit.
    Stop,
}

/// What a client tells the coordinator.
#[derive(Debug)]
enum Report {
    /// Got the first `media_list`, `latency` after it started connecting.
    Listed {
        latency: Duration,
        count: Option<u64>,
    },
    /// Could not connect (or lost the connection before the list).
    ConnectFailed { error: String },
    /// Received a `library_changed` push at `at`.
    Changed { at: Instant },
    /// Client 0's answer to the push trigger.
    TriggerAnswered { rtt: Duration },
    /// Answer to fetch round `round`.
    Answered {
        round: u32,
        rtt: Duration,
        count: Option<u64>,
    },
    /// The connection ended while the bench still needed it.
    Lost { error: String },
}

/// The benchmark's parameters.
#[derive(Debug, Clone)]
pub struct Options {
    /// `ws://127.0.0.1:PORT/ws`.
    pub url: String,
    /// Number of WebSocket clients.
    pub clients: usize,
    /// Items the server lists before the bench adds any.
    pub expect_count: u64,
    /// The folder the server serves (the push phase adds files here).
    pub media_dir: PathBuf,
    /// Push rounds (each adds one file).
    pub push_rounds: u32,
    /// Simultaneous `fetch_videos` rounds.
    pub fetch_rounds: u32,
    /// Handshakes in flight at once (keeps the listen backlog from overflowing).
    pub connect_concurrency: usize,
    /// Deadline for each phase.
    pub phase_timeout: Duration,
    /// The server's pid, to measure its CPU time per phase.
    pub server_pid: Option<u32>,
    /// Send the generation the client holds with `fetch_videos` (what the player does).
    pub follow_generation: bool,
}

/// Classifies a server text frame without parsing the (large) item list.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    MediaList {
        count: Option<u64>,
        generation: Option<u64>,
    },
    LibraryChanged {
        generation: Option<u64>,
    },
    Other,
}

/// The unsigned number after `"key":` in `head`, if any.
fn number_after(head: &str, key: &str) -> Option<u64> {
    head.split_once(key).and_then(|(_, after)| {
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// `media_list` frames start with their type and count (see the server's hub), so only the
/// first bytes are read; other frames are small and parsed as JSON.
pub fn classify(text: &str) -> Frame {
    if let Some(rest) = text.strip_prefix("{\"type\":\"media_list\"") {
        let mut end = rest.len().min(200);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let head = &rest[..end];
        return Frame::MediaList {
            count: number_after(head, "\"count\":"),
            generation: number_after(head, "\"generation\":"),
        };
    }
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return Frame::Other,
    };
    let generation = value.get("generation").and_then(|g| g.as_u64());
    match value.get("type").and_then(|t| t.as_str()) {
        Some("library_changed") => Frame::LibraryChanged { generation },
        Some("media_list") => Frame::MediaList {
            count: value.get("count").and_then(|c| c.as_u64()),
            generation,
        },
        _ => Frame::Other,
    }
}

/// One client: connect, report the list, then follow the phases until `Stop`.
async fn client(
    index: usize,
    opts: Arc<Options>,
    gate: Arc<Semaphore>,
    mut phases: watch::Receiver<Phase>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let started = Instant::now();
    let config = WebSocketConfig::default().read_buffer_size(64 * 1024);
    let connected = {
        let _permit = gate.acquire().await;
        tokio_tungstenite::connect_async_with_config(opts.url.as_str(), Some(config), true).await
    };
    let (mut sink, mut stream) = match connected {
        Ok((ws, _)) => ws.split(),
        Err(e) => {
            let _ = reports.send(Report::ConnectFailed {
                error: e.to_string(),
            });
            return;
        }
    };
    let mut known: Option<u64> = None;
    let fetch = |known: Option<u64>| match known {
        Some(generation) if opts.follow_generation => Message::Text(
            format!("{{\"type\":\"fetch_videos\",\"generation\":{generation}}}").into(),
        ),
        _ => Message::Text("fetch_videos".into()),
    };
    let (mut listed, mut trigger_sent) = (false, None::<Instant>);
    let mut pending: Option<(u32, Instant)> = None;
    loop {
        tokio::select! {
            incoming = stream.next() => {
                let now = Instant::now();
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        let error = format!("connection ended: {incoming:?}");
                        let _ = reports.send(if listed { Report::Lost { error } } else { Report::ConnectFailed { error } });
                        return;
                    }
                    Some(Ok(_)) => continue,
                };
                let frame = classify(&text);
                if let Frame::MediaList { generation: Some(g), .. } | Frame::LibraryChanged { generation: Some(g) } = frame {
                    known = Some(g);
                }
                let report = match frame {
                    Frame::MediaList { count, .. } if !listed => {
                        listed = true;
                        Report::Listed { latency: now - started, count }
                    }
                    Frame::MediaList { count, .. } => match (pending.take(), trigger_sent.take()) {
                        (Some((round, sent)), _) => Report::Answered { round, rtt: now - sent, count },
                        (None, Some(sent)) => Report::TriggerAnswered { rtt: now - sent },
                        (None, None) => continue,
                    },
                    Frame::LibraryChanged { .. } => Report::Changed { at: now },
                    Frame::Other => continue,
                };
                let _ = reports.send(report);
            }
            changed = phases.changed() => {
                if changed.is_err() {
                    return;
                }
                let phase = *phases.borrow_and_update();
                let sent = match phase {
                    Phase::Push(_) if index == 0 => {
                        trigger_sent = Some(Instant::now());
                        sink.send(fetch(known)).await
                    }
                    Phase::Fetch(round) => {
                        pending = Some((round, Instant::now()));
                        sink.send(fetch(known)).await
                    }
                    Phase::Stop => {
                        let _ = sink.send(Message::Close(None)).await;
                        // Let the server finish the closing handshake, briefly.
                        let _ = tokio::time::timeout(Duration::from_secs(5), async {
                            while let Some(Ok(_)) = stream.next().await {}
                        })
                        .await;
                        return;
                    }
                    Phase::Push(_) | Phase::Idle => Ok(()),
                };
                if let Err(e) = sent {
                    let _ = reports.send(Report::Lost { error: format!("send failed: {e}") });
                    return;
                }
            }
        }
    }
}

/// The coordinator's side of the report channel: counts clients still alive and keeps the
/// first few errors, so each phase only has to look at the reports it cares about.
struct Inbox {
    rx: mpsc::UnboundedReceiver<Report>,
    alive: usize,
    errors: Vec<String>,
}

impl Inbox {
    /// The next report, or `None` once `deadline` has passed or every client is gone.
    /// Losses are counted here (and still returned, so loops re-check their condition).
    async fn next(&mut self, deadline: Instant) -> Option<Report> {
        let report = tokio::time::timeout_at(deadline, self.rx.recv())
            .await
            .ok()??;
        if let Report::Lost { error } | Report::ConnectFailed { error } = &report {
            self.alive = self.alive.saturating_sub(1);
            if self.errors.len() < 3 {
                self.errors.push(error.clone());
            }
        }
        Some(report)
    }
}

/// Runs the three measurements and returns what they saw.
pub async fn run(opts: Options) -> Result<FanoutReport, String> {
    let opts = Arc::new(opts);
    let (phase_tx, phase_rx) = watch::channel(Phase::Idle);
    let (report_tx, rx) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(opts.connect_concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut report = FanoutReport::new(opts.clients, opts.expect_count);
    let mut inbox = Inbox {
        rx,
        alive: opts.clients,
        errors: Vec::new(),
    };

    let meter = CpuMeter {
        server_pid: opts.server_pid,
    };

    // 1. Connect: everyone gets the list.
    let cpu0 = meter.sample();
    let start = Instant::now();
    for i in 0..opts.clients {
        tasks.spawn(client(
            i,
            opts.clone(),
            gate.clone(),
            phase_rx.clone(),
            report_tx.clone(),
        ));
    }
    drop(report_tx);
    let (mut latencies, mut last) = (Vec::new(), start);
    while latencies.len() < inbox.alive {
        match inbox.next(start + opts.phase_timeout).await {
            None => break,
            Some(Report::Listed { latency, count }) => {
                latencies.push(latency);
                last = Instant::now();
                report.wrong_counts += usize::from(count != Some(opts.expect_count));
            }
            Some(_) => {}
        }
    }
    report.connected = latencies.len();
    report.connect_wall = last - start;
    report.connect = Summary::of(&latencies);
    report.connect_cpu = meter.since(cpu0);
    eprintln!(
        "connect: {} of {} clients listed in {:?}",
        latencies.len(),
        opts.clients,
        last - start
    );

    // 2. Push rounds: add a file, client 0 asks for a refresh, everyone gets library_changed.
    for round in 0..opts.push_rounds {
        if inbox.alive == 0 {
            break;
        }
        let added = opts.media_dir.join(format!(
            "bench-added/push-{}-{round}.mp3",
            std::process::id()
        ));
        if let Some(parent) = added.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        sparse_file(&added, 1 << 20)?;
        report.added += 1;
        let cpu0 = meter.sample();
        let t0 = Instant::now();
        phase_tx.send_replace(Phase::Push(round));
        let (mut got, mut trigger) = (Vec::new(), None);
        while got.len() < inbox.alive || trigger.is_none() {
            match inbox.next(t0 + opts.phase_timeout).await {
                None => break,
                Some(Report::Changed { at }) => got.push(at - t0),
                Some(Report::TriggerAnswered { rtt }) => trigger = Some(rtt),
                Some(_) => {}
            }
        }
        eprintln!("push {round}: {} clients got library_changed", got.len());
        report.pushes.push(Round {
            answered: got.len(),
            alive: inbox.alive,
            wall: got.iter().max().copied(),
            summary: Summary::of(&got),
            trigger_rtt: trigger,
            cpu: meter.since(cpu0),
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // 3. Fetch rounds: everyone sends fetch_videos at once.
    let want_count = opts.expect_count + report.added;
    for round in 0..opts.fetch_rounds {
        if inbox.alive == 0 {
            break;
        }
        let cpu0 = meter.sample();
        let t0 = Instant::now();
        phase_tx.send_replace(Phase::Fetch(round));
        let (mut rtts, mut last) = (Vec::new(), t0);
        while rtts.len() < inbox.alive {
            match inbox.next(t0 + opts.phase_timeout).await {
                None => break,
                Some(Report::Answered {
                    round: r,
                    rtt,
                    count,
                }) if r == round => {
                    rtts.push(rtt);
                    last = Instant::now();
                    report.wrong_counts += usize::from(count != Some(want_count));
                }
                Some(_) => {}
            }
        }
        eprintln!(
            "fetch {round}: {} answers, wall {:?}",
            rtts.len(),
            last - t0
        );
        report.fetches.push(Round {
            answered: rtts.len(),
            alive: inbox.alive,
            wall: Some(last - t0),
            summary: Summary::of(&rtts),
            trigger_rtt: None,
            cpu: meter.since(cpu0),
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Close everything, bounded.
    phase_tx.send_replace(Phase::Stop);
    let closing = tokio::time::timeout(Duration::from_secs(15), async {
        while tasks.join_next().await.is_some() {}
    });
    if closing.await.is_err() {
        tasks.abort_all();
    }
    report.errors = inbox.errors;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_server_frames() {
        let list =
            "{\"type\":\"media_list\",\"generation\":3,\"count\":1000,\"items\":[{\"id\":\"x\"}]}";
        assert_eq!(
            classify(list),
            Frame::MediaList {
                count: Some(1000),
                generation: Some(3)
            }
        );
        let pushed = "{\"added\":[],\"changed\":[],\"count\":1001,\"generation\":4,\"removed\":[],\"type\":\"library_changed\"}";
        assert_eq!(
            classify(pushed),
            Frame::LibraryChanged {
                generation: Some(4)
            }
        );
        let reordered = "{\"count\":2,\"type\":\"media_list\",\"items\":[]}";
        assert_eq!(
            classify(reordered),
            Frame::MediaList {
                count: Some(2),
                generation: None
            }
        );
        let unchanged =
            "{\"type\":\"media_list\",\"generation\":9,\"count\":1002,\"unchanged\":true}";
        assert_eq!(
            classify(unchanged),
            Frame::MediaList {
                count: Some(1002),
                generation: Some(9)
            }
        );
        assert_eq!(
            classify("{\"type\":\"status\",\"ok\":true,\"error\":null}"),
            Frame::Other
        );
        assert_eq!(classify("not json"), Frame::Other);
    }
}
