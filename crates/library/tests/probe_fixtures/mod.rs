//! Media fixtures for the probe tests, made with ffmpeg at test time in one temporary folder
//! per test run (each made once, on first use), a byte-counting file-backed `RangeFetch`, and
//! ffprobe's view of a file as the independent reference.

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

const TAGS: [&str; 14] = [
    "-metadata",
    "artist=Test Artist",
    "-metadata",
    "album=Test Album",
    "-metadata",
    "album_artist=Various",
    "-metadata",
    "track=3/12",
    "-metadata",
    "disc=1/2",
    "-metadata",
    "date=2021",
    "-metadata",
    "genre=Jazz",
];

fn tagged(title: &str) -> Vec<String> {
    let mut v: Vec<String> = TAGS.iter().map(|s| (*s).to_owned()).collect();
    v.push("-metadata".into());
    v.push(format!("title={title}"));
    v
}

fn run(args: Vec<String>) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ffmpeg(&refs);
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

/// Makes fixture `name` at `dir()/file`.
fn make(name: &str, file: &str) -> PathBuf {
    let d = dir();
    let out = d.join(file);
    let o = out.to_str().expect("utf-8 path").to_owned();
    let sine = |secs: u32| {
        s(&[
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:duration={secs}"),
        ])
    };
    let cover = || fixture("cover.png").to_str().expect("path").to_owned();
    // Quiet then loud: a VBR stream whose bitrate changes a lot half-way.
    let mixed = s(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=40",
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=duration=20:amplitude=0.5",
        "-filter_complex",
        "[0][1]concat=n=2:v=0:a=1[a]",
        "-map",
        "[a]",
    ]);
    let mp3_with_cover = |version: &str, title: &str| {
        let mut a = sine(30);
        a.extend(s(&[
            "-i",
            &cover(),
            "-map",
            "0",
            "-map",
            "1",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            "-c:v",
            "copy",
            "-id3v2_version",
            version,
            "-metadata:s:v",
            "title=Album cover",
            "-metadata:s:v",
            "comment=Cover (front)",
        ]));
        a.extend(tagged(title));
        a.push(o.clone());
        run(a);
    };
    match name {
        "cover.png" => run(s(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=300x300:duration=1",
            "-frames:v",
            "1",
            &o,
        ])),
        "v24_cover.mp3" => mp3_with_cover("4", "ID3v2.4 with cover"),
        "v23_cover.mp3" => mp3_with_cover("3", "ID3v2.3 with cover"),
        "html.mp3" => mp3_with_cover("4", HOSTILE),
        "long_title.mp3" => mp3_with_cover("4", &long_title()),
        "id3v1.mp3" => {
            // ffmpeg writes ID3v1 only beside ID3v2 (`-id3v2_version 0` writes neither): the
            // ID3v2 tag is cut off afterwards.
            let mut a = sine(20);
            a.extend(s(&[
                "-c:a",
                "libmp3lame",
                "-b:a",
                "128k",
                "-write_id3v1",
                "1",
            ]));
            a.extend(tagged("ID3v1 only"));
            a.push(o.clone());
            run(a);
            let bytes = std::fs::read(&out).expect("read");
            assert!(bytes.starts_with(b"ID3"), "an ID3v2 tag to cut");
            let size = bytes[6..10]
                .iter()
                .fold(0usize, |a, b| (a << 7) | usize::from(b & 0x7F));
            std::fs::write(&out, &bytes[10 + size..]).expect("write");
            assert!(
                bytes[bytes.len() - 128..].starts_with(b"TAG"),
                "an ID3v1 tag"
            );
        }
        "cbr_xing.mp3" | "cbr_noxing.mp3" | "vbr_xing.mp3" | "vbr_noxing.mp3" => {
            let mut a = mixed;
            a.extend(s(&["-c:a", "libmp3lame"]));
            a.extend(s(if name.starts_with("cbr") {
                &["-b:a", "160k"]
            } else {
                &["-q:a", "4"]
            }));
            if name.contains("noxing") {
                a.extend(s(&["-write_xing", "0"]));
            }
            a.extend(tagged(name));
            a.push(o.clone());
            run(a);
        }
        "vbr_noxing_long.mp3" => {
            // Three minutes of quiet and loud parts of different lengths, VBR, no Xing.
            let mut a = Vec::new();
            let parts = [
                ("sine=frequency=330", 30),
                ("anoisesrc=amplitude=0.4", 20),
                ("sine=frequency=880", 50),
                ("anoisesrc=amplitude=0.2:color=pink", 40),
                ("sine=frequency=220", 40),
            ];
            for (src, secs) in parts {
                a.extend(s(&["-f", "lavfi", "-i", &format!("{src}:duration={secs}")]));
            }
            a.extend(s(&[
                "-filter_complex",
                "[0][1][2][3][4]concat=n=5:v=0:a=1[a]",
                "-map",
                "[a]",
                "-c:a",
                "libmp3lame",
                "-q:a",
                "2",
                "-write_xing",
                "0",
            ]));
            a.extend(tagged(name));
            a.push(o.clone());
            run(a);
        }
        "big.mp3" => {
            // 10 s of 320 kbit/s CBR, looped by ffmpeg into a valid 84-minute, ~200 MB stream.
            let seed = d.join(format!("{file}.seed.mp3"));
            let seed = seed.to_str().expect("path");
            let mut a = sine(10);
            a.extend(s(&[
                "-c:a",
                "libmp3lame",
                "-b:a",
                "320k",
                "-write_xing",
                "0",
                seed,
            ]));
            run(a);
            let mut a = s(&[
                "-stream_loop",
                "-1",
                "-i",
                seed,
                "-t",
                "5040",
                "-c",
                "copy",
                "-id3v2_version",
                "4",
            ]);
            a.extend(tagged("Two hundred megabytes"));
            a.push(o.clone());
            run(a);
            std::fs::remove_file(seed).expect("remove the seed");
        }
        "moov_end.m4a" => {
            let mut a = sine(30);
            a.extend(s(&[
                "-i",
                &cover(),
                "-map",
                "0",
                "-map",
                "1",
                "-c:a",
                "aac",
                "-b:a",
                "128k",
                "-c:v",
                "copy",
                "-disposition:v",
                "attached_pic",
            ]));
            a.extend(tagged("M4A moov at the end"));
            a.push(o.clone());
            run(a);
        }
        "picture.flac" => {
            let mut a = sine(20);
            a.extend(s(&[
                "-i",
                &cover(),
                "-map",
                "0",
                "-map",
                "1",
                "-c:a",
                "flac",
                "-c:v",
                "copy",
                "-disposition:v",
                "attached_pic",
            ]));
            a.extend(tagged("FLAC with picture"));
            a.push(o.clone());
            run(a);
        }
        "unicode.opus" | "unicode.ogg" => {
            let mut a = sine(25);
            a.extend(s(if name.ends_with("opus") {
                &["-c:a", "libopus", "-b:a", "64k"]
            } else {
                &["-c:a", "libvorbis", "-q:a", "3"]
            }));
            a.extend(tagged(UNICODE_TITLE));
            a.extend(s(&["-metadata", "artist=Björk Guðmundsdóttir"]));
            a.push(o.clone());
            run(a);
        }
        "tagged.wav" => {
            let mut a = sine(5);
            a.extend(tagged("WAV with INFO"));
            a.push(o.clone());
            run(a);
        }
        "tagged.aiff" => {
            let mut a = sine(5);
            a.extend(s(&["-write_id3v2", "1"]));
            a.extend(tagged("AIFF with ID3"));
            a.push(o.clone());
            run(a);
        }
        "video.mp4" => run(s(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=25:duration=10",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=10",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-metadata",
            "title=A short film",
            "-shortest",
            &o,
        ])),
        "wide.mp4" => run(s(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=1280x720:rate=25:duration=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            &o,
        ])),
        "video.webm" => run(s(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25:duration=6",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=6",
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "300k",
            "-c:a",
            "libopus",
            "-metadata",
            "title=A webm film",
            "-shortest",
            &o,
        ])),
        "video.mkv" | "faststart.mov" => {
            // Matroska (H.264 + MP3) and QuickTime with its index first (H.264 + AAC).
            let (audio, extra): (&str, &[&str]) = if name == "video.mkv" {
                ("libmp3lame", &[])
            } else {
                ("aac", &["-movflags", "+faststart"])
            };
            let mut a = s(&[
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=480x270:rate=25:duration=5",
                "-f",
                "lavfi",
                "-i",
                "sine=duration=5",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                audio,
                "-metadata",
                "title=Container title",
                "-shortest",
            ]);
            a.extend(s(extra));
            a.push(o.clone());
            run(a);
        }
        _ => panic!("no recipe for fixture {name}"),
    }
    out
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
