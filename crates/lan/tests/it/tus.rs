//! A small tus 1.0.0 client for the upload tests (create, PATCH, HEAD, DELETE), and a server
//! over S3 or a folder with its own data folder and upload settings (so it can be stopped and
//! started again over the same upload state).

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bucketstream_core::config::{CacheConfig, Config, LibraryConfig, SourceConfig};
use reqwest::{Client, Response};
use serde_json::Value;

use crate::common::{http, TestServer};

pub const MIB: usize = 1 << 20;

/// A server over `source` whose data folder (and so upload state) is `data`, with uploads
/// capped at `max` bytes and expiring after `expiry`.
pub async fn server(source: SourceConfig, data: &Path, max: u64, expiry: Duration) -> TestServer {
    let mut library = LibraryConfig::new(data.to_owned());
    library.scan = false;
    library.upload_max_bytes = max;
    library.upload_expiry = expiry;
    TestServer::start_config(Config {
        bind: [127, 0, 0, 1].into(),
        port: 0,
        refresh: None,
        source,
        cache: CacheConfig {
            enabled: false,
            dir: None,
            max_bytes: 0,
            direct: false,
        },
        library,
    })
    .await
}

/// `Upload-Metadata` for `pairs`.
pub fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// `POST /api/uploads` from `client`.
pub async fn create_with(client: &Client, base: &str, length: u64, meta: &str) -> Response {
    client
        .post(format!("{base}/api/uploads"))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", length.to_string())
        .header("upload-metadata", meta)
        .send()
        .await
        .expect("create")
}

/// Creates an upload; its absolute URL.
pub async fn create(server: &TestServer, length: u64, pairs: &[(&str, &str)]) -> String {
    let resp = create_with(&http(), &server.url(""), length, &metadata(pairs)).await;
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(status, 201, "{:?}", resp.text().await);
    let location = location.expect("Location");
    assert!(location.starts_with("/api/uploads/"), "{location}");
    server.url(&location)
}

/// `PATCH url` with `body` at `offset` (and `Upload-Checksum` when given): the status and
/// the new offset or the error code.
pub async fn patch(
    url: &str,
    offset: u64,
    body: Vec<u8>,
    checksum: Option<&str>,
) -> (u16, Option<u64>, Option<String>) {
    let mut req = http()
        .patch(url)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(body);
    if let Some(c) = checksum {
        req = req.header("upload-checksum", c);
    }
    let resp = req.send().await.expect("patch");
    answer(resp).await
}

/// The status, `Upload-Offset` and error code of a tus answer.
pub async fn answer(resp: Response) -> (u16, Option<u64>, Option<String>) {
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers().get("tus-resumable").map(|v| v.as_bytes()),
        Some(&b"1.0.0"[..]),
        "every tus answer says its version"
    );
    let offset = resp
        .headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = resp.bytes().await.unwrap_or_default();
    let code = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
    (status, offset, code)
}

/// `HEAD url`: the status and `Upload-Offset`.
pub async fn head(url: &str) -> (u16, Option<u64>) {
    let resp = http()
        .head(url)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .expect("head");
    let (status, offset, _) = answer(resp).await;
    (status, offset)
}

/// `DELETE url`: the status.
pub async fn delete(url: &str) -> u16 {
    let resp = http()
        .delete(url)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .expect("delete");
    answer(resp).await.0
}

/// The multipart uploads open in `bucket`.
pub async fn open_multipart(client: &aws_sdk_s3::Client, bucket: &str) -> usize {
    client
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("list multipart uploads")
        .uploads()
        .len()
}

/// The keys in `bucket`.
pub async fn keys(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    client
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// The bytes of `key`.
pub async fn get(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}

/// `sha1 BASE64` of `data`.
pub fn sha1_header(data: &[u8]) -> String {
    use sha1::Digest;
    format!("sha1 {}", STANDARD.encode(sha1::Sha1::digest(data)))
}
