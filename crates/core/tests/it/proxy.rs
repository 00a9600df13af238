//! A TCP proxy between the server and Garage that can pass, stall, or cut traffic on demand.
//!
//! Faults are tested for real: the SDK talks HTTP to this proxy as if it were the store.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
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

/// The proxy; its mode can be changed while it runs.
pub struct Proxy {
    pub addr: SocketAddr,
    mode: Arc<AtomicU8>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let mode = Arc::new(AtomicU8::new(PASS));
        let m = mode.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let m = m.clone();
                tokio::spawn(async move {
                    if m.load(Ordering::Acquire) == CUT {
                        return;
                    }
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pipe(client, server, m).await;
                    }
                });
            }
        });
        Proxy { addr, mode }
    }

    pub fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::Release);
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn pipe(client: TcpStream, server: TcpStream, mode: Arc<AtomicU8>) {
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
            if !wait_pass(&m1).await || sw.write_all(&buf[..n]).await.is_err() {
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
            if !wait_pass(&mode).await || cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// Waits while stalled; false when cut.
async fn wait_pass(mode: &AtomicU8) -> bool {
    loop {
        match mode.load(Ordering::Acquire) {
            PASS => return true,
            CUT => return false,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
