//! What the LAN server lets in and how much it takes: [`LanOptions`] and [`Limits`].
//!
//! The defaults are the safe ones: a LAN client needs the access key, only IP literals,
//! `localhost` and the host's mDNS name are accepted as `Host`, CORS is closed, and every
//! resource a client can hold (connections, in-flight requests, header bytes, time to
//! send a header, WebSocket messages) is bounded. Binaries and the desktop app override
//! fields from their config; tests narrow [`LanOptions::trusted_networks`] so that
//! `127.0.0.2` acts as "a LAN client".

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use super::access::KeyStore;
use crate::config::LanConfig;

/// An IP network in CIDR form (`127.0.0.0/8`, `::1/128`): who counts as "this machine".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// A network that did not parse.
#[derive(Debug, thiserror::Error)]
#[error("not an IP network (want ADDR or ADDR/PREFIX): {0:?}")]
pub struct IpNetError(String);

impl IpNet {
    /// `addr/prefix`; `None` when the prefix is longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// Whether `ip` is inside (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    /// `127.0.0.0/8` and `::1/128`: the default set of clients that need no key.
    pub fn loopback() -> Vec<IpNet> {
        vec![
            IpNet {
                addr: IpAddr::from([127, 0, 0, 0]),
                prefix: 8,
            },
            IpNet {
                addr: IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
                prefix: 128,
            },
        ]
    }
}

impl FromStr for IpNet {
    type Err = IpNetError;
    fn from_str(s: &str) -> Result<IpNet, IpNetError> {
        let bad = || IpNetError(s.chars().take(64).collect());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        IpNet::new(addr, prefix).ok_or_else(bad)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Resource bounds of the LAN server. Exceeding one affects only the client that did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head (request line + headers) in bytes; over it: `431`.
    /// Default 16 KiB (hyper's floor is 8 KiB).
    pub max_header_bytes: usize,
    /// Most header fields in one request; over it: `431`. Default 64.
    pub max_headers: usize,
    /// Open TCP connections in total (WebSockets included); over it a new connection gets
    /// `503` and is closed. Default 16,384 (the design target is 10,000 WebSocket clients).
    /// The cap in force is lower when the open-file limit (raised to the hard limit at
    /// start) does not allow it: see [`Limits::fd_reserve`] and [`Limits::trusted_reserve`].
    pub max_connections: usize,
    /// Open TCP connections from one IP address; over it: `429` and closed. Default 64.
    /// Trusted clients ([`LanOptions::trusted_networks`]) are held to the total only.
    pub max_connections_per_client: usize,
    /// Requests in flight from one IP address (a streamed body counts until it ends);
    /// over it: `429`. Default 32. Trusted clients are not counted.
    pub max_requests_per_client: usize,
    /// Time to send a complete request head, and the keep-alive idle time between requests;
    /// a slowloris client is dropped after it. Default 10 s.
    pub header_read_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed (a stalled
    /// download, a half-dead peer). Default 120 s; WebSockets ping every 20 s so stay up.
    pub idle_timeout: Duration,
    /// WebSocket messages a client may send per second on average; above it the message
    /// gets `{"type":"error","code":"rate_limited"}`. Default 10.
    pub ws_messages_per_sec: u32,
    /// Burst allowance of the WebSocket rate limit. Default 20.
    pub ws_burst: u32,
    /// Refused (rate-limited) WebSocket messages in a row before the connection is closed
    /// with code 1008. Default 50.
    pub ws_max_refused: u32,
    /// Open files kept free of connections, for everything else the process opens (media
    /// files being streamed, cache chunks being filled, the listener, logs, mDNS). The
    /// connection cap is `min(max_connections, open-file limit - fd_reserve)`, the reserve
    /// being at most a quarter of the limit. Default 256.
    pub fd_reserve: usize,
    /// Connections under the cap that only trusted clients may use, so the owner's own
    /// requests are answered however many LAN connections are open. LAN clients together
    /// also hold at most half of the open files left to connections (each may be streaming
    /// a file). Default 64 (at most a quarter of the cap).
    pub trusted_reserve: usize,
    /// Time a WebSocket client has to take each frame (at most 16 KiB) the server sends; a
    /// client that stops reading is dropped after it. Default 30 s.
    pub ws_send_timeout: Duration,
    /// Bytes that may wait for one WebSocket client behind the message being written; a
    /// client that asks for more than it reads is dropped above it (one waiting message is
    /// always admitted, however large; pings and close frames do not count). Default 4 MiB.
    pub ws_max_queued_bytes: usize,
    /// WebSocket connections from one LAN address; over it the handshake gets `429`.
    /// Default 16.
    pub max_websockets_per_client: usize,
    /// WebSocket connections from one trusted address (loopback: the desktop window, the
    /// owner's browser, the benchmarks' 10,000 clients); over it: `429`. Default 12,000.
    pub max_websockets_per_trusted_client: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            max_connections: 16_384,
            max_connections_per_client: 64,
            max_requests_per_client: 32,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            ws_messages_per_sec: 10,
            ws_burst: 20,
            ws_max_refused: 50,
            fd_reserve: 256,
            trusted_reserve: 64,
            ws_send_timeout: Duration::from_secs(30),
            ws_max_queued_bytes: 4 * 1024 * 1024,
            max_websockets_per_client: 16,
            max_websockets_per_trusted_client: 12_000,
        }
    }
}

/// Who may use the LAN server and how; carried in [`super::ServerState`].
#[derive(Clone)]
pub struct LanOptions {
    /// Let every LAN client in without the key (the owner's deliberate choice; `Host` and
    /// `Origin` checks still apply). Default `false`.
    pub open_to_lan: bool,
    /// Host names accepted in `Host` and `Origin` besides IP literals, `localhost` and the
    /// mDNS name (e.g. a name the owner gave the machine in the router's DNS). Default empty.
    pub allowed_hosts: Vec<String>,
    /// Clients whose address is in one of these need no key. Default loopback
    /// (`127.0.0.0/8`, `::1/128`). Only the TCP peer address is used; `X-Forwarded-For`
    /// and the like are never read.
    pub trusted_networks: Vec<IpNet>,
    /// Origins (`http://host:port`) granted CORS. Default empty: CORS closed.
    pub cors_origins: Vec<String>,
    /// Origins (`scheme://host[:port]`) trusted as this server for WebSocket handshakes and
    /// state-changing requests, without CORS: the desktop shell sets
    /// [`desktop_origins`] so that its window (served from `tauri://localhost`) can open the
    /// WebSocket. Default empty: a headless server trusts only its own origin.
    pub trusted_origins: Vec<String>,
    /// Where the access key lives. `None` (the default): a fresh random key per process,
    /// kept in memory only.
    pub key_store: Option<Arc<dyn KeyStore>>,
    /// Resource bounds.
    pub limits: Limits,
    /// Advertise over mDNS/DNS-SD as `_http._tcp` "Bucketstream on HOST" while serving;
    /// never done when the listener is bound to a loopback address. Default `false` in the
    /// library, so that no test or embedding multicasts on the LAN by surprise; the
    /// headless binary and the desktop app turn it on (a `--no-mdns` flag / a setting
    /// turns it off).
    pub mdns: bool,
    /// The host name used for `HOST.local` and the service name; default the OS host name.
    pub host_name: Option<String>,
}

impl Default for LanOptions {
    fn default() -> LanOptions {
        LanOptions {
            open_to_lan: false,
            allowed_hosts: Vec::new(),
            trusted_networks: IpNet::loopback(),
            cors_origins: Vec::new(),
            trusted_origins: Vec::new(),
            key_store: None,
            limits: Limits::default(),
            mdns: false,
            host_name: None,
        }
    }
}

impl LanOptions {
    /// The options a resolved [`LanConfig`] describes; the key store and host name stay
    /// unset (the caller adds its store).
    pub fn from_config(config: &LanConfig) -> LanOptions {
        LanOptions {
            open_to_lan: config.open_to_lan,
            allowed_hosts: config.allowed_hosts.clone(),
            trusted_networks: config.trusted_networks.clone(),
            cors_origins: config.cors_origins.clone(),
            trusted_origins: Vec::new(),
            key_store: None,
            limits: config.limits.clone(),
            mdns: config.mdns,
            host_name: None,
        }
    }
}

/// The origins of the desktop window's page: `tauri://localhost` (Linux, macOS) and
/// `http://tauri.localhost` (Windows). For [`LanOptions::trusted_origins`] in the desktop app.
pub fn desktop_origins() -> Vec<String> {
    vec!["tauri://localhost".into(), "http://tauri.localhost".into()]
}

impl fmt::Debug for LanOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LanOptions")
            .field("open_to_lan", &self.open_to_lan)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("trusted_networks", &self.trusted_networks)
            .field("cors_origins", &self.cors_origins)
            .field("trusted_origins", &self.trusted_origins)
            .field("key_store", &self.key_store.as_ref().map(|_| "<store>"))
            .field("limits", &self.limits)
            .field("mdns", &self.mdns)
            .field("host_name", &self.host_name)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_and_match() {
        let lo = IpNet::loopback();
        let inside = |ip: &str| lo.iter().any(|n| n.contains(ip.parse().expect("ip")));
        assert!(inside("127.0.0.1"));
        assert!(inside("127.9.9.9"));
        assert!(inside("::1"));
        assert!(inside("::ffff:127.0.0.1"));
        assert!(!inside("192.168.1.2"));
        assert!(!inside("::2"));
        let one: IpNet = "127.0.0.1".parse().expect("net");
        assert!(one.contains("127.0.0.1".parse().expect("ip")));
        assert!(!one.contains("127.0.0.2".parse().expect("ip")));
        let all: IpNet = "0.0.0.0/0".parse().expect("net");
        assert!(all.contains("10.1.2.3".parse().expect("ip")));
        for bad in ["", "1.2.3.4/33", "::/129", "x/8", "1.2.3/8", "1.2.3.4/-1"] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
        assert_eq!(one.to_string(), "127.0.0.1/32");
    }
}
