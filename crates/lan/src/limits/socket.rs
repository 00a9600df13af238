//! Socket options set on every accepted connection: no Nagle delay, and on Linux a low-water
//! mark for unsent bytes (`TCP_NOTSENT_LOWAT`).
//!
//! Without the mark, the kernel takes up to its whole send buffer (4 MiB on a default Linux)
//! of a media answer before the client has read any of it. A client that reads a few
//! kilobytes of `bytes=N-` and hangs up (a player seeking, ffmpeg reading an index or one
//! frame for a poster) then costs megabytes from the store: the edge cache fetched them to
//! fill a buffer nobody read. With the mark, the server writes more only once less than
//! [`UNSENT_LOW_WATER`] is waiting; bytes in flight are still bounded by the client's window,
//! so a player streaming on a LAN keeps its speed.

use tokio::net::TcpStream;

/// Unsent bytes the kernel may hold before the server stops writing a connection.
pub const UNSENT_LOW_WATER: u32 = 128 * 1024;

/// Sets the connection's options; failures are ignored (the connection works without them).
pub fn tune(stream: &TcpStream) {
    let _ = stream.set_nodelay(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let value = libc::c_int::try_from(UNSENT_LOW_WATER).unwrap_or(libc::c_int::MAX);
        // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from a live c_int, on a socket
        // this stream owns for the duration of the call.
        let _ = unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_NOTSENT_LOWAT,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[tokio::test]
    async fn accepted_connections_get_the_low_water_mark() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let _client = TcpStream::connect(addr).await.expect("connect");
        let (stream, _) = listener.accept().await.expect("accept");
        tune(&stream);
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `value`.
        let rc = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_NOTSENT_LOWAT,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        assert_eq!(value as u32, UNSENT_LOW_WATER);
        assert!(stream.nodelay().expect("nodelay"));
    }
}
