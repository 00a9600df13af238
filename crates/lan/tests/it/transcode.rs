//! `/transcode/{id}` over a real Garage bucket with the real ffmpeg: each mode's output
//! probed with ffprobe, ffmpeg missing, bad queries, a garbage source, and Subsonic's stream.
//! Loopback is not trusted here: ffmpeg gets in with the server's internal token. The ffmpeg
//! processes' lifetime (shared, killed, bounded) is in [`crate::transcode_ffmpeg`].
//!
//! Processes are counted by their command line (`ffmpeg … 127.0.0.1:PORT/media/…`), so tests
//! running side by side do not see each other's. The "endless" ffmpeg is a wrapper that runs
//! the real one at native speed over its input looped forever: it never ends by itself.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use bucketstream_core::config::{
    CacheConfig, Config, LanConfig, LibraryConfig, SourceConfig, SubsonicAccount,
};
use bucketstream_core::secret::Sensitive;
use bucketstream_core::Library;
use bucketstream_lan::{self as server, LanOptions, ServerState};
use serde_json::Value;

use crate::byteproxy::ByteProxy;
use crate::common::{ffmpeg, put, Garage};

/// Seconds of every fixture.
const SECS: f64 = 6.0;

/// The fixtures, made once per test run: (key, ffmpeg arguments).
pub(crate) fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("bucketstream-tx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let v = [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=6",
        ];
        let a = [
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=6",
        ];
        let out = |name: &str| dir.join(name).display().to_string();
        let both = |extra: &[&str], name: &str| {
            let mut args: Vec<&str> = v.iter().chain(a.iter()).copied().collect();
            args.extend_from_slice(extra);
            let o = out(name);
            args.push(&o);
            ffmpeg(&args);
        };
        let g = ["-g", "25", "-pix_fmt", "yuv420p"];
        both(
            &[&g[..], &["-c:v", "libx264", "-c:a", "ac3"]].concat(),
            "film.mkv",
        );
        both(
            &[
                &g[..],
                &["-c:v", "libx265", "-tag:v", "hvc1", "-c:a", "aac"],
            ]
            .concat(),
            "hevc.mp4",
        );
        both(&["-c:v", "mpeg4", "-c:a", "libmp3lame"], "old.avi");
        both(&["-c:v", "mpeg2video", "-c:a", "mp2"], "tv.ts");
        for (name, codec) in [("song.wma", "wmav2"), ("dolby.ac3", "ac3")] {
            let o = out(name);
            let mut args: Vec<&str> = a.to_vec();
            args.extend_from_slice(&["-c:a", codec, &o]);
            ffmpeg(&args);
        }
        // Not media at all, and a real file cut in the middle.
        std::fs::write(dir.join("garbage.mkv"), crate::common::bytes(200_000, 7)).expect("w");
        let film = std::fs::read(dir.join("film.mkv")).expect("read");
        std::fs::write(dir.join("cut.mkv"), &film[..film.len() / 2]).expect("w");
        // An ffmpeg that never ends by itself: native speed, input looped forever.
        let endless = dir.join("ffmpeg-endless");
        std::fs::write(
            &endless,
            "#!/bin/sh\nexec ffmpeg -re -stream_loop -1 \"$@\"\n",
        )
        .expect("w");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&endless, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        dir
    })
}

pub(crate) struct Srv {
    addr: std::net::SocketAddr,
    key: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _tmp: tempfile::TempDir,
}

impl Srv {
    /// A server over a fresh bucket holding the fixtures; `tweak` changes its options.
    pub(crate) async fn start(tweak: impl FnOnce(&mut LanOptions)) -> Srv {
        Srv::start_with(tweak, None, Vec::new()).await.0
    }

    /// [`Srv::start`] whose store is reached through a [`ByteProxy`] when `counted`, with
    /// `extra` objects (name, bytes) beside the fixtures; and the bucket's name.
    pub(crate) async fn start_with(
        tweak: impl FnOnce(&mut LanOptions),
        counted: Option<&ByteProxy>,
        extra: Vec<(String, Vec<u8>)>,
    ) -> (Srv, String) {
        let garage = Garage::shared();
        let client = garage.client();
        let bucket = garage.bucket(&client, "tx").await;
        let dir = fixtures();
        for entry in std::fs::read_dir(dir).expect("dir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.contains('.') {
                let data = std::fs::read(entry.path()).expect("read");
                put(&client, &bucket, &format!("media/{name}"), data).await;
            }
        }
        for (name, data) in extra {
            put(&client, &bucket, &format!("media/{name}"), data).await;
        }
        let mut source = garage.source(&bucket);
        if let Some(proxy) = counted {
            source.endpoint = Some(proxy.endpoint());
        }
        let tmp = tempfile::tempdir().expect("tmp");
        let config = Config {
            bind: [127, 0, 0, 1].into(),
            port: 0,
            refresh: None,
            source: SourceConfig::S3(source),
            cache: CacheConfig {
                enabled: true,
                dir: Some(tmp.path().join("chunks")),
                max_bytes: 1 << 30,
                direct: false,
            },
            library: LibraryConfig::new(tmp.path().join("library")),
        };
        let library = Library::with_client_refresh_interval(config, Duration::ZERO)
            .await
            .expect("library");
        // Not even loopback is trusted: ffmpeg must come in with the internal token.
        let mut lan = LanConfig {
            trusted_networks: Vec::new(),
            ..LanConfig::default()
        };
        lan.transcode.cache_dir = Some(tmp.path().join("transcode"));
        lan.transcode.max_concurrent = 4;
        let mut options = LanOptions {
            shutdown_grace: Duration::from_secs(1),
            ..LanOptions::from_config(lan)
        };
        tweak(&mut options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (stop_refresh, refresh_stopped) = tokio::sync::oneshot::channel::<()>();
        library.spawn_refresher(async move {
            let _ = refresh_stopped.await;
        });
        let state = ServerState::with_options(library, options).expect("state");
        let key = state.access.key().expose().to_owned();
        tokio::spawn(async move {
            server::run(listener, state, async move {
                let _ = stopped.await;
                let _ = stop_refresh.send(());
            })
            .await
            .expect("server runs");
        });
        let srv = Srv {
            addr,
            key,
            stop: Some(stop),
            _tmp: tmp,
        };
        let resp = reqwest::Client::new()
            .post(format!("http://{addr}/api/refresh"))
            .bearer_auth(&srv.key)
            .send()
            .await
            .expect("refresh");
        assert!(resp.status().is_success(), "refresh: {}", resp.status());
        (srv, bucket)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .get(format!("http://{}{path}", self.addr))
            .bearer_auth(&self.key)
    }

    /// The id of the item named `name`.
    async fn id(&self, name: &str) -> String {
        let items: Vec<Value> = self
            .get("/api/videos")
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        items
            .iter()
            .find(|i| i["key"] == format!("media/{name}"))
            .and_then(|i| i["id"].as_str())
            .unwrap_or_else(|| panic!("{name} is listed: {items:?}"))
            .to_owned()
    }

    pub(crate) async fn transcode(&self, name: &str, query: &str) -> reqwest::Response {
        let id = self.id(name).await;
        self.get(&format!("/transcode/{id}?{query}"))
            .send()
            .await
            .expect("transcode answers")
    }

    /// ffmpeg processes reading this server's `/media`.
    pub(crate) fn ffmpegs(&self) -> usize {
        self.ffmpeg_pids().len()
    }

    /// Their process ids.
    pub(crate) fn ffmpeg_pids(&self) -> Vec<u32> {
        let needle = format!("127.0.0.1:{}/media/", self.addr.port());
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        procs
            .flatten()
            .filter_map(|p| {
                let pid: u32 = p.file_name().to_str()?.parse().ok()?;
                let cmd = std::fs::read(p.path().join("cmdline")).ok()?;
                let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                (cmd.contains("ffmpeg") && cmd.contains(&needle)).then_some(pid)
            })
            .collect()
    }

    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        self.stop();
    }
}

/// ffprobe's view of `bytes`: the codec names of its streams and its duration, seconds.
fn probe(bytes: &[u8]) -> (Vec<String>, f64) {
    let file = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(file.path(), bytes).expect("write");
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-of",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(file.path())
        .output()
        .expect("ffprobe runs");
    let json: Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    let codecs = json["streams"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["codec_name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let duration = json["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| last_packet_time(file.path()));
    (codecs, duration)
}

/// The time of the last packet of `file` (a WebM written to a pipe says no duration).
fn last_packet_time(file: &Path) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-of",
            "csv=p=0",
            "-show_entries",
            "packet=pts_time",
        ])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse::<f64>().ok())
        .fold(0.0, f64::max)
}

pub(crate) fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn each_mode_gives_its_codecs_from_any_start() {
    let srv = Srv::start(|_| {}).await;
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("film.mkv", "remux", "video/mp4", &["h264", "ac3"]),
        ("film.mkv", "audio", "video/mp4", &["h264", "aac"]),
        ("hevc.mp4", "full", "video/mp4", &["h264", "aac"]),
        ("old.avi", "full", "video/mp4", &["h264", "aac"]),
        ("tv.ts", "full", "video/mp4", &["h264", "aac"]),
        ("song.wma", "audio", "audio/mp4", &["aac"]),
        ("dolby.ac3", "audio&max_bitrate=96", "audio/mp4", &["aac"]),
        (
            "song.wma",
            "audio&codec=opus&max_bitrate=64",
            "audio/webm",
            &["opus"],
        ),
    ];
    for (name, mode, ctype, codecs) in cases {
        for start in [0.0, 3.0] {
            let resp = srv
                .transcode(name, &format!("mode={mode}&start={start}"))
                .await;
            assert_eq!(resp.status(), 200, "{name} {mode} {start}");
            assert_eq!(header(&resp, "content-type"), *ctype);
            assert_eq!(header(&resp, "cache-control"), "no-store");
            let x_start: f64 = header(&resp, "x-start").parse().expect("X-Start");
            assert!(
                x_start <= start + 0.001 && x_start >= start - 1.1,
                "{name} {mode}: X-Start {x_start} for {start}"
            );
            let body = resp.bytes().await.expect("whole body");
            let (got, duration) = probe(&body);
            assert_eq!(got, *codecs, "{name} {mode} {start}");
            let rest = SECS - x_start;
            assert!(
                (duration - rest).abs() < 0.6,
                "{name} {mode} from {start}: {duration} s, expected about {rest}"
            );
        }
    }
    assert_eq!(srv.ffmpegs(), 0, "every run ended");
}

#[tokio::test]
async fn missing_ffmpeg_bad_queries_and_bad_sources_are_clear_errors() {
    let srv = Srv::start(|o| o.transcode.ffmpeg = PathBuf::from("/nonexistent/ffmpeg")).await;
    let resp = srv.transcode("film.mkv", "mode=remux").await;
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "ffmpeg_missing");
    for (q, word) in [
        ("mode=hls", "mode"),
        ("start=-2", "start"),
        ("x=1", "unknown"),
    ] {
        let resp = srv.transcode("film.mkv", q).await;
        assert_eq!(resp.status(), 400, "{q}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error"]["code"], "bad_query");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(word));
    }
    let resp = srv
        .get("/transcode/nosuchid0000")
        .send()
        .await
        .expect("404");
    assert_eq!(resp.status(), 404);

    let srv = Srv::start(|_| {}).await;
    let resp = tokio::time::timeout(
        Duration::from_secs(60),
        srv.transcode("garbage.mkv", "mode=full"),
    )
    .await
    .expect("a garbage source does not hang");
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "transcode_failed");
    assert!(!body["error"]["message"].as_str().unwrap_or("").is_empty());
    // A file cut in half plays as far as it goes (or fails clearly), never hangs.
    let resp = tokio::time::timeout(Duration::from_secs(60), async {
        let r = srv.transcode("cut.mkv", "mode=full").await;
        let status = r.status().as_u16();
        (status, r.bytes().await.map(|b| b.len()).unwrap_or(0))
    })
    .await
    .expect("a cut source does not hang");
    match resp {
        (200, len) => assert!(len > 1000),
        (status, _) => assert_eq!(status, 422),
    }
    assert_eq!(srv.ffmpegs(), 0);
}

#[tokio::test]
async fn subsonic_stream_below_the_bitrate_is_transcoded_raw_is_not() {
    let srv = Srv::start(|o| {
        o.subsonic = Some(SubsonicAccount {
            user: "ann".into(),
            password: Sensitive::new("pw".into()),
            api_key: None,
        });
    })
    .await;
    let id = srv.id("song.wma").await;
    let rest = |q: &str| {
        reqwest::Client::new()
            .get(format!(
                "http://{}/rest/stream.view?u=ann&p=pw&v=1.16.1&c=t&id={id}{q}",
                srv.addr
            ))
            .send()
    };
    let resp = rest("&maxBitRate=64").await.expect("stream");
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "audio/mp4");
    let (codecs, duration) = probe(&resp.bytes().await.expect("body"));
    assert_eq!(codecs, ["aac"]);
    assert!((duration - SECS).abs() < 0.6, "{duration}");
    let resp = rest("&maxBitRate=64&format=opus").await.expect("stream");
    assert_eq!(header(&resp, "content-type"), "audio/webm");
    let (codecs, _) = probe(&resp.bytes().await.expect("body"));
    assert_eq!(codecs, ["opus"]);
    for q in ["&maxBitRate=64&format=raw", "", "&maxBitRate=0"] {
        let resp = rest(q).await.expect("stream");
        assert_eq!(header(&resp, "content-type"), "audio/x-ms-wma", "{q}");
        let raw = std::fs::read(fixtures().join("song.wma")).expect("fixture");
        assert_eq!(
            resp.bytes().await.expect("body"),
            raw,
            "{q}: the bytes as they are"
        );
    }
}
