//! SSDP for the DLNA server: answers `M-SEARCH` (multicast, or unicast to our port, as UPnP
//! 1.1 allows) from trusted clients, and announces the device with `NOTIFY` when it starts,
//! every few minutes, and when it stops.
//!
//! It shares UDP port 1900 with other media servers on the machine (`SO_REUSEADDR`). When the
//! LAN server listens on loopback (tests, loopback-only embeddings) nothing is multicast and
//! the group is not joined: only unicast searches to the port are answered.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket as StdUdp};
use std::time::Duration;

use bucketstream_dlna::ssdp::{answers, notifications, parse_search, Notify, MAX_DATAGRAM};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use crate::ServerState;

/// The SSDP port.
pub const PORT: u16 = 1900;
/// The SSDP multicast group.
const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
/// How often the device is announced again (well inside the 1800 s max-age).
const ANNOUNCE_EVERY: Duration = Duration::from_secs(600);

/// The running responder; stops (and says goodbye) when dropped.
pub struct Ssdp {
    task: tokio::task::JoinHandle<()>,
    /// Where the goodbye goes (none on loopback).
    bye: Option<(StdUdp, Vec<String>)>,
}

impl Drop for Ssdp {
    fn drop(&mut self) {
        self.task.abort();
        if let Some((socket, messages)) = &self.bye {
            for m in messages {
                let _ = socket.send_to(m.as_bytes(), SocketAddrV4::new(GROUP, PORT));
            }
        }
    }
}

/// A UDP socket on `port` of all IPv4 interfaces, shared with other SSDP servers.
fn bind(port: u16) -> std::io::Result<StdUdp> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The address of this machine that `peer` reaches (the interface a reply to it leaves by).
fn local_ip_towards(peer: IpAddr) -> Option<IpAddr> {
    let probe = StdUdp::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    probe.connect((peer, 9)).ok()?;
    probe.local_addr().ok().map(|a| a.ip())
}

impl Ssdp {
    /// Starts answering on `port` (1900 in production) for the LAN server at `http` when DLNA
    /// is on; `None` when it is off or the port cannot be bound (logged).
    pub fn start(state: &ServerState, http: SocketAddr, port: u16) -> Option<Ssdp> {
        if !state.options.dlna {
            return None;
        }
        let std_socket = match bind(port) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(port, error = %e, "DLNA: cannot bind the SSDP port; TVs will not find this server by themselves");
                return None;
            }
        };
        let multicast = !http.ip().is_loopback();
        let device_at = |ip: IpAddr| {
            super::device(
                state,
                &format!("http://{}", SocketAddr::new(ip, http.port())),
            )
        };
        let mut bye = None;
        if multicast {
            for iface in if_addrs::get_if_addrs().unwrap_or_default() {
                if let IpAddr::V4(v4) = iface.ip() {
                    if !v4.is_loopback() {
                        let _ = std_socket.join_multicast_v4(&GROUP, &v4);
                    }
                }
            }
            if let (Ok(sender), Some(ip)) =
                (std_socket.try_clone(), local_ip_towards(IpAddr::V4(GROUP)))
            {
                bye = Some((sender, notifications(Notify::ByeBye, &device_at(ip))));
            }
        }
        let socket = match UdpSocket::from_std(std_socket) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "DLNA: SSDP socket");
                return None;
            }
        };
        let state = state.clone();
        let task = tokio::spawn(async move {
            let mut announce = tokio::time::interval(ANNOUNCE_EVERY);
            let mut buf = vec![0u8; MAX_DATAGRAM + 1];
            loop {
                tokio::select! {
                    _ = announce.tick(), if multicast => {
                        if let Some(ip) = local_ip_towards(IpAddr::V4(GROUP)) {
                            let device = super::device(&state, &format!("http://{}", SocketAddr::new(ip, http.port())));
                            for m in notifications(Notify::Alive, &device) {
                                let _ = socket.send_to(m.as_bytes(), SocketAddrV4::new(GROUP, PORT)).await;
                            }
                        }
                    }
                    got = socket.recv_from(&mut buf) => {
                        let Ok((n, from)) = got else { continue };
                        // Only the owner's networks get answers (DLNA has no authentication).
                        if !state.access.trusted(from.ip()) {
                            continue;
                        }
                        let Ok(search) = parse_search(&buf[..n]) else { continue };
                        let ip = if from.ip().is_loopback() { from.ip() } else {
                            match local_ip_towards(from.ip()) { Some(ip) => ip, None => continue }
                        };
                        let device = super::device(&state, &format!("http://{}", SocketAddr::new(ip, http.port())));
                        for answer in answers(&search, &device) {
                            let _ = socket.send_to(answer.as_bytes(), from).await;
                        }
                    }
                }
            }
        });
        Some(Ssdp { task, bye })
    }
}
