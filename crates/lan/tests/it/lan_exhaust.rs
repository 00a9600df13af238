//! Exhaustion: LAN clients cannot use up the server's open files so that the owner's own
//! requests go unanswered; WebSocket clients that stop reading are dropped; an oversized
//! WebSocket frame is answered with a 1009 close frame.
//!
//! The open-file test runs the server in a child process (this test binary again, running
//! [`exhaust_child_server`] with [`CHILD_ENV`] set) under a low `RLIMIT_NOFILE`: the limit
//! is per process, and lowering this one's would starve the tests running beside it.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::lan_common::{lan_options, raw, tcp_from, ws_from, LanServer, LAN_IP};

const LOOPBACK: [u8; 4] = [127, 0, 0, 1];
/// Set (to the media folder) in the child process that serves for the open-file test.
const CHILD_ENV: &str = "BUCKETSTREAM_TEST_EXHAUST_CHILD";
/// The child's soft and hard open-file limits.
const CHILD_NOFILE: (u64, u64) = (160, 320);
/// LAN addresses 127.0.0.2..=127.0.0.20, each with this many half-sent requests (under the
/// per-address cap of 16): 190 connections, more than the child's 160 open files.
const LAN_ADDRS: u8 = 19;
const PER_ADDR: usize = 10;

/// Not a test by itself: the server of the open-file tests, when run as their child
/// process. Serves until its stdin closes; on the line `hog` it opens `/dev/null` until the
/// open-file limit is reached and keeps them all taken (answering `HOGGED`, see [`Hog`]), on
/// `release` it closes them (`RELEASED`).
#[test]
fn exhaust_child_server() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .init();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut opts = lan_options();
        opts.limits.fd_reserve = 32;
        opts.limits.trusted_reserve = 16;
        opts.limits.max_connections_per_client = 16;
        // Half-sent requests are held for the whole test.
        opts.limits.header_read_timeout = Duration::from_secs(60);
        let server = LanServer::start(Path::new(&dir), opts).await;
        println!("ADDR {}", server.addr);
        let mut hog = None;
        let mut commands = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(command)) = commands.next_line().await {
            match command.as_str() {
                "hog" => {
                    let (held, full) = Hog::start();
                    hog = Some(held);
                    println!("HOGGED {}", full.await.expect("hog"));
                }
                "release" => {
                    if let Some(hog) = hog.take() {
                        hog.release();
                    }
                    println!("RELEASED");
                }
                _ => {}
            }
        }
    });
}

/// A thread of the child that holds every free file of the process until released, taking
/// again at once any file that another part of the process closes meanwhile (a start-up task
/// finishing): one freed file would let `accept` succeed and the test see no failure.
struct Hog {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Hog {
    /// Starts holding; the receiver gets the number of files held once no file has come free
    /// for [`HOG_QUIET`].
    fn start() -> (Hog, tokio::sync::oneshot::Receiver<usize>) {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut files = Vec::new();
            let mut last_gain = std::time::Instant::now();
            let mut full = Some(tx);
            while !flag.load(Ordering::Acquire) {
                while let Ok(file) = std::fs::File::open("/dev/null") {
                    files.push(file);
                    last_gain = std::time::Instant::now();
                }
                if last_gain.elapsed() >= HOG_QUIET {
                    if let Some(tx) = full.take() {
                        let _ = tx.send(files.len());
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        (Hog { stop, thread }, rx)
    }

    /// Closes every file held.
    fn release(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        self.thread.join().expect("hog thread");
    }
}

/// How long the child's files stay all taken before the test goes on.
const HOG_QUIET: Duration = Duration::from_millis(300);

/// The child server process, its stdout lines, and its log (stderr) once it has exited.
#[cfg(unix)]
struct ChildServer {
    addr: SocketAddr,
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    /// The child's stderr so far (its log), appended line by line.
    log: std::sync::Arc<std::sync::Mutex<String>>,
    reader: tokio::task::JoinHandle<()>,
}

#[cfg(unix)]
impl ChildServer {
    /// Starts the child with [`CHILD_NOFILE`] open files, serving `dir`.
    async fn start(dir: &Path) -> ChildServer {
        let mut cmd = tokio::process::Command::new(std::env::current_exe().expect("exe"));
        cmd.args([
            "--exact",
            "lan_exhaust::exhaust_child_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
        // SAFETY: setrlimit is async-signal-safe and touches only the child being started.
        unsafe {
            cmd.pre_exec(|| {
                let rl = libc::rlimit {
                    rlim_cur: CHILD_NOFILE.0 as libc::rlim_t,
                    rlim_max: CHILD_NOFILE.1 as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("child server");
        let stdin = child.stdin.take().expect("stdin");
        let stderr = child.stderr.take().expect("stderr");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        let reader = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut text = sink.lock().expect("log");
                text.push_str(&line);
                text.push('\n');
            }
        });
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut server = ChildServer {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            child,
            stdin,
            lines,
            log,
            reader,
        };
        let addr = server.said("ADDR ").await;
        server.addr = addr.trim().parse().expect("address");
        server
    }

    /// What follows `word` in the child's next line that has it.
    async fn said(&mut self, word: &str) -> String {
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = self.lines.next_line().await.expect("child stdout") {
                // libtest writes "test NAME ... " before the first one on the same line.
                if let Some((_, rest)) = line.split_once(word) {
                    return rest.to_owned();
                }
            }
            panic!("the child server never said {word:?}");
        })
        .await
        .expect("the child answers")
    }

    async fn command(&mut self, line: &str, answer: &str) -> String {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("command");
        self.said(answer).await
    }

    /// Waits until the child's log has a line containing `needle` (at most 60 s).
    async fn logged(&self, needle: &str) {
        for _ in 0..600 {
            if self.log.lock().expect("log").contains(needle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the child never logged {needle:?}:\n{}",
            self.log.lock().expect("log")
        );
    }

    /// Stops the child; its log.
    async fn finish(mut self) -> String {
        drop(self.stdin);
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("child exits")
            .expect("child status");
        self.reader.await.expect("log reader");
        let log = self.log.lock().expect("log").clone();
        assert!(status.success(), "child failed: {log}");
        log
    }
}

#[cfg(unix)]
#[tokio::test]
async fn lan_clients_cannot_exhaust_the_owners_open_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("song.mp3"), crate::common::bytes(1024, 3)).expect("write");
    let server = ChildServer::start(dir.path()).await;
    let addr = server.addr;

    // The flood: half-sent requests from 19 LAN addresses, each under the per-address cap.
    let mut held: Vec<TcpStream> = Vec::new();
    for last in 2..2 + LAN_ADDRS {
        for _ in 0..PER_ADDR {
            let mut s = tcp_from([127, 0, 0, last], addr).await;
            s.write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .await
                .expect("write");
            held.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The owner is answered at once.
    let reply = raw(
        LOOPBACK,
        addr,
        b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "the owner was not answered: {reply:?}"
    );
    // LAN connections over the cap were turned away with 503, not left hanging.
    let mut busy = 0;
    for s in &mut held {
        let mut buf = [0u8; 512];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(20), s.read(&mut buf)).await {
            if String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 503") {
                busy += 1;
            }
        }
    }
    assert!(busy > 0, "no LAN connection was turned away");

    drop(held);
    let log = server.finish().await;
    assert!(
        log.contains(&format!(
            "open-file limit raised from {} to {}",
            CHILD_NOFILE.0, CHILD_NOFILE.1
        )),
        "{log}"
    );
    let warnings = log.lines().filter(|l| l.contains("WARN")).count();
    assert!(warnings <= 1, "{warnings} warnings logged:\n{log}");
}

/// When `accept` fails for want of files anyway (here: the process itself holds them), the
/// server waits and retries with one warning for the episode, and the owner's request that
/// waited in the queue is answered once files free up.
#[cfg(unix)]
#[tokio::test]
async fn out_of_files_at_accept_backs_off_with_one_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = ChildServer::start(dir.path()).await;
    let addr = server.addr;
    server.command("hog", "HOGGED").await;
    let owner = tokio::spawn(raw(
        LOOPBACK,
        addr,
        b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        Duration::from_secs(15),
    ));
    // The first failed accept is logged (however long a loaded machine takes to get there);
    // then several more fail (100, 200, 400, 800 ms apart) without another warning.
    server.logged("WARN").await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    server.command("release", "RELEASED").await;
    let reply = owner.await.expect("owner");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply:?}");
    let log = server.finish().await;
    let warnings = log.lines().filter(|l| l.contains("WARN")).count();
    assert_eq!(warnings, 1, "one warning for the episode:\n{log}");
    assert!(log.contains("accepting connections again"), "{log}");
}

/// A folder of `n` files with long names, so the list is over a megabyte.
fn big_library(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for artist in 0..n / 100 {
        let album = dir.path().join(format!(
            "Artist number {artist:03}/A rather long album title"
        ));
        std::fs::create_dir_all(&album).expect("mkdir");
        for track in 0..100 {
            let name = format!("{track:03} - a song whose title goes on for a while.mp3");
            std::fs::write(album.join(name), b"").expect("write");
        }
    }
    dir
}

/// A raw WebSocket from loopback that sends `count` `fetch_videos` and never reads anything;
/// returns once the server counts it, with its socket (kept open by the caller).
async fn stalled_reader(server: &LanServer, count: usize) -> TcpStream {
    let mut s = tcp_from(LOOPBACK, server.addr).await;
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .expect("handshake");
    for _ in 0..100 {
        if server.state.hub.clients() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.state.hub.clients(), 1, "the WebSocket never opened");
    // Masked text frames (mask 0: the payload is sent as is).
    let payload = b"fetch_videos";
    let mut frame = vec![0x81, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    for _ in 0..count {
        s.write_all(&frame).await.expect("send fetch_videos");
    }
    s
}

/// Whether the server lets go of every WebSocket and connection within `within`.
async fn dropped_within(server: &LanServer, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if server.state.hub.clients() == 0 && server.state.counters.connections() == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_websocket_client_that_asks_more_than_it_reads_is_dropped() {
    let dir = big_library(3000);
    let mut opts = lan_options();
    opts.limits.ws_messages_per_sec = 100;
    opts.limits.ws_burst = 100;
    opts.limits.ws_max_queued_bytes = 2 * 1024 * 1024;
    let server = LanServer::start(dir.path(), opts).await;
    let list = server.state.hub.media_list().len();
    assert!(list > 1024 * 1024, "the list is only {list} bytes");
    let _client = stalled_reader(&server, 60).await;
    assert!(
        dropped_within(&server, Duration::from_secs(10)).await,
        "still connected: {} WebSockets",
        server.state.hub.clients()
    );
}

#[tokio::test]
async fn a_websocket_client_that_stops_reading_is_dropped_after_the_send_timeout() {
    let dir = big_library(3000);
    let mut opts = lan_options();
    opts.limits.ws_messages_per_sec = 100;
    opts.limits.ws_burst = 100;
    // The queue may hold everything asked for: only the send timeout can drop the client.
    opts.limits.ws_max_queued_bytes = 1 << 30;
    opts.limits.ws_send_timeout = Duration::from_secs(1);
    let server = LanServer::start(dir.path(), opts).await;
    let _client = stalled_reader(&server, 60).await;
    assert!(
        dropped_within(&server, Duration::from_secs(15)).await,
        "still connected: {} WebSockets",
        server.state.hub.clients()
    );
}

#[tokio::test]
async fn websockets_per_address_are_capped_for_trusted_clients_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = lan_options();
    opts.limits.max_websockets_per_client = 2;
    opts.limits.max_websockets_per_trusted_client = 3;
    let server = LanServer::start(dir.path(), opts).await;
    let bearer = format!("Bearer {}", server.key());
    let auth = [("authorization", bearer.as_str())];
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let cases: [([u8; 4], Headers, usize); 2] = [(LAN_IP, &auth, 2), (LOOPBACK, &[], 3)];
    for (ip, headers, cap) in cases {
        let mut open = Vec::new();
        for _ in 0..cap {
            open.push(ws_from(ip, server.addr, "/ws", headers).await.expect("ws"));
        }
        let refused = ws_from(ip, server.addr, "/ws", headers)
            .await
            .expect_err("over the cap");
        assert!(refused.contains("429"), "{ip:?}: {refused}");
        // Another address is not affected.
        let other = ws_from([127, 0, 0, 9], server.addr, "/", &auth).await;
        assert!(other.is_ok(), "{ip:?}: {other:?}");
        drop(other);
        // A closed one frees its place.
        drop(open.pop());
        let mut again = None;
        for _ in 0..50 {
            if let Ok(ws) = ws_from(ip, server.addr, "/", headers).await {
                again = Some(ws);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(again.is_some(), "{ip:?}: the place was not given back");
    }
}

#[tokio::test]
async fn an_oversized_frame_gets_a_1009_close_frame() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = LanServer::start(dir.path(), lan_options()).await;
    let mut ws = ws_from(LOOPBACK, server.addr, "/ws", &[])
        .await
        .expect("ws");
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("list in time");
    assert!(
        matches!(&first, Some(Ok(Message::Text(t))) if t.contains("media_list")),
        "{first:?}"
    );
    ws.send(Message::text("x".repeat(100 * 1024)))
        .await
        .expect("send");
    let mut got = Vec::new();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(other))) => got.push(format!("{other:?}")),
            other => panic!("no close frame: {other:?} after {got:?}"),
        }
    };
    let close = close.expect("a close frame with a code");
    assert_eq!(u16::from(close.code), 1009, "{close:?}");
}
