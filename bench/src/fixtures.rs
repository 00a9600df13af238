//! Test fixtures and server plumbing for the benchmarks: the media folder, a free port,
//! waiting until the server has listed the folder, and the size of `/api/videos`.
//!
//! The library is a local folder of N sparse `.mp3` files (1 MiB each on paper, no disk
//! blocks), spread over subfolders like a real music collection; making 100,000 of them from
//! Rust takes seconds where one `truncate` process per file would take minutes. The HTTP helper
//! is a bare HTTP/1.1 GET over `std::net` (chunked answers joined) so the bench needs no
//! HTTP client crate.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// Files per subfolder (an album-sized folder).
pub const PER_FOLDER: usize = 100;

/// The relative path of fixture file `i`: `artist-0012/album-03/track-01234.mp3`.
pub fn fixture_path(i: usize) -> String {
    let folder = i / PER_FOLDER;
    format!(
        "artist-{:04}/album-{:02}/track-{i:06}.mp3",
        folder / 10,
        folder % 10
    )
}

/// Creates `count` sparse files of `size` bytes under `dir` (which must be empty or missing).
pub fn make_library(dir: &Path, count: usize, size: u64) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for i in 0..count {
        let path = dir.join(fixture_path(i));
        if i % PER_FOLDER == 0 {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
        }
        sparse_file(&path, size)?;
    }
    Ok(())
}

/// Creates (or truncates) one sparse file of `size` bytes.
pub fn sparse_file(path: &Path, size: u64) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.set_len(size)
        .map_err(|e| format!("cannot size {}: {e}", path.display()))
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no local address: {e}"))
}

/// `GET path` on `addr`: the status code and the body (HTTP/1.1, `Connection: close`).
pub fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<(u16, Vec<u8>), String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| format!("socket option: {e}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send to {addr}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers in the answer")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line: {:?}", head.lines().next()))?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Ok((status, dechunk(&raw[split + 4..])?));
    }
    Ok((status, raw[split + 4..].to_vec()))
}

/// The body of a `Transfer-Encoding: chunked` answer (RFC 9112 §7.1): the chunks joined;
/// chunk extensions and trailers are ignored.
pub fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line without its end")?;
        let line = std::str::from_utf8(&raw[..line_end]).map_err(|_| "a chunk size is not text")?;
        let hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(hex, 16).map_err(|_| format!("bad chunk size {hex:?}"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if raw.len() < size + 2 || &raw[size..size + 2] != b"\r\n" {
            return Err(format!("a chunk of {size} bytes is cut short"));
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// Polls `/api/health` until the server reports `count` items, or `timeout` passes.
/// Returns how long it took.
pub fn wait_ready(addr: SocketAddr, count: u64, timeout: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    let mut last = String::from("no answer yet");
    while start.elapsed() < timeout {
        match http_get(addr, "/api/health", Duration::from_secs(5)) {
            Ok((200, body)) => {
                let health: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| format!("/api/health is not JSON: {e}"))?;
                let seen = health.get("count").and_then(|c| c.as_u64());
                if seen == Some(count) {
                    return Ok(start.elapsed());
                }
                last = format!("count {seen:?}, want {count}");
            }
            Ok((status, _)) => last = format!("HTTP {status}"),
            Err(err) => last = err,
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("server not ready after {timeout:?}: {last}"))
}

/// Waits until `/api/health` lists at least `count` items and its `scan` shows a finished
/// scan of at least `total` objects (`running: false`, `done == total`; `total` is 0 after a
/// restart that has nothing to read); returns that `scan` object and the time waited.
pub fn wait_scan(
    addr: SocketAddr,
    count: u64,
    total: u64,
    timeout: Duration,
) -> Result<(serde_json::Value, Duration), String> {
    let start = Instant::now();
    let mut last = String::from("no answer yet");
    while start.elapsed() < timeout {
        match http_get(addr, "/api/health", Duration::from_secs(5)) {
            Ok((200, body)) => {
                let health: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| format!("/api/health is not JSON: {e}"))?;
                let scan = health.get("scan").cloned().unwrap_or_default();
                let num = |k: &str| scan.get(k).and_then(|v| v.as_u64());
                let running = scan.get("running").and_then(|v| v.as_bool());
                let listed = health.get("count").and_then(|c| c.as_u64());
                if running == Some(false)
                    && listed.is_some_and(|l| l >= count)
                    && num("done") == num("total")
                    && num("total").is_some_and(|t| t >= total)
                {
                    return Ok((scan, start.elapsed()));
                }
                last = format!("listed {listed:?}, scan {scan}");
            }
            Ok((status, _)) => last = format!("HTTP {status}"),
            Err(err) => last = err,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("scan not finished after {timeout:?}: {last}"))
}

/// The byte size of the `/api/videos` body, checking it is a JSON array of `count` items.
pub fn videos_size(addr: SocketAddr, count: u64) -> Result<u64, String> {
    let (status, body) = http_get(addr, "/api/videos", Duration::from_secs(60))?;
    if status != 200 {
        return Err(format!("/api/videos answered HTTP {status}"));
    }
    let items: Vec<serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| format!("/api/videos is not a JSON array: {e}"))?;
    if items.len() as u64 != count {
        return Err(format!(
            "/api/videos has {} items, want {count}",
            items.len()
        ));
    }
    Ok(body.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_spread_over_folders() {
        assert_eq!(fixture_path(0), "artist-0000/album-00/track-000000.mp3");
        assert_eq!(fixture_path(99), "artist-0000/album-00/track-000099.mp3");
        assert_eq!(fixture_path(100), "artist-0000/album-01/track-000100.mp3");
        assert_eq!(
            fixture_path(99_999),
            "artist-0099/album-09/track-099999.mp3"
        );
    }

    #[test]
    fn joins_chunks() {
        let ok: &[(&[u8], &[u8])] = &[
            (b"0\r\n\r\n", b""),
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (
                b"3\r\n[1,\r\na;ext=1\r\n2,3,4,5,6]\r\n0\r\n\r\n",
                b"[1,2,3,4,5,6]",
            ),
            (b"2\r\n\r\n\r\n0\r\nTrailer: x\r\n\r\n", b"\r\n"),
        ];
        for (raw, want) in ok {
            assert_eq!(dechunk(raw).as_deref(), Ok(*want), "{raw:?}");
        }
        let bad: &[&[u8]] = &[
            b"",
            b"5\r\nhel",
            b"zz\r\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
        ];
        for raw in bad {
            assert!(dechunk(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn makes_sparse_files() {
        let dir =
            std::env::temp_dir().join(format!("bucketstream-bench-test-{}", std::process::id()));
        make_library(&dir, 150, 1 << 20).expect("fixtures");
        let meta = fs::metadata(dir.join(fixture_path(149))).expect("last file");
        assert_eq!(meta.len(), 1 << 20);
        assert!(dir.join("artist-0000/album-01").is_dir());
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
