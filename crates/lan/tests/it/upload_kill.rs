//! The host killed mid-upload: the server runs as a child process ([`upload_child_server`]),
//! gets SIGKILL while a PATCH streams into it (no chance to save anything or abort), and a
//! new server on the same data folder lets the client resume the same upload from the offset
//! it kept. The object is byte-exact, nothing was visible before it was whole, and no
//! multipart upload is left open in the bucket.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use bucketstream_core::config::SourceConfig;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::common::{bytes, http, Garage};
use crate::tus::{create_with, get, head, keys, metadata, open_multipart, patch, server, MIB};

/// Set in the child process: `endpoint|bucket|data dir|key id|secret`.
const CHILD_ENV: &str = "BUCKETSTREAM_TEST_UPLOAD_CHILD";

/// Not a test by itself: the server of the kill test, when run as its child process. Serves
/// uploads into the bucket until it is killed (or its stdin closes).
#[test]
fn upload_child_server() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [endpoint, bucket, data, key, secret] = parts[..] else {
        panic!("bad {CHILD_ENV}: {spec}");
    };
    let source = bucketstream_core::config::S3Config {
        bucket: bucket.to_owned(),
        region: Some("garage".to_owned()),
        endpoint: Some(endpoint.to_owned()),
        failover_endpoints: Vec::new(),
        prefix: String::new(),
        path_style: true,
        credentials: Some(bucketstream_core::secret::Credentials {
            access_key_id: key.to_owned(),
            secret_access_key: bucketstream_core::secret::Sensitive::new(secret.to_owned()),
            session_token: None,
        }),
        create_bucket: false,
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let day = Duration::from_secs(86_400);
        let server = server(SourceConfig::S3(source), &PathBuf::from(data), 1 << 30, day).await;
        println!("ADDR {}", server.url(""));
        let mut stdin = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(_)) = stdin.next_line().await {}
    });
}

/// A child server; its base URL.
async fn child(spec: &str) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--exact",
            "upload_kill::upload_child_server",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, spec)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("child server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("child stdout") {
            if let Some((_, url)) = line.split_once("ADDR ") {
                return url.trim().to_owned();
            }
        }
        panic!("the child server never said its address");
    })
    .await
    .expect("the child starts");
    (child, base)
}

#[tokio::test]
async fn a_host_killed_mid_upload_resumes_byte_exact_after_a_restart() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "killed").await;
    let data = tempfile::tempdir().expect("data");
    let s3 = garage.source(&bucket);
    let creds = s3.credentials.clone().expect("credentials");
    let spec = format!(
        "{}|{bucket}|{}|{}|{}",
        s3.endpoint.clone().expect("endpoint"),
        data.path().display(),
        creds.access_key_id,
        creds.secret_access_key.expose()
    );
    let body = bytes(13 * MIB + 5, 77);

    let (mut first, base) = child(&spec).await;
    let resp = create_with(
        &http(),
        &base,
        body.len() as u64,
        &metadata(&[("filename", "killed.flac"), ("folder", "Live")]),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 201);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let path = location.trim_start_matches(&base).to_owned();

    // A PATCH of the whole body, of which 8 MiB are sent (a part's worth and more), then the
    // host is killed while the request is still open.
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut raw = TcpStream::connect(addr).await.expect("connect");
    let head_lines = format!(
        "PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    raw.write_all(head_lines.as_bytes()).await.expect("head");
    raw.write_all(&body[..8 * MIB]).await.expect("body");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    first.start_kill().expect("kill");
    let status = first.wait().await.expect("status");
    assert!(!status.success(), "killed, not exited: {status:?}");
    drop(raw);
    assert!(
        keys(&client, &bucket).await.is_empty(),
        "nothing visible before the end"
    );

    // A new host on the same data folder: the same upload, at the offset it kept.
    let (second, base) = child(&spec).await;
    let url = format!("{base}{path}");
    let (status, offset) = head(&url).await;
    assert_eq!(status, 200, "the upload survived the kill");
    let offset = offset.expect("Upload-Offset") as usize;
    assert!(offset <= 8 * MIB, "never more than arrived: {offset}");
    println!("resuming at {offset} bytes after the kill");
    let (status, end, _) = patch(&url, offset as u64, body[offset..].to_vec(), None).await;
    assert_eq!((status, end), (204, Some(body.len() as u64)));
    assert!(
        get(&client, &bucket, "Live/killed.flac").await == body,
        "bytes differ"
    );
    assert_eq!(keys(&client, &bucket).await, ["Live/killed.flac"]);
    assert_eq!(
        open_multipart(&client, &bucket).await,
        0,
        "no upload left open"
    );
    drop(second);
}
