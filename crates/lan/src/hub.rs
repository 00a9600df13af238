//! WebSocket fan-out: library events serialised once and broadcast to every connection.
//!
//! With 10,000 clients, serialising a change per client would dominate; the hub turns each
//! catalog event into one shared text frame (`Utf8Bytes`, reference-counted). The
//! `media_list` frame (the whole list: about 530 MB at 1,000,000 items) is made when a client
//! needs it and shared by every client that asks while some copy of it is still queued or
//! being sent; it is not kept beyond that (the hub holds only a weak reference), so a
//! generation nobody asks for costs nothing. It also counts WebSockets per client address,
//! so one address cannot hold more than its cap of them.
//!
//! Making a hub starts nothing: its queue of catalog events exists from construction, and
//! [`Hub::pump`], which empties it into the pushes, is spawned by [`super::run`] on the
//! server's own runtime (the desktop runs the server on a runtime apart from the window's).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;

use tokio::sync::{broadcast, watch};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use bucketstream_core::catalog::Event;
use bucketstream_core::library::Library;
use bucketstream_core::wire::ServerMessage;

/// Pushes queued per connection before a slow client is resynchronised with a full list.
const PUSH_BUFFER: usize = 256;

/// Shared WebSocket state of one server.
pub struct Hub {
    /// The library whose list is sent.
    library: Arc<Library>,
    /// Pre-serialised pushes (library changes, status).
    pushes: broadcast::Sender<Utf8Bytes>,
    /// Connected WebSocket clients (shown in the desktop's LAN status).
    clients: AtomicUsize,
    /// Open WebSockets per client address (addresses with none are removed).
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Flips to true when the server shuts down: every session closes.
    closing: watch::Sender<bool>,
    /// The `media_list` frame of a generation, while some client still holds it.
    list_cache: Mutex<Option<(u64, Weak<String>)>>,
    /// Catalog events since construction, queued until [`Hub::pump`] takes them.
    events: Mutex<Option<broadcast::Receiver<Event>>>,
}

/// A WebSocket's place in the counts; given back when the session ends.
pub struct ClientGuard {
    hub: Arc<Hub>,
    ip: IpAddr,
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        let mut map = self.hub.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
        drop(map);
        self.hub.clients.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hub {
    /// Creates the hub. Subscribes to the library's events now, so that none is lost before
    /// its pump runs (in [`super::run`]); starts no task, so it needs no runtime.
    pub fn new(library: Arc<Library>) -> Arc<Hub> {
        let (pushes, _) = broadcast::channel(PUSH_BUFFER);
        let (closing, _) = watch::channel(false);
        let events = library.catalog().subscribe();
        Arc::new(Hub {
            library,
            pushes,
            clients: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            closing,
            list_cache: Mutex::new(None),
            events: Mutex::new(Some(events)),
        })
    }

    /// The task that turns catalog events into pushes, until [`Hub::close_all`] (or the hub
    /// is dropped). [`super::run`] spawns it, so it runs on the server's runtime.
    pub(crate) fn pump(self: &Arc<Self>) -> impl Future<Output = ()> + Send + 'static {
        let queued = self.events.lock().unwrap_or_else(|p| p.into_inner()).take();
        // A second run of the same state starts from the events of now.
        let mut events = queued.unwrap_or_else(|| self.library.catalog().subscribe());
        let mut closed = self.closing.subscribe();
        let mut scan = self.library.scan_progress().subscribe();
        let weak = Arc::downgrade(self);
        async move {
            loop {
                let event = tokio::select! {
                    ev = events.recv() => ev,
                    changed = scan.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        let Some(hub) = weak.upgrade() else { return };
                        let progress = *scan.borrow_and_update();
                        let frame = ServerMessage::ScanProgress(progress).to_json();
                        let _ = hub.pushes.send(Utf8Bytes::from(frame));
                        continue;
                    }
                    _ = closed.wait_for(|c| *c) => return,
                };
                let Some(hub) = weak.upgrade() else { return };
                let frame = match event {
                    Ok(Event::Changed(snap, change)) => ServerMessage::LibraryChanged {
                        generation: snap.generation,
                        count: snap.items.len(),
                        added: &change.added,
                        removed: &change.removed,
                        changed: &change.changed,
                    }
                    .to_json(),
                    Ok(Event::Failed(err)) => ServerMessage::status(Some(&err)).to_json(),
                    Ok(Event::Recovered) => ServerMessage::status(None).to_json(),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let _ = hub.pushes.send(Utf8Bytes::from(frame));
            }
        }
    }

    /// Registers a WebSocket from `ip`, unless that address already has `max` open.
    pub fn connect(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientGuard> {
        let mut map = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        let open = map.entry(ip).or_insert(0);
        if *open >= max {
            if *open == 0 {
                map.remove(&ip);
            }
            return None;
        }
        *open += 1;
        drop(map);
        self.clients.fetch_add(1, Ordering::AcqRel);
        Some(ClientGuard {
            hub: self.clone(),
            ip,
        })
    }

    /// Connected WebSocket clients.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Acquire)
    }

    /// Subscribes to pushes.
    pub fn subscribe(&self) -> broadcast::Receiver<Utf8Bytes> {
        self.pushes.subscribe()
    }

    /// A receiver that turns true at shutdown.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Asks every session to close (server shutdown).
    pub fn close_all(&self) {
        let _ = self.closing.send(true);
    }

    /// The `{"type":"media_list",...}` frame for the current snapshot: made now, unless a
    /// frame of this generation is still held by some connection (then shared).
    pub fn media_list(&self) -> Utf8Bytes {
        let snap = self.library.snapshot();
        let mut cache = self.list_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((gen, weak)) = cache.as_ref() {
            if *gen == snap.generation {
                if let Some(text) = weak.upgrade() {
                    return frame_of(text);
                }
            }
        }
        let frame = ServerMessage::MediaList {
            generation: snap.generation,
            count: snap.items.len(),
            items: &snap.items,
        };
        let text = Arc::new(frame.to_json());
        *cache = Some((snap.generation, Arc::downgrade(&text)));
        frame_of(text)
    }

    /// The status frame when the last refresh failed (sent to clients on connect).
    pub fn failing_status(&self) -> Option<Utf8Bytes> {
        let status = self.library.catalog().status();
        status
            .last_error
            .map(|err| Utf8Bytes::from(ServerMessage::status(Some(&err)).to_json()))
    }
}

/// A frame's text, owned by the [`Bytes`] of every copy sent.
struct FrameText(Arc<String>);

impl AsRef<[u8]> for FrameText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// `text` as a text frame that shares it (no copy, no second UTF-8 check).
fn frame_of(text: Arc<String>) -> Utf8Bytes {
    let bytes = Bytes::from_owner(FrameText(text));
    // SAFETY: the bytes are those of a `String`, so valid UTF-8, and `FrameText` never
    // changes them.
    unsafe { Utf8Bytes::from_bytes_unchecked(bytes) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_shares_its_text_and_lets_it_go_with_the_last_copy() {
        let text = Arc::new("{\"type\":\"pong\"}".to_owned());
        let weak = Arc::downgrade(&text);
        let frame = frame_of(text);
        let copy = frame.clone();
        assert_eq!(copy.as_str(), "{\"type\":\"pong\"}");
        drop(frame);
        assert!(weak.upgrade().is_some(), "held while a copy is");
        drop(copy);
        assert!(weak.upgrade().is_none(), "gone with the last copy");
    }
}
