//! A TCP proxy in front of the store that counts one kind of S3 request going through it.
//!
//! Garage's metrics count requests from every test sharing the instance; a proxy in front of
//! one server's store counts that server's requests only. Requests pass unchanged (SigV4
//! signatures stay valid), and the needle is matched in the request bytes, also when a read
//! splits it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// ListObjectsV2 (`list-type=2` in the request line).
pub const LIST_OBJECTS: &[u8] = b"list-type=2";
/// GetObject (the AWS SDK for Rust adds `x-id=GetObject` to its query).
pub const GET_OBJECT: &[u8] = b"x-id=GetObject";

/// The proxy and its count.
pub struct CountingProxy {
    pub addr: SocketAddr,
    count: Arc<AtomicU64>,
}

impl CountingProxy {
    /// Forwards to `upstream`, counting occurrences of `needle` in what clients send.
    pub async fn start(upstream: SocketAddr, needle: &'static [u8]) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let count = Arc::new(AtomicU64::new(0));
        let counter = count.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    if let Ok(store) = TcpStream::connect(upstream).await {
                        pipe(client, store, needle, counter).await;
                    }
                });
            }
        });
        CountingProxy { addr, count }
    }

    /// The endpoint URL to give the server instead of the store's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests counted so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }
}

async fn pipe(client: TcpStream, store: TcpStream, needle: &'static [u8], count: Arc<AtomicU64>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = store.into_split();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        // The end of the previous read, so a needle split across reads is still seen once.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            tail.extend_from_slice(&buf[..n]);
            let found = tail.windows(needle.len()).filter(|w| *w == needle).count();
            count.fetch_add(found as u64, Ordering::AcqRel);
            let keep = tail.len().min(needle.len() - 1);
            tail.drain(..tail.len() - keep);
            if sw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let down = async move {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
    };
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}
