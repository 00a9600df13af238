//! The headless binary as a user runs it: flags, `.env`, config file, and one-line errors.
//!
//! Each test runs `bucketstream-server` as a child process with a throwaway HOME (so no user
//! config is read) and no AWS variables from the test environment.

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

/// Garage env (KEY=VALUE) from the instance the test command started, or a shared dev one.
fn garage_env() -> Vec<(String, String)> {
    let dir = std::env::var_os("BUCKETSTREAM_TEST_GARAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/garage-test"));
    let ok = Command::new("bash")
        .arg(repo().join("scripts/garage.sh"))
        .arg("start")
        .arg(&dir)
        .status()
        .expect("garage.sh")
        .success();
    assert!(ok, "garage.sh start");
    std::fs::read_to_string(dir.join("env"))
        .expect("env")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn var<'a>(env: &'a [(String, String)], name: &str) -> &'a str {
    env.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .expect(name)
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

#[test]
fn seed_dotenv_selects_the_bucket_and_secrets_stay_out_of_output() {
    let env = garage_env();
    let home = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let bucket = format!("cli-{}", std::process::id());
    rt.block_on(async {
        let conf = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("garage"))
            .endpoint_url(var(&env, "BUCKETSTREAM_TEST_S3_ENDPOINT"))
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                var(&env, "AWS_ACCESS_KEY_ID"),
                var(&env, "AWS_SECRET_ACCESS_KEY"),
                None,
                None,
                "test",
            ))
            .build();
        let client = aws_sdk_s3::Client::from_conf(conf);
        let _ = client.create_bucket().bucket(&bucket).send().await;
        client
            .put_object()
            .bucket(&bucket)
            .key("from env.mp3")
            .body(b"abc".to_vec().into())
            .send()
            .await
            .expect("put");
    });
    let secret = var(&env, "AWS_SECRET_ACCESS_KEY");
    let dotenv = format!(
        "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={secret}\nAWS_REGION=garage\nBUCKET_NAME={bucket}\nAWS_ENDPOINT_URL={}\n",
        var(&env, "AWS_ACCESS_KEY_ID"),
        var(&env, "BUCKETSTREAM_TEST_S3_ENDPOINT"),
    );
    std::fs::write(home.path().join(".env"), dotenv).expect("write .env");
    let mut cmd = server(home.path());
    cmd.env("BUCKETSTREAM_LOG", "debug");
    let running = spawn(cmd.args(["--bind", "127.0.0.1", "--port", "0"]));
    let items = get_json(&format!("{}/api/videos", running.base));
    assert_eq!(items[0]["key"], "from env.mp3");
    let health = get_json(&format!("{}/api/health", running.base));
    assert_eq!(health["source"], "s3");
    let all = format!("{:?}{items}{health}", running.lines);
    assert!(!all.contains(secret), "the secret leaked into output");

    // The command line beats .env: a missing bucket is one clear warning and the server stays up.
    let mut running = spawn(server(home.path()).args([
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--bucket",
        "no-such-bucket-cli",
    ]));
    let warning = running.line_with("warning").expect("a warning line");
    assert!(warning.contains("no such bucket"), "{warning}");
    let health = get_json(&format!("{}/api/health", running.base));
    assert_eq!(health["last_error"]["code"], "no_such_bucket");

    // Wrong credentials from the environment: named as such.
    let mut cmd = server(home.path());
    cmd.env("AWS_SECRET_ACCESS_KEY", "f".repeat(64));
    // (The bucket's listing is kept from the first run: the server starts at once and
    // warns when its background listing is refused.)
    let mut running = spawn(cmd.args(["--bind", "127.0.0.1", "--port", "0"]));
    let warning = running.line_with("warning").expect("a warning line");
    assert!(warning.contains("rejected the credentials"), "{warning}");
    assert!(!format!("{:?}", running.lines).contains(&"f".repeat(64)));
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

/// `--create-bucket`: a missing bucket is created before the first listing and served; an
/// invalid name stops the server with one line, before any request.
#[test]
fn create_bucket_flag_creates_a_missing_bucket_and_serves_it() {
    let env = garage_env();
    let home = tempfile::tempdir().expect("tempdir");
    let bucket = format!("cli-made-{}", std::process::id());
    let with_garage = |cmd: &mut Command| {
        cmd.env("AWS_ACCESS_KEY_ID", var(&env, "AWS_ACCESS_KEY_ID"))
            .env("AWS_SECRET_ACCESS_KEY", var(&env, "AWS_SECRET_ACCESS_KEY"))
            .env("AWS_REGION", "garage")
            .env(
                "AWS_ENDPOINT_URL",
                var(&env, "BUCKETSTREAM_TEST_S3_ENDPOINT"),
            )
            .args(["--bind", "127.0.0.1", "--port", "0"]);
    };
    let mut cmd = server(home.path());
    with_garage(&mut cmd);
    let mut running = spawn(cmd.args(["--bucket", &bucket, "--create-bucket", "--no-scan"]));
    let line = running
        .line_with("created the bucket")
        .expect("a created line");
    assert!(line.contains(&bucket), "{line}");
    let health = get_json(&format!("{}/api/health", running.base));
    assert_eq!(health["source"], "s3");
    assert_eq!(health["ok"], true, "{health}");
    assert_eq!(health["last_error"], serde_json::Value::Null);
    drop(running);

    // Served again without the flag: it exists now.
    let mut cmd = server(home.path());
    with_garage(&mut cmd);
    let running = spawn(cmd.args(["--bucket", &bucket, "--no-scan"]));
    let health = get_json(&format!("{}/api/health", running.base));
    assert_eq!(health["ok"], true, "{health}");
    drop(running);

    // An invalid name: one line, and the server does not start.
    let mut cmd = server(home.path());
    with_garage(&mut cmd);
    cmd.env("BUCKETSTREAM_CREATE_BUCKET", "true");
    let err = run_fails(cmd.args(["--bucket", "Bad_Bucket", "--no-scan"]));
    assert!(err.contains("bucket name"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
