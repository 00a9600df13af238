//! Media fixtures for the probe tests, made with ffmpeg at test time in one temporary folder
//! per test run (each made once, on first use), a byte-counting file-backed `RangeFetch`, and
//! ffprobe's view of a file as the independent reference. The recipes are in [`recipes`].

#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bucketstream_library::probe::RangeFetch;
use serde_json::Value;

mod recipes;
use recipes::make;

/// A title long enough to be cut (20 KB).
pub fn long_title() -> String {
    "Long title ".repeat(2000)
}

/// Text that must stay text.
pub const HOSTILE: &str = "<img src=x onerror=alert(1)>";
/// Unicode tag text.
pub const UNICODE_TITLE: &str = "Ünïcødé 日本語 🎵";

/// The fixture folder: kept between runs under cargo's target tmp dir (the 200 MB mp3 is
/// made once); bump the version when a recipe changes.
fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("probe-fixtures-v1");
        std::fs::create_dir_all(&d).expect("fixture dir");
        d
    })
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-nostdin"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The path of fixture `name`, made on first use (concurrent tests wait for each other).
pub fn fixture(name: &str) -> PathBuf {
    static MADE: OnceLock<Mutex<HashMap<String, Arc<OnceLock<PathBuf>>>>> = OnceLock::new();
    let cell = {
        let mut map = MADE.get_or_init(Default::default).lock().expect("lock");
        map.entry(name.to_owned()).or_default().clone()
    };
    cell.get_or_init(|| {
        let done = dir().join(name);
        if !done.exists() {
            // Made under a temporary name, renamed when complete.
            let tmp = make(name, &format!("tmp{}-{name}", std::process::id()));
            std::fs::rename(tmp, &done).expect("rename fixture");
        }
        done
    })
    .clone()
}

/// `len` bytes of a fixed pseudo-random sequence.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Writes `bytes` to a new file in the fixture folder.
pub fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

/// A file-backed `RangeFetch` that counts the bytes and requests it serves.
pub struct FileFetch {
    file: Mutex<File>,
    pub bytes: AtomicU64,
    pub requests: AtomicU64,
}

impl FileFetch {
    pub fn open(path: &Path) -> Self {
        Self {
            file: Mutex::new(File::open(path).expect("open fixture")),
            bytes: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        }
    }
}

impl RangeFetch for FileFetch {
    fn fetch(&self, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
        assert!(start <= end, "inclusive range {start}..={end}");
        let mut f = self.file.lock().expect("lock");
        let len = f.metadata()?.len();
        assert!(end < len, "range {start}..={end} past the end ({len})");
        let mut buf = vec![0; (end - start + 1) as usize];
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf)?;
        self.bytes.fetch_add(buf.len() as u64, Ordering::SeqCst);
        self.requests.fetch_add(1, Ordering::SeqCst);
        Ok(buf)
    }
}

/// ffprobe's JSON for a file (`-show_format -show_streams`, packets counted when asked).
pub fn ffprobe(path: &Path, count_packets: bool) -> Value {
    let mut cmd = Command::new("ffprobe");
    cmd.args([
        "-v",
        "error",
        "-of",
        "json",
        "-show_format",
        "-show_streams",
    ]);
    if count_packets {
        cmd.arg("-count_packets");
    }
    let out = cmd.arg(path).output().expect("run ffprobe");
    assert!(out.status.success(), "ffprobe {}", path.display());
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

/// A tag from ffprobe's format or first-stream tags, by case-insensitive key.
pub fn tag(json: &Value, key: &str) -> Option<String> {
    [&json["format"]["tags"], &json["streams"][0]["tags"]]
        .into_iter()
        .filter_map(Value::as_object)
        .flat_map(|m| m.iter())
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str().map(str::to_owned))
}

/// An object held in memory; checks every range it is asked for.
pub struct MemFetch(pub Vec<u8>);

impl RangeFetch for MemFetch {
    fn fetch(&self, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
        assert!(start <= end, "inverted range {start}..={end}");
        assert!(
            end < self.0.len() as u64,
            "range {start}..={end} past {}",
            self.0.len()
        );
        Ok(self.0[start as usize..=end as usize].to_vec())
    }
}
