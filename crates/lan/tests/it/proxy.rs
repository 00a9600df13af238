//! Proxies between the server and Garage that misbehave on demand: [`Proxy`] (TCP) passes,
//! stalls, cuts or slows traffic; [`AnswerProxy`] (HTTP) answers object GETs as a store that
//! ignores `Range` or `If-Match`, or answers another range, would.
//!
//! Faults are tested for real: the SDK talks HTTP to these proxies as if they were the store.
//! The mode is read again for every piece (TCP) or request (HTTP) forwarded, so it applies to
//! pooled connections too.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Forward everything.
pub const PASS: u8 = 0;
/// Accept and hold connections but forward nothing (a hung store).
pub const STALL: u8 = 1;
/// Close every connection at once and refuse new ones (a crashed store).
pub const CUT: u8 = 2;
/// Forward everything, each direction at [`SLOW_RATE`] (a slow but live store).
pub const SLOW: u8 = 3;

/// Bytes per second per direction and connection in [`SLOW`] mode.
pub const SLOW_RATE: u64 = 64 * 1024;
/// Forwarded at once in [`SLOW`] mode, then a pause of `SLOW_PIECE / SLOW_RATE` (62.5 ms).
const SLOW_PIECE: usize = 4 * 1024;

/// The proxy; its mode can be changed while it runs.
pub struct Proxy {
    pub addr: SocketAddr,
    mode: Arc<AtomicU8>,
    /// Bytes forwarded from the store in [`SLOW`] mode.
    slow_bytes: Arc<AtomicU64>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let mode = Arc::new(AtomicU8::new(PASS));
        let slow_bytes = Arc::new(AtomicU64::new(0));
        let (m, slow) = (mode.clone(), slow_bytes.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (m, slow) = (m.clone(), slow.clone());
                tokio::spawn(async move {
                    if m.load(Ordering::Acquire) == CUT {
                        return;
                    }
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pipe(client, server, m, slow).await;
                    }
                });
            }
        });
        Proxy {
            addr,
            mode,
            slow_bytes,
        }
    }

    /// Bytes the store sent through in [`SLOW`] mode so far.
    pub fn slow_bytes(&self) -> u64 {
        self.slow_bytes.load(Ordering::Acquire)
    }

    pub fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::Release);
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn pipe(client: TcpStream, server: TcpStream, mode: Arc<AtomicU8>, slow: Arc<AtomicU64>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let m1 = mode.clone();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if !forward(&mut sw, &buf[..n], &m1, None).await {
                return;
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if !forward(&mut cw, &buf[..n], &mode, Some(&slow)).await {
                return;
            }
        }
    };
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// Writes `data` as the mode says: at once, paced, or not while stalled; false when cut or
/// the peer is gone. Paced bytes are added to `slow` when given.
async fn forward<W: AsyncWriteExt + Unpin>(
    w: &mut W,
    mut data: &[u8],
    mode: &AtomicU8,
    slow: Option<&AtomicU64>,
) -> bool {
    while !data.is_empty() {
        match mode.load(Ordering::Acquire) {
            PASS => return w.write_all(data).await.is_ok(),
            CUT => return false,
            SLOW => {
                let n = data.len().min(SLOW_PIECE);
                if w.write_all(&data[..n]).await.is_err() {
                    return false;
                }
                data = &data[n..];
                if let Some(counter) = slow {
                    counter.fetch_add(n as u64, Ordering::AcqRel);
                }
                let pause = Duration::from_micros(n as u64 * 1_000_000 / SLOW_RATE);
                tokio::time::sleep(pause).await;
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    true
}

/// [`AnswerProxy`]: forward every request unchanged.
pub const HONEST: u8 = 0;
/// [`AnswerProxy`]: object GETs ignore `Range` (200 with the whole object).
pub const IGNORE_RANGE: u8 = 1;
/// [`AnswerProxy`]: object GETs ignore `If-Match` (the current version's bytes and ETag).
pub const IGNORE_IF_MATCH: u8 = 2;
/// [`AnswerProxy`]: object GETs answer the asked range shifted by [`SHIFT`] bytes (a true 206
/// for another range).
pub const OTHER_RANGE: u8 = 3;
/// How far [`OTHER_RANGE`] shifts.
pub const SHIFT: u64 = 1000;

/// An HTTP proxy in front of Garage that answers object GETs the way a faulty store would.
///
/// `Range` and `If-Match` are SigV4-signed headers, so a proxy cannot strip them from the
/// server's requests (Garage would refuse the signature). Instead, in a fault mode this proxy
/// asks Garage itself, with its own credentials, for what a faulty store would send — the whole
/// object, the current version, another range — and relays Garage's real answer (status,
/// `Content-Range`, `ETag`, bytes). Every other request (listings) is forwarded unchanged.
pub struct AnswerProxy {
    pub addr: SocketAddr,
    mode: Arc<AtomicU8>,
}

struct Upstream {
    base: String,
    http: reqwest::Client,
    s3: aws_sdk_s3::Client,
    mode: Arc<AtomicU8>,
}

type Answer = hyper::Response<http_body_util::Full<bytes::Bytes>>;

impl AnswerProxy {
    /// A proxy to Garage at `endpoint`; `s3` is a client of that Garage.
    pub async fn start(endpoint: &str, s3: aws_sdk_s3::Client) -> AnswerProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let mode = Arc::new(AtomicU8::new(HONEST));
        let up = Arc::new(Upstream {
            base: endpoint.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            s3,
            mode: mode.clone(),
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let up = up.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let up = up.clone();
                        async move { Ok::<_, std::convert::Infallible>(up.answer(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        AnswerProxy { addr, mode }
    }

    pub fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::Release);
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Upstream {
    async fn answer(&self, req: hyper::Request<hyper::body::Incoming>) -> Answer {
        let mode = self.mode.load(Ordering::Acquire);
        let query = req.uri().query().unwrap_or("");
        let object_get = req.method() == hyper::Method::GET
            && (query.is_empty() || query.contains("x-id=GetObject"));
        if mode != HONEST && object_get {
            return self.faulty_get(&req, mode).await;
        }
        self.forward(req).await
    }

    /// Forwards `req` unchanged (its signature stays valid: same method, path, headers).
    async fn forward(&self, req: hyper::Request<hyper::body::Incoming>) -> Answer {
        use http_body_util::BodyExt;
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut out = self
            .http
            .request(parts.method.clone(), format!("{}{path}", self.base));
        for (name, value) in &parts.headers {
            if !matches!(
                name.as_str(),
                "connection" | "transfer-encoding" | "keep-alive"
            ) {
                out = out.header(name, value);
            }
        }
        if !body.is_empty() {
            out = out.body(body);
        }
        match out.send().await {
            Ok(resp) => {
                let mut answer = hyper::Response::builder().status(resp.status());
                for (name, value) in resp.headers() {
                    if !matches!(
                        name.as_str(),
                        "connection" | "transfer-encoding" | "keep-alive" | "content-length"
                    ) {
                        answer = answer.header(name, value);
                    }
                }
                let bytes = resp.bytes().await.unwrap_or_default();
                answer
                    .body(http_body_util::Full::new(bytes))
                    .expect("response")
            }
            Err(e) => plain(502, &format!("proxy: {e}")),
        }
    }

    /// What a faulty store answers to an object GET, made of Garage's real answer to another
    /// question.
    async fn faulty_get(&self, req: &hyper::Request<hyper::body::Incoming>, mode: u8) -> Answer {
        let path = req.uri().path().trim_start_matches('/');
        let Some((bucket, key)) = path.split_once('/') else {
            return plain(400, "proxy: no bucket/key");
        };
        let key = percent_decode(key);
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let range = header("range").and_then(|r| {
            let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
            Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?))
        });
        let if_match = header("if-match");
        let mut get = self.s3.get_object().bucket(bucket).key(&key);
        match mode {
            IGNORE_RANGE => get = get.set_if_match(if_match),
            IGNORE_IF_MATCH => {
                if let Some((a, b)) = range {
                    get = get.range(format!("bytes={a}-{b}"));
                }
            }
            _ => {
                if let Some((a, b)) = range {
                    get = get.range(format!("bytes={}-{}", a + SHIFT, b + SHIFT));
                }
                get = get.set_if_match(if_match);
            }
        }
        match get.send().await {
            Ok(out) => {
                let mut answer = hyper::Response::builder()
                    .status(if out.content_range().is_some() {
                        206
                    } else {
                        200
                    })
                    .header("content-type", "application/octet-stream");
                if let Some(cr) = out.content_range() {
                    answer = answer.header("content-range", cr);
                }
                if let Some(etag) = out.e_tag() {
                    answer = answer.header("etag", etag);
                }
                let bytes = out.body.collect().await.expect("body").into_bytes();
                answer
                    .body(http_body_util::Full::new(bytes))
                    .expect("response")
            }
            Err(aws_sdk_s3::error::SdkError::ServiceError(se)) => {
                let status = se.raw().status().as_u16();
                let body = se
                    .raw()
                    .body()
                    .bytes()
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
                hyper::Response::builder()
                    .status(status)
                    .header("content-type", "application/xml")
                    .body(http_body_util::Full::new(body.into()))
                    .expect("response")
            }
            Err(e) => plain(502, &format!("proxy: {e}")),
        }
    }
}

fn plain(status: u16, text: &str) -> Answer {
    hyper::Response::builder()
        .status(status)
        .body(http_body_util::Full::new(bytes::Bytes::from(
            text.to_owned(),
        )))
        .expect("response")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
