//! A streaming HTTP proxy in front of the store that counts the body bytes of every answer,
//! for the scan benchmark (issue #13): how many bytes each reader pulled from the store.
//!
//! Garage's `block_bytes_read` counts whole 1 MiB blocks, so it cannot show a 64 KiB ranged
//! read. This proxy forwards each request unchanged (the `Host` header included, so SigV4
//! signatures stay valid) and streams the answer back, counting the bytes it received from the
//! store and passed on. Streaming matters: a reader that closes the connection early (ffprobe
//! through `rclone serve http`) stops the transfer, and only what actually crossed is counted.
//!
//! `GET /__byteproxy?prefix=P` (a path no bucket can have: bucket names have no `_`) answers
//! the counts as JSON: GetObject answers (a GET of `/bucket/key`) for keys starting with `P`,
//! and everything else (listings, HEADs) apart.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;
use futures_util::{StreamExt, TryStreamExt};

/// The control path answering the counts.
const STATS_PATH: &str = "/__byteproxy";

/// The largest request body forwarded (requests through the proxy are reads).
const MAX_REQUEST_BODY: usize = 16 << 20;

/// Counts per object path, and for everything else.
#[derive(Debug, Default)]
struct Counts {
    /// Encoded object path (`/bucket/key`, no query) → (GET requests, body bytes).
    objects: HashMap<String, (u64, u64)>,
    /// Requests that are not a GetObject.
    other_requests: u64,
    /// Their body bytes.
    other_bytes: u64,
}

#[derive(Clone)]
struct Inner {
    upstream: SocketAddr,
    client: reqwest::Client,
    counts: Arc<Mutex<Counts>>,
}

impl Inner {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Serves the proxy on `listen`, forwarding to `upstream`, until the process is killed.
pub async fn run(listen: SocketAddr, upstream: SocketAddr) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot bind {listen}: {e}"))?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let inner = Inner {
        upstream,
        client,
        counts: Arc::default(),
    };
    let app = axum::Router::new().fallback(forward).with_state(inner);
    eprintln!("byteproxy: {listen} -> {upstream}");
    axum::serve(listener, app)
        .await
        .map_err(|e| format!("the proxy stopped: {e}"))
}

/// The object path of a GetObject request (`/bucket/key` without query), or `None` for
/// listings and other requests.
fn object_path(method: &str, path_and_query: &str) -> Option<String> {
    if method != "GET" {
        return None;
    }
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, q),
        None => (path_and_query, ""),
    };
    let rest = path.strip_prefix('/')?;
    let (bucket, key) = rest.split_once('/')?;
    if bucket.is_empty() || key.is_empty() {
        return None;
    }
    // GetObject may carry a query (partNumber, response-*), but not a listing's or an ACL's.
    let sub = [
        "uploads",
        "acl",
        "tagging",
        "list-type",
        "location",
        "versioning",
    ];
    if query
        .split('&')
        .any(|kv| sub.contains(&kv.split('=').next().unwrap_or("")))
    {
        return None;
    }
    Some(path.to_owned())
}

/// The counts as JSON: object GETs for keys under `prefix` (encoded, after `/bucket/`).
fn stats(inner: &Inner, prefix: &str) -> serde_json::Value {
    let counts = inner.counts();
    let (mut requests, mut bytes, mut objects) = (0u64, 0u64, 0u64);
    for (path, (n, b)) in &counts.objects {
        let key = path
            .trim_start_matches('/')
            .split_once('/')
            .map_or("", |(_, k)| k);
        if key.starts_with(prefix) {
            requests += n;
            bytes += b;
            objects += 1;
        }
    }
    serde_json::json!({
        "prefix": prefix,
        "objects": objects,
        "object_requests": requests,
        "object_bytes": bytes,
        "other_requests": counts.other_requests,
        "other_bytes": counts.other_bytes,
    })
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    resp
}

async fn forward(State(inner): State<Inner>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    if req.uri().path() == STATS_PATH {
        let prefix = req
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("prefix=")))
            .unwrap_or("");
        return plain(StatusCode::OK, stats(&inner, prefix).to_string());
    }
    let object = object_path(method.as_str(), &path);
    if let Some(object) = &object {
        inner.counts().objects.entry(object.clone()).or_default().0 += 1;
    } else {
        inner.counts().other_requests += 1;
    }
    let url = format!("http://{}{}", inner.upstream, path);
    let mut out = inner.client.request(method, &url);
    for (name, value) in req.headers() {
        out = out.header(name, value);
    }
    // Readers send no bodies worth streaming (uploads go to the store directly): buffered, so
    // a bodiless GET stays bodiless (no chunked encoding the signature did not cover).
    let body = match axum::body::to_bytes(req.into_body(), MAX_REQUEST_BODY).await {
        Ok(body) => body,
        Err(err) => return plain(StatusCode::PAYLOAD_TOO_LARGE, err.to_string()),
    };
    let answer = match out.body(body).send().await {
        Ok(answer) => answer,
        Err(err) => return plain(StatusCode::BAD_GATEWAY, err.to_string()),
    };
    let mut resp = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != HeaderName::from_static("transfer-encoding")
            && name != HeaderName::from_static("connection")
        {
            resp = resp.header(name, value);
        }
    }
    let counted = inner.clone();
    let stream = answer
        .bytes_stream()
        .map(move |chunk| {
            if let Ok(bytes) = &chunk {
                let n = bytes.len() as u64;
                let mut counts = counted.counts();
                match &object {
                    Some(object) => counts.objects.entry(object.clone()).or_default().1 += n,
                    None => counts.other_bytes += n,
                }
            }
            chunk
        })
        .map_err(std::io::Error::other);
    resp.body(Body::from_stream(stream))
        .unwrap_or_else(|e| plain(StatusCode::BAD_GATEWAY, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_object_gets_from_listings() {
        assert_eq!(
            object_path("GET", "/b/a/01.mp3").as_deref(),
            Some("/b/a/01.mp3")
        );
        assert_eq!(
            object_path("GET", "/b/a/01.mp3?x-id=GetObject").as_deref(),
            Some("/b/a/01.mp3")
        );
        assert_eq!(object_path("GET", "/b/?list-type=2&prefix="), None);
        assert_eq!(object_path("GET", "/b?list-type=2"), None);
        assert_eq!(object_path("GET", "/b/"), None);
        assert_eq!(object_path("HEAD", "/b/a/01.mp3"), None);
        assert_eq!(object_path("GET", "/b/k?acl"), None);
    }
}
