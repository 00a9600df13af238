//! SSDP, the discovery half of UPnP: the `M-SEARCH` a control point multicasts, our unicast
//! answers to it, and the `NOTIFY` announcements we multicast when we start, periodically, and
//! when we stop.
//!
//! Datagrams come from anyone on the network, so [`parse_search`] reads them as untrusted
//! bytes: bounded size, HTTP-like lines, no allocation beyond the datagram, and anything that
//! is not a well-formed discovery request is an error the server ignores.

use thiserror::Error;

use crate::{Device, CONNECTION_MANAGER, CONTENT_DIRECTORY, DEVICE_TYPE};

/// The SSDP multicast group and port.
pub const MULTICAST: &str = "239.255.255.250:1900";
/// How long announcements stay valid (seconds); we announce again well before.
pub const MAX_AGE: u32 = 1800;
/// Largest datagram read as a request (a real `M-SEARCH` is a few hundred bytes).
pub const MAX_DATAGRAM: usize = 2048;

/// Why a datagram is not a discovery request we answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SsdpError {
    /// Larger than [`MAX_DATAGRAM`].
    #[error("datagram too large")]
    TooLarge,
    /// Not text, or not `M-SEARCH * HTTP/1.1`.
    #[error("not an M-SEARCH request")]
    NotSearch,
    /// `MAN` is not `"ssdp:discover"`.
    #[error("MAN is not \"ssdp:discover\"")]
    BadMan,
    /// No `ST` header.
    #[error("no ST header")]
    NoTarget,
}

/// A discovery request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// What is searched for (`ssdp:all`, `upnp:rootdevice`, a device or service type, a uuid).
    pub target: String,
    /// The most seconds the answer may be delayed (`MX`, capped at 5; 1 when absent or odd).
    pub mx: u8,
}

/// The `M-SEARCH` in `datagram`.
pub fn parse_search(datagram: &[u8]) -> Result<Search, SsdpError> {
    if datagram.len() > MAX_DATAGRAM {
        return Err(SsdpError::TooLarge);
    }
    let text = std::str::from_utf8(datagram).map_err(|_| SsdpError::NotSearch)?;
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let first = lines.next().unwrap_or_default().trim();
    let mut parts = first.split_ascii_whitespace();
    if parts.next() != Some("M-SEARCH") || parts.next() != Some("*") {
        return Err(SsdpError::NotSearch);
    }
    if !parts
        .next()
        .is_some_and(|v| v.eq_ignore_ascii_case("HTTP/1.1"))
    {
        return Err(SsdpError::NotSearch);
    }
    let (mut man, mut target, mut mx) = (None, None, 1u8);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_uppercase().as_str() {
            "MAN" => man = Some(value),
            "ST" => target = Some(value),
            "MX" => mx = value.parse::<u8>().map_or(1, |n| n.clamp(1, 5)),
            _ => {}
        }
    }
    if man != Some("\"ssdp:discover\"") {
        return Err(SsdpError::BadMan);
    }
    let target = target
        .filter(|t| !t.is_empty())
        .ok_or(SsdpError::NoTarget)?;
    Ok(Search {
        target: target.to_owned(),
        mx,
    })
}

/// Everything we are, as (notification type, unique service name) pairs.
fn targets(device: &Device) -> Vec<(String, String)> {
    let uuid = format!("uuid:{}", device.uuid);
    let mut out = vec![
        (
            "upnp:rootdevice".to_owned(),
            format!("{uuid}::upnp:rootdevice"),
        ),
        (uuid.clone(), uuid.clone()),
    ];
    for t in [DEVICE_TYPE, CONTENT_DIRECTORY, CONNECTION_MANAGER] {
        out.push((t.to_owned(), format!("{uuid}::{t}")));
    }
    out
}

fn server(device: &Device) -> String {
    format!("Linux UPnP/1.0 Bucketstream/{}", device.version)
}

/// Our answers to `search` (one per matching target; none when nothing matches).
pub fn answers(search: &Search, device: &Device) -> Vec<String> {
    targets(device)
        .into_iter()
        .filter(|(nt, _)| search.target == "ssdp:all" || *nt == search.target)
        .map(|(st, usn)| {
            format!(
                "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age={MAX_AGE}\r\nEXT:\r\nLOCATION: {}\r\n\
                 SERVER: {}\r\nST: {st}\r\nUSN: {usn}\r\nContent-Length: 0\r\n\r\n",
                device.location,
                server(device)
            )
        })
        .collect()
}

/// The announcement kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// We are here (at start and every few minutes).
    Alive,
    /// We are leaving (at shutdown).
    ByeBye,
}

/// The `NOTIFY` datagrams announcing `device` (one per target).
pub fn notifications(kind: Notify, device: &Device) -> Vec<String> {
    targets(device)
        .into_iter()
        .map(|(nt, usn)| match kind {
            Notify::Alive => format!(
                "NOTIFY * HTTP/1.1\r\nHOST: {MULTICAST}\r\nCACHE-CONTROL: max-age={MAX_AGE}\r\n\
                 LOCATION: {}\r\nNT: {nt}\r\nNTS: ssdp:alive\r\nSERVER: {}\r\nUSN: {usn}\r\n\r\n",
                device.location,
                server(device)
            ),
            Notify::ByeBye => format!(
                "NOTIFY * HTTP/1.1\r\nHOST: {MULTICAST}\r\nNT: {nt}\r\nNTS: ssdp:byebye\r\n\
                 USN: {usn}\r\n\r\n"
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests;
