//! A client's stream of an output: reads the file up to what the run has written, waits for
//! more, and ends when the run is complete; cut with an error when the run fails or stops, or
//! when the client's session asks for another stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use super::job::{End, Progress};
use super::ReaderGuard;

/// Bytes read from the file at a time.
const PIECE: usize = 64 * 1024;

/// The bytes of one output for one client (a `Stream` of `io::Result<Bytes>`).
pub struct Tail {
    inner: BoxStream<'static, io::Result<Bytes>>,
}

impl std::fmt::Debug for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tail")
    }
}

struct State {
    file: tokio::fs::File,
    pos: u64,
    progress: watch::Receiver<Progress>,
    abort: Option<watch::Receiver<bool>>,
    /// Keeps the run's reader count while the stream lives.
    _guard: Option<ReaderGuard>,
    over: bool,
}

impl Tail {
    /// A finished entry of `size` bytes.
    pub(crate) fn finished(
        file: std::fs::File,
        size: u64,
        abort: Option<watch::Receiver<bool>>,
    ) -> Tail {
        let progress = Progress {
            written: size,
            ready: Some(0),
            end: Some(End::Complete),
        };
        let (_tx, rx) = watch::channel(progress);
        Tail::new(file, rx, abort, None)
    }

    /// A file a run is writing.
    pub(crate) fn growing(
        file: std::fs::File,
        progress: watch::Receiver<Progress>,
        abort: Option<watch::Receiver<bool>>,
        guard: ReaderGuard,
    ) -> Tail {
        Tail::new(file, progress, abort, Some(guard))
    }

    fn new(
        file: std::fs::File,
        progress: watch::Receiver<Progress>,
        abort: Option<watch::Receiver<bool>>,
        guard: Option<ReaderGuard>,
    ) -> Tail {
        let state = State {
            file: tokio::fs::File::from_std(file),
            pos: 0,
            progress,
            abort,
            _guard: guard,
            over: false,
        };
        Tail {
            inner: futures_util::stream::unfold(state, next).boxed(),
        }
    }
}

fn cut(why: &str) -> io::Error {
    io::Error::other(why.to_owned())
}

async fn next(mut st: State) -> Option<(io::Result<Bytes>, State)> {
    loop {
        if st.over {
            return None;
        }
        if st.abort.as_ref().is_some_and(|a| *a.borrow()) {
            st.over = true;
            return Some((Err(cut("the session asked for another stream")), st));
        }
        let p = st.progress.borrow_and_update().clone();
        if st.pos < p.written {
            let want = (p.written - st.pos).min(PIECE as u64) as usize;
            let mut buf = vec![0u8; want];
            return match st.file.read(&mut buf).await {
                Ok(0) => {
                    st.over = true;
                    Some((Err(cut("the output file is shorter than written")), st))
                }
                Ok(n) => {
                    buf.truncate(n);
                    st.pos += n as u64;
                    Some((Ok(Bytes::from(buf)), st))
                }
                Err(e) => {
                    st.over = true;
                    Some((Err(e), st))
                }
            };
        }
        match p.end {
            Some(End::Complete) => return None,
            Some(End::Failed(why)) => {
                st.over = true;
                return Some((Err(cut(&format!("transcode failed: {why}"))), st));
            }
            Some(End::Cancelled) => {
                st.over = true;
                return Some((Err(cut("transcode stopped")), st));
            }
            None => {}
        }
        let aborted = async {
            match st.abort.as_mut() {
                Some(a) => {
                    let _ = a.changed().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            changed = st.progress.changed() => {
                if changed.is_err() {
                    // The run's task is gone without an end: nothing more will come.
                    st.over = true;
                    return Some((Err(cut("transcode stopped")), st));
                }
            }
            () = aborted => {}
        }
    }
}

impl Stream for Tail {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}
