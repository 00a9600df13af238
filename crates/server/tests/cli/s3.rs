//! The binary against a real S3 store (the Garage the test command starts, or a shared dev one
//! under `target/garage-test`): a seed `.env` selecting the bucket with its secrets kept out of
//! every output, a missing bucket and wrong credentials as one clear warning, and
//! `--create-bucket`. The child-process helpers are the parent module's.

use std::path::PathBuf;
use std::process::Command;

use crate::{get_json, repo, run_fails, server, spawn};

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
