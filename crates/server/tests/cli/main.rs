//! The headless binary as a user runs it: flags, `.env`, config file, and one-line errors.
//!
//! Each test runs `bucketstream-server` as a child process with a throwaway HOME (so no user
//! config is read) and no AWS variables from the test environment. The tests against a real S3
//! store are in [`s3`].

mod s3;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn server(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bucketstream-server"));
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") || name.starts_with("BUCKETSTREAM_") || name == "BUCKET_NAME" {
            cmd.env_remove(name);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("BUCKETSTREAM_LOG", "warn")
        .current_dir(home)
        .stdin(Stdio::null());
    cmd
}

/// Runs to completion and returns (success, stderr).
fn run_fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run bucketstream-server");
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A running server; killed on drop.
struct Running {
    child: Child,
    /// stderr lines up to and including the "listening on" line.
    lines: Vec<String>,
    base: String,
    /// The rest of stderr.
    stderr: std::io::Lines<BufReader<std::process::ChildStderr>>,
}

impl Running {
    /// The first stderr line containing `needle`, among those read so far or the next ones
    /// (a bucket served from its kept listing is listed after the server is up, so its
    /// warning may come after the "listening on" line).
    fn line_with(&mut self, needle: &str) -> Option<String> {
        if let Some(line) = self.lines.iter().find(|l| l.contains(needle)) {
            return Some(line.clone());
        }
        for line in self.stderr.by_ref() {
            let line = line.ok()?;
            self.lines.push(line.clone());
            if line.contains(needle) {
                return Some(line);
            }
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(cmd: &mut Command) -> Running {
    let mut child = cmd.stderr(Stdio::piped()).spawn().expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = Vec::new();
    let mut base = String::new();
    let mut stderr = BufReader::new(stderr).lines();
    for line in stderr.by_ref() {
        let line = line.expect("line");
        let found = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(|url| url.trim_end_matches('/').to_owned());
        lines.push(line);
        if let Some(url) = found {
            base = url;
            break;
        }
    }
    assert!(!base.is_empty(), "server did not start: {lines:?}");
    Running {
        child,
        lines,
        base,
        stderr,
    }
}

fn get_json(url: &str) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client")
            .get(url)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json")
    })
}

#[test]
fn a_busy_port_is_one_clear_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let err = run_fails(
        server(home.path())
            .args(["--bind", "127.0.0.1", "--port", &port, "--media-dir"])
            .arg(repo().join("samples")),
    );
    assert!(err.contains("already in use"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn bad_folder_flag_and_config_are_clear() {
    let home = tempfile::tempdir().expect("tempdir");
    let err = run_fails(server(home.path()).args(["--media-dir", "/no/such/folder"]));
    assert!(err.contains("/no/such/folder"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let err = run_fails(server(home.path()).args(["--port", "eighty"]));
    assert!(err.contains("--port"), "{err}");

    let cfg = home.path().join("bad.toml");
    std::fs::write(&cfg, "port = \"x\"\n").expect("write");
    let err = run_fails(server(home.path()).arg("--config").arg(&cfg));
    assert!(err.contains("bad.toml"), "{err}");

    let err = run_fails(server(home.path()).args(["--config", "/no/such.toml"]));
    assert!(err.contains("/no/such.toml"), "{err}");
}

/// The config file's `[lan]` table reaches the server: a bad limit stops it with one line
/// naming the field, and a CORS origin set only in the file opens CORS for that origin.
#[test]
fn lan_table_of_the_config_file_applies() {
    let home = tempfile::tempdir().expect("tempdir");
    let cfg = home.path().join("lan.toml");
    std::fs::write(&cfg, "[lan.limits]\nmax_connections = 0\n").expect("write");
    let err = run_fails(server(home.path()).arg("--config").arg(&cfg));
    assert!(err.contains("max_connections"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let err = run_fails(server(home.path()).args(["--trusted-network", "10.0.0.0/99"]));
    assert!(err.contains("--trusted-network"), "{err}");

    std::fs::write(
        &cfg,
        "[lan]\ncors_origins = [\"http://tv.example:8000\"]\nmdns = false\n",
    )
    .expect("write");
    let running = spawn(
        server(home.path())
            .args(["--bind", "127.0.0.1", "--port", "0", "--config"])
            .arg(&cfg)
            .arg("--media-dir")
            .arg(repo().join("samples")),
    );
    let allow = |origin: &str| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let resp = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client")
                .get(format!("{}/api/health", running.base))
                .header("origin", origin)
                .send()
                .await
                .expect("get");
            resp.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap_or("").to_owned())
        })
    };
    assert_eq!(
        allow("http://tv.example:8000").as_deref(),
        Some("http://tv.example:8000")
    );
    assert_eq!(allow("http://evil.example"), None);
}

#[test]
fn serves_a_folder_on_an_ephemeral_port() {
    let home = tempfile::tempdir().expect("tempdir");
    let running = spawn(
        server(home.path())
            .args(["--bind", "127.0.0.1", "--port", "0", "--media-dir"])
            .arg(repo().join("samples")),
    );
    let items = get_json(&format!("{}/api/videos", running.base));
    let keys: Vec<&str> = items
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|i| i["key"].as_str())
        .collect();
    assert!(keys.contains(&"A440 tone.mp3"), "{keys:?}");
    assert!(keys.contains(&"Clips/Test pattern (VP9).webm"), "{keys:?}");
}

/// Stdout is a pipe here, as it is a journal under systemd: the pairing URLs (which hold the
/// access key) are not printed; one stderr line says how to see them, and `--print-pairing`
/// prints them on demand. Before, they went to stdout whatever it was.
#[test]
fn pairing_urls_stay_off_a_piped_stdout() {
    use std::io::Read;

    let home = tempfile::tempdir().expect("tempdir");
    let key_file = home.path().join("lan-key");
    let mut cmd = server(home.path());
    cmd.args([
        "--bind",
        "0.0.0.0",
        "--port",
        "0",
        "--no-mdns",
        "--media-dir",
    ])
    .arg(repo().join("samples"))
    .arg("--access-key-file")
    .arg(&key_file)
    .stdout(Stdio::piped());
    let mut running = spawn(&mut cmd);
    // Serving: whatever start-up printed is printed by now.
    let port = running.base.rsplit(':').next().expect("port").to_owned();
    let health = get_json(&format!("http://127.0.0.1:{port}/api/health"));
    assert_eq!(health["source"], "local");
    let mut stdout = running.child.stdout.take().expect("stdout");
    let _ = running.child.kill();
    let _ = running.child.wait();
    let mut out = String::new();
    stdout.read_to_string(&mut out).expect("read stdout");
    let key = std::fs::read_to_string(&key_file).expect("key file");
    let key = key.trim();
    assert!(!key.is_empty());
    assert!(!out.contains(key), "the key reached stdout: {out}");
    assert!(!out.contains("?key="), "{out}");
    let lines = format!("{:?}", running.lines);
    assert!(!lines.contains(key), "the key reached stderr");
    assert!(
        lines.contains("--print-pairing") && lines.contains(&key_file.display().to_string()),
        "a hint on how to see the URLs: {lines}"
    );

    // On demand, even into a pipe: the same key, one URL per LAN address of this machine.
    let out = server(home.path())
        .args(["--print-pairing", "--bind", "192.0.2.7", "--port", "8080"])
        .arg("--access-key-file")
        .arg(&key_file)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(printed.trim(), format!("http://192.0.2.7:8080/?key={key}"));

    let help = server(home.path()).arg("--help").output().expect("help");
    assert!(String::from_utf8_lossy(&help.stdout).contains("--print-pairing"));
}

/// `--help` lists every setting's flag with its default (the flags come from the core's
/// table of settings), the library's included.
#[test]
fn help_lists_each_flag_with_its_default() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = server(home.path()).arg("--help").output().expect("help");
    let help = String::from_utf8_lossy(&out.stdout);
    // A flag's entry: its line and, when clap puts the help under the flags (it does once a
    // help text is long), the lines up to the next flag.
    let line = |flag: &str| {
        let lines: Vec<&str> = help.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with(&format!("{flag} ")) || l.trim() == flag)
            .unwrap_or_else(|| panic!("{flag} missing from --help:\n{help}"));
        let rest = lines[at + 1..]
            .iter()
            .take_while(|l| !l.trim_start().starts_with('-') && !l.trim().is_empty());
        std::iter::once(&lines[at])
            .chain(rest)
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let with_default = [
        ("--port", "[default: 8080]"),
        ("--bind", "[default: 0.0.0.0]"),
        ("--refresh-secs", "[default: 60]"),
        (
            "--cache-dir",
            "[default: the OS cache folder's bucketstream/chunks]",
        ),
        ("--cache-max-bytes", "[default: 10 GiB]"),
        ("--trusted-network", "[default: loopback]"),
        ("--cors-origin", "[default: none]"),
        ("--data-dir", "[default: the OS data folder's bucketstream]"),
        ("--no-scan", "[default: scan on]"),
        ("--scan-concurrency", "[default: 16]"),
        ("--probe-timeout-secs", "[default: 20]"),
    ];
    for (flag, default) in with_default {
        assert!(line(flag).contains(default), "{flag}: {}", line(flag));
    }
    for flag in [
        "--media-dir",
        "--bucket",
        "--endpoint",
        "--region",
        "--prefix",
        "--no-cache",
        "--direct",
        "--create-bucket",
        "--open-to-lan",
        "--allow-host",
        "--no-mdns",
    ] {
        line(flag);
    }
}

/// A library setting out of range stops the start with one line naming it and its layer.
#[test]
fn library_settings_out_of_range_are_one_clear_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut cmd = server(home.path());
    cmd.args(["--bind", "127.0.0.1", "--port", "0", "--media-dir"])
        .arg(repo().join("samples"));
    let err = run_fails(cmd.env("BUCKETSTREAM_SCAN_CONCURRENCY", "65"));
    assert!(
        err.contains("the environment sets scan_concurrency to 65; it must be 1 to 64"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let err = run_fails(
        server(home.path())
            .args(["--probe-timeout-secs", "0", "--media-dir"])
            .arg(repo().join("samples")),
    );
    assert!(err.contains("probe_timeout_secs to 0"), "{err}");
    let cfg = home.path().join("c.toml");
    std::fs::write(&cfg, "scan = \"off\"\n").expect("write");
    let err = run_fails(server(home.path()).arg("--config").arg(&cfg));
    assert!(err.contains("c.toml") && err.contains("scan"), "{err}");
}
