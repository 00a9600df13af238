//! An HTTP proxy in front of the store that counts the body bytes of every answer, per
//! request, so a test can show how many bytes each object cost on the wire.
//!
//! Garage's own `block_bytes_read` counts whole 1 MiB blocks and cannot show a 64 KiB read;
//! this proxy sees exactly what the server received. Requests are forwarded unchanged (the
//! `Host` header included, so SigV4 signatures stay valid).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;

/// One request seen: method, path with query, answer body bytes.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub bytes: u64,
}

#[derive(Clone)]
struct Inner {
    upstream: SocketAddr,
    client: reqwest::Client,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// The proxy and what it saw.
pub struct ByteProxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl ByteProxy {
    /// Forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> ByteProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let inner = Inner {
            upstream,
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            seen: seen.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(inner);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ByteProxy { addr, seen }
    }

    /// The endpoint URL to give the server instead of the store's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// Forgets what was seen.
    pub fn reset(&self) {
        self.seen.lock().expect("lock").clear();
    }

    /// Body bytes of GetObject answers for `key` (path-style: `/bucket/key`, URL-encoded).
    pub fn object_bytes(&self, bucket: &str, key: &str) -> u64 {
        let path = format!("/{bucket}/{}", encode_key(key));
        self.seen()
            .iter()
            .filter(|s| s.method == "GET" && s.path.split('?').next() == Some(path.as_str()))
            .map(|s| s.bytes)
            .sum()
    }

    /// Body bytes of GetObject answers for `key` smaller than `limit` each (the scan's
    /// small ranged reads, as opposed to the edge cache's whole chunks).
    pub fn object_bytes_below(&self, bucket: &str, key: &str, limit: u64) -> u64 {
        let path = format!("/{bucket}/{}", encode_key(key));
        self.seen()
            .iter()
            .filter(|s| s.method == "GET" && s.path.split('?').next() == Some(path.as_str()))
            .filter(|s| s.bytes < limit)
            .map(|s| s.bytes)
            .sum()
    }

    /// Body bytes of every GetObject answer (requests for a key, not listings).
    pub fn all_object_bytes(&self, bucket: &str) -> u64 {
        let prefix = format!("/{bucket}/");
        self.seen()
            .iter()
            .filter(|s| {
                s.method == "GET" && s.path.starts_with(&prefix) && s.path.len() > prefix.len()
            })
            .filter(|s| !s.path[prefix.len()..].starts_with('?'))
            .map(|s| s.bytes)
            .sum()
    }
}

/// `key` as the AWS SDK writes it in a path (unreserved characters and `/` kept).
pub fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn forward(State(inner): State<Inner>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let url = format!("http://{}{}", inner.upstream, path);
    let mut out = inner.client.request(method.clone(), &url);
    for (name, value) in req.headers() {
        out = out.header(name, value);
    }
    let body = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let answer = match out.body(body).send().await {
        Ok(answer) => answer,
        Err(_) => {
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::empty())
                .expect("response");
        }
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    inner.seen.lock().expect("lock").push(Seen {
        method: method.to_string(),
        path,
        bytes: bytes.len() as u64,
    });
    let mut resp = Response::builder().status(status);
    for (name, value) in headers.iter() {
        if name != HeaderName::from_static("transfer-encoding") {
            resp = resp.header(name, value);
        }
    }
    resp.body(Body::from(bytes)).expect("response")
}
