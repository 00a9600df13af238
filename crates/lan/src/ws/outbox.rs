//! What the server owes one WebSocket client: a queue bounded in bytes, and the writer that
//! drains it with a timeout on every frame.
//!
//! The session reads and answers while the writer writes, so a client that asks faster than
//! it reads shows up as a growing queue instead of a session stuck in a send: when the bytes
//! waiting behind the message being written would exceed
//! [`super::super::Limits::ws_max_queued_bytes`] the client is dropped, and one that takes
//! no frame for [`super::super::Limits::ws_send_timeout`] is dropped too. One waiting
//! message is always admitted, however large (a 100,000-item list is 36 MB), and control
//! frames (ping, close) never count. The queue holds shared frames (the list is one
//! `Utf8Bytes` for every client), so the bound is about what a client may make the server
//! owe it, not about copies.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::Sink;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::transport::{send, SendError};

/// Capacity kept by an empty queue; a burst's larger allocation is given back.
const KEEP: usize = 8;

#[derive(Default)]
struct Queue {
    msgs: VecDeque<Message>,
    /// Bytes of the data messages in `msgs` (waiting, not being written).
    bytes: usize,
    /// No more messages will come: the writer stops once the queue is empty.
    finished: bool,
}

/// One client's outgoing messages.
pub struct Outbox {
    queue: Mutex<Queue>,
    ready: Notify,
    /// Signalled each time a message has been written (for [`Outbox::room`]).
    written: Notify,
    max_bytes: usize,
}

/// Why the writer stopped.
#[derive(Debug)]
pub enum WriteEnd {
    /// Everything was sent and the outbox was finished.
    Drained,
    /// A send failed or timed out.
    Failed(SendError),
}

impl Outbox {
    /// An empty outbox where at most `max_bytes` may wait (a single message always may).
    pub fn new(max_bytes: usize) -> Outbox {
        Outbox {
            queue: Mutex::new(Queue::default()),
            ready: Notify::new(),
            written: Notify::new(),
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `msg`; `false` (and nothing queued) when it would take the bytes waiting
    /// over the bound.
    pub fn push(&self, msg: Message) -> bool {
        let len = counted(&msg);
        let mut q = self.lock();
        if len > 0 && q.bytes > 0 && q.bytes.saturating_add(len) > self.max_bytes {
            return false;
        }
        q.bytes = q.bytes.saturating_add(len);
        q.msgs.push_back(msg);
        drop(q);
        self.ready.notify_one();
        true
    }

    /// Queues `last` (a close frame) after what waits, whatever the bound, and finishes: the
    /// writer stops after sending it. Answers already queued go first, in order.
    pub fn finish_with(&self, last: Message) {
        let mut q = self.lock();
        q.bytes = q.bytes.saturating_add(counted(&last));
        q.msgs.push_back(last);
        q.finished = true;
        drop(q);
        self.ready.notify_one();
    }

    async fn next(&self) -> Option<Message> {
        loop {
            {
                let mut q = self.lock();
                if let Some(msg) = q.msgs.pop_front() {
                    q.bytes = q.bytes.saturating_sub(counted(&msg));
                    return Some(msg);
                }
                if q.finished {
                    return None;
                }
            }
            self.ready.notified().await;
        }
    }

    fn sent(&self) {
        let mut q = self.lock();
        if q.msgs.is_empty() && q.msgs.capacity() > KEEP {
            q.msgs.shrink_to(KEEP);
        }
        drop(q);
        self.written.notify_one();
    }

    /// Resolves when no data message waits (at most the one being written is owed): the
    /// moment to queue the next page of a list sent in pages, so that a client is never owed
    /// more than two pages.
    pub async fn room(&self) {
        loop {
            if self.lock().bytes == 0 {
                return;
            }
            self.written.notified().await;
        }
    }

    /// Writes queued messages to `sink` until the outbox is finished and empty, or a send
    /// fails or takes longer than `within` for one frame.
    pub async fn write_out<S>(&self, sink: &mut S, within: Duration) -> WriteEnd
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        while let Some(msg) = self.next().await {
            if let Err(err) = send(sink, msg, within).await {
                return WriteEnd::Failed(err);
            }
            self.sent();
        }
        WriteEnd::Drained
    }
}

/// The bytes `msg` counts for in the bound: data messages only.
fn counted(msg: &Message) -> usize {
    match msg {
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) => 0,
        other => other.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Message {
        Message::text("x".repeat(n))
    }

    #[tokio::test]
    async fn the_bound_counts_waiting_bytes_and_always_admits_one_message() {
        let out = Outbox::new(100);
        assert!(out.push(text(500)), "one message fits an empty queue");
        assert!(!out.push(text(1)), "nothing more while 500 bytes wait");
        assert!(
            out.push(Message::Ping(Default::default())),
            "pings do not count"
        );
        // The big one is being written: what waits behind it is bounded.
        assert!(matches!(out.next().await, Some(Message::Text(t)) if t.len() == 500));
        assert!(out.push(text(60)));
        assert!(out.push(text(40)));
        assert!(!out.push(text(1)));
        out.finish_with(Message::Close(None));
        let q = out.lock();
        assert_eq!(q.msgs.len(), 4, "ping, 60, 40, then the close frame");
        assert!(matches!(q.msgs.back(), Some(Message::Close(_))));
        assert!(q.finished);
        assert_eq!(q.bytes, 100);
    }
}
