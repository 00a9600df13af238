//! DLNA event subscriptions (GENA): TVs, Kodi and VLC subscribe to the ContentDirectory and
//! are told its `SystemUpdateID` when the library changes, so their copy of the tree is
//! refreshed without polling; ConnectionManager subscribers get its (fixed) variables once.
//!
//! Bounded and confined: at most [`MAX_SUBSCRIPTIONS`], each for at most 30 minutes unless
//! renewed, and events go only to a callback on the subscriber's own address (a trusted
//! client cannot make this server send requests to a third machine). Changes are sent at
//! most every [`MODERATION`], as UPnP asks for `SystemUpdateID`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bucketstream_dlna::didl;
use bucketstream_dlna::gena::{self, Refused, Subscribe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::ServerState;

/// Subscriptions kept at once, over both services.
pub const MAX_SUBSCRIPTIONS: usize = 64;
/// The least time between two change events.
pub const MODERATION: Duration = Duration::from_secs(2);
/// How long one delivery may take (connect, send, first line of the answer): UPnP's 30 s,
/// after which the event is given up and the subscription kept.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause before the initial event, so it follows the `SUBSCRIBE` answer.
const INITIAL_DELAY: Duration = Duration::from_millis(100);

/// The MIME types served, for `GetProtocolInfo` and ConnectionManager's event.
pub const SOURCE_PROTOCOLS: [&str; 9] = [
    "audio/mpeg",
    "audio/flac",
    "audio/mp4",
    "audio/ogg",
    "audio/wav",
    "video/mp4",
    "video/webm",
    "video/x-matroska",
    "audio/aac",
];

/// ConnectionManager's `SourceProtocolInfo`.
pub fn source_protocol_info() -> String {
    SOURCE_PROTOCOLS
        .iter()
        .map(|m| didl::protocol_info(m, false))
        .collect::<Vec<_>>()
        .join(",")
}

/// A generation as UPnP's 32-bit update id.
pub fn update_id(generation: u64) -> u32 {
    u32::try_from(generation % u64::from(u32::MAX)).unwrap_or(0)
}

/// The evented services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// ContentDirectory: `SystemUpdateID`, on every change.
    ContentDirectory,
    /// ConnectionManager: its protocols and connection ids, once.
    ConnectionManager,
}

impl Service {
    /// The state variables and their values now.
    fn variables(self, state: &ServerState) -> Vec<(&'static str, String)> {
        match self {
            Service::ContentDirectory => {
                let id = update_id(state.library.snapshot().generation);
                vec![("SystemUpdateID", id.to_string())]
            }
            Service::ConnectionManager => vec![
                ("SourceProtocolInfo", source_protocol_info()),
                ("SinkProtocolInfo", String::new()),
                ("CurrentConnectionIDs", "0".to_owned()),
            ],
        }
    }
}

/// One subscription.
#[derive(Debug, Clone)]
struct Sub {
    service: Service,
    /// Where events go, tried in order: `(host, port, path)`.
    callbacks: Vec<(String, u16, String)>,
    expires: Instant,
    /// The `SEQ` of the next event.
    seq: u32,
    /// Whether its initial event (`SEQ` 0) has been taken; change events wait for it.
    started: bool,
}

/// An event to send: to `sid` at `callbacks`, numbered `seq`.
struct Delivery {
    sid: String,
    callbacks: Vec<(String, u16, String)>,
    seq: u32,
}

/// The subscriptions of one server.
#[derive(Debug, Default)]
pub struct Events {
    subs: Mutex<HashMap<String, Sub>>,
}

impl Events {
    /// Decides a `SUBSCRIBE` to `service` from `peer` at `now`: the SID and granted seconds,
    /// and whether it is new (then the caller sends the initial event with [`Events::initial`]).
    pub fn subscribe(
        &self,
        service: Service,
        peer: IpAddr,
        request: Subscribe,
        now: Instant,
    ) -> Result<(String, u32, bool), Refused> {
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        subs.retain(|_, s| s.expires > now);
        match request {
            Subscribe::Renew { sid, timeout } => {
                let sub = subs
                    .get_mut(&sid)
                    .filter(|s| s.service == service)
                    .ok_or(Refused::Precondition("no such subscription"))?;
                sub.expires = now + Duration::from_secs(u64::from(timeout));
                Ok((sid, timeout, false))
            }
            Subscribe::New { callbacks, timeout } => {
                let callbacks: Vec<_> = callbacks
                    .iter()
                    .filter_map(|url| gena::callback_target(url))
                    .filter(|(host, _, _)| host.parse::<IpAddr>().is_ok_and(|ip| same(ip, peer)))
                    .collect();
                if callbacks.is_empty() {
                    return Err(Refused::Precondition(
                        "CALLBACK must be an http URL on the subscriber's own address",
                    ));
                }
                if subs.len() >= MAX_SUBSCRIPTIONS {
                    return Err(Refused::Busy);
                }
                let sid = new_sid().ok_or(Refused::Busy)?;
                subs.insert(
                    sid.clone(),
                    Sub {
                        service,
                        callbacks,
                        expires: now + Duration::from_secs(u64::from(timeout)),
                        seq: 0,
                        started: false,
                    },
                );
                Ok((sid, timeout, true))
            }
        }
    }

    /// Decides an `UNSUBSCRIBE` of `sid` from `service`.
    pub fn unsubscribe(&self, service: Service, sid: &str) -> Result<(), Refused> {
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        match subs.get(sid) {
            Some(s) if s.service == service => {
                subs.remove(sid);
                Ok(())
            }
            _ => Err(Refused::Precondition("no such subscription")),
        }
    }

    /// Subscriptions kept now.
    pub fn len(&self) -> usize {
        self.subs.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next event of each live, started subscription to `service`, or the initial event
    /// of `only`; its `SEQ` taken.
    fn due(&self, service: Service, only: Option<&str>, now: Instant) -> Vec<Delivery> {
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        subs.retain(|_, s| s.expires > now);
        subs.iter_mut()
            .filter(|(sid, s)| {
                s.service == service
                    && match only {
                        Some(only) => only == sid.as_str() && !s.started,
                        None => s.started,
                    }
            })
            .map(|(sid, s)| {
                s.started = true;
                let seq = s.seq;
                s.seq = gena::next_seq(seq);
                Delivery {
                    sid: sid.clone(),
                    callbacks: s.callbacks.clone(),
                    seq,
                }
            })
            .collect()
    }

    /// Sends new subscription `sid` its initial event (`SEQ` 0), just after its answer.
    pub fn initial(self: &Arc<Self>, state: &ServerState, service: Service, sid: String) {
        let (events, state) = (self.clone(), state.clone());
        tokio::spawn(async move {
            tokio::time::sleep(INITIAL_DELAY).await;
            let body = propertyset(&service.variables(&state));
            for delivery in events.due(service, Some(&sid), Instant::now()) {
                deliver(&delivery, &body).await;
            }
        });
    }

    /// Sends ContentDirectory's subscribers the new `SystemUpdateID` whenever the library
    /// changes, at most every [`MODERATION`]; runs until aborted.
    pub async fn run(self: Arc<Self>, state: ServerState) {
        let mut changes = state.library.catalog().subscribe();
        let mut sent = update_id(state.library.snapshot().generation);
        loop {
            match changes.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
            // Changes that come during the pause are told in one event.
            tokio::time::sleep(MODERATION).await;
            while !changes.is_empty() {
                let _ = changes.try_recv();
            }
            let now = update_id(state.library.snapshot().generation);
            if now == sent {
                continue;
            }
            sent = now;
            let body = propertyset(&Service::ContentDirectory.variables(&state));
            let deliveries = self.due(Service::ContentDirectory, None, Instant::now());
            futures_util::future::join_all(deliveries.iter().map(|d| deliver(d, &body))).await;
        }
    }
}

/// Whether `a` and `b` are one address (an IPv4 peer may be seen as IPv4-mapped IPv6).
fn same(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// A fresh subscription id, `uuid:` and 128 random bits; `None` when the OS gives no
/// randomness.
fn new_sid() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    let h = hex::encode(bytes);
    Some(format!(
        "uuid:{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

fn propertyset(vars: &[(&'static str, String)]) -> String {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
    gena::propertyset(&vars)
}

/// Sends one event to the first of its callbacks that takes it (a 2xx answer); failures
/// are logged at debug level (a TV that was switched off), the subscription stays until it
/// expires.
async fn deliver(delivery: &Delivery, body: &str) {
    for (host, port, path) in &delivery.callbacks {
        let request = gena::notify_request(host, *port, path, &delivery.sid, delivery.seq, body);
        let sent = tokio::time::timeout(SEND_TIMEOUT, async {
            let mut stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
            stream.write_all(request.as_bytes()).await?;
            let mut head = [0u8; 12];
            stream.read_exact(&mut head).await?;
            Ok::<bool, std::io::Error>(head.starts_with(b"HTTP/1.") && head[9] == b'2')
        })
        .await;
        match sent {
            Ok(Ok(true)) => return,
            Ok(Ok(false)) => tracing::debug!(%host, port, "event refused by its subscriber"),
            Ok(Err(err)) => tracing::debug!(%host, port, %err, "event not delivered"),
            Err(_) => tracing::debug!(%host, port, "event delivery timed out"),
        }
    }
}

#[cfg(test)]
mod tests;
