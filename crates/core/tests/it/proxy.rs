//! A TCP proxy between the server and Garage that can pass, stall, cut or slow traffic on demand.
//!
//! Faults are tested for real: the SDK talks HTTP to this proxy as if it were the store. The
//! mode is read again for every piece forwarded, so it applies to pooled connections too.

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
