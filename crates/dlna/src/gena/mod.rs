//! GENA, UPnP's eventing (UPnP Device Architecture 1.0, §4): what a `SUBSCRIBE` or
//! `UNSUBSCRIBE` asks, and the `NOTIFY` a subscriber gets, so that a TV or Kodi that keeps a
//! MediaServer's tree learns when the library changed (its `SystemUpdateID`) without polling.
//!
//! Pure functions over header values; the LAN server keeps the subscriptions and sends.

use crate::xml::escape;

/// The shortest subscription granted, in seconds (a control point asking less gets this).
pub const MIN_TIMEOUT: u32 = 300;
/// The longest subscription granted (also for `Second-infinite`), in seconds.
pub const MAX_TIMEOUT: u32 = 1800;

/// What a `SUBSCRIBE` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscribe {
    /// A new subscription: events go to the first of `callbacks` that answers.
    New {
        /// The delivery URLs, in order (each `http://…`).
        callbacks: Vec<String>,
        /// The granted duration in seconds.
        timeout: u32,
    },
    /// A renewal of subscription `sid`.
    Renew {
        /// The subscription id (`uuid:…`).
        sid: String,
        /// The granted duration in seconds.
        timeout: u32,
    },
}

/// Why a `SUBSCRIBE` or `UNSUBSCRIBE` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// `SID` together with `CALLBACK` or `NT`: 400.
    #[error("SID with CALLBACK or NT")]
    Incompatible,
    /// `NT` other than `upnp:event`, no usable `CALLBACK`, no `SID`, or a `SID` that is not
    /// (or no longer) subscribed: 412.
    #[error("{0}")]
    Precondition(&'static str),
    /// No room for another subscription: 503.
    #[error("too many subscriptions")]
    Busy,
}

impl Refused {
    /// The HTTP status UPnP gives it.
    pub fn status(&self) -> u16 {
        match self {
            Refused::Incompatible => 400,
            Refused::Precondition(_) => 412,
            Refused::Busy => 503,
        }
    }
}

/// Reads a `SUBSCRIBE` from its `SID`, `CALLBACK`, `NT` and `TIMEOUT` headers.
pub fn parse_subscribe(
    sid: Option<&str>,
    callback: Option<&str>,
    nt: Option<&str>,
    timeout: Option<&str>,
) -> Result<Subscribe, Refused> {
    let timeout = granted(timeout);
    if let Some(sid) = sid {
        if callback.is_some() || nt.is_some() {
            return Err(Refused::Incompatible);
        }
        return Ok(Subscribe::Renew {
            sid: sid.trim().to_owned(),
            timeout,
        });
    }
    if nt.map(str::trim) != Some("upnp:event") {
        return Err(Refused::Precondition("NT must be upnp:event"));
    }
    let callbacks = parse_callbacks(callback.unwrap_or_default());
    if callbacks.is_empty() {
        return Err(Refused::Precondition("no http CALLBACK URL"));
    }
    Ok(Subscribe::New { callbacks, timeout })
}

/// Reads an `UNSUBSCRIBE`: its `SID`.
pub fn parse_unsubscribe(
    sid: Option<&str>,
    callback: Option<&str>,
    nt: Option<&str>,
) -> Result<String, Refused> {
    if callback.is_some() || nt.is_some() {
        return Err(Refused::Incompatible);
    }
    sid.map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or(Refused::Precondition("no SID"))
}

/// The URLs of a `CALLBACK` header (`<http://a/b><http://c/d>`), the `http` ones only.
pub fn parse_callbacks(header: &str) -> Vec<String> {
    header
        .split('<')
        .filter_map(|part| part.split_once('>').map(|(url, _)| url.trim()))
        .filter(|url| url.starts_with("http://") && url.len() > "http://".len())
        .map(str::to_owned)
        .take(8)
        .collect()
}

/// The duration granted for a `TIMEOUT` header (`Second-N` or `Second-infinite`), within
/// [`MIN_TIMEOUT`]..=[`MAX_TIMEOUT`]; the longest when absent or unreadable.
pub fn granted(timeout: Option<&str>) -> u32 {
    let asked = timeout
        .and_then(|t| t.trim().strip_prefix("Second-"))
        .and_then(|n| n.parse::<u32>().ok());
    asked.map_or(MAX_TIMEOUT, |n| n.clamp(MIN_TIMEOUT, MAX_TIMEOUT))
}

/// The `SEQ` after `seq`: 0 is the initial event's only; after `u32::MAX` it goes back to 1.
pub fn next_seq(seq: u32) -> u32 {
    seq.checked_add(1).unwrap_or(1)
}

/// The body of an event: the `(name, value)` state variables as a `propertyset`.
pub fn propertyset(vars: &[(&str, &str)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">",
    );
    for (name, value) in vars {
        xml.push_str("<e:property><");
        xml.push_str(name);
        xml.push('>');
        xml.push_str(&escape(value));
        xml.push_str("</");
        xml.push_str(name);
        xml.push_str("></e:property>");
    }
    xml.push_str("</e:propertyset>");
    xml
}

/// Where a callback URL points: `(host, port, path)`, the host as written (an IPv6 literal
/// without its brackets); `None` for anything but `http://host[:port][/path]`.
pub fn callback_target(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains('@') || path.contains(|c: char| c.is_control() || c == ' ') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 80,
            None => return None,
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (authority, 80),
        }
    };
    (!host.is_empty()).then(|| (host.to_owned(), port, path.to_owned()))
}

/// The whole `NOTIFY` request of event `seq` of subscription `sid` with `body`, for the
/// callback at `host:port` and `path` (as [`callback_target`] gives them).
pub fn notify_request(
    host: &str,
    port: u16,
    path: &str,
    sid: &str,
    seq: u32,
    body: &str,
) -> String {
    let host = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    format!(
        "NOTIFY {path} HTTP/1.1\r\nHOST: {host}\r\nCONTENT-TYPE: text/xml; charset=\"utf-8\"\r\n\
         NT: upnp:event\r\nNTS: upnp:propchange\r\nSID: {sid}\r\nSEQ: {seq}\r\n\
         CONTENT-LENGTH: {}\r\nCONNECTION: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests;
