//! Whether an `Origin` is this server itself, decided as a value ([`OriginVerdict`]).
//!
//! A browser sends `Origin` with every WebSocket handshake and every cross-site POST; the gate
//! refuses both unless the origin is this server. Accepting any IP literal (the old rule) let a
//! page at `http://203.0.113.7/` open `ws://127.0.0.1:8080/ws` from the owner's browser and
//! read the library, so an origin passes only when it is:
//! - the request's own authority: host and port (the scheme's default port when none is
//!   written; a `Host` without a port means 80, the listener speaks plain HTTP) equal those of
//!   `Host`, names compared case-insensitively and without trailing dots, IP literals by value;
//! - this machine's address the connection arrived on, with the server's port;
//! - an origin the owner or the front end trusts exactly (`cors_origins`, `trusted_origins`:
//!   the desktop window's `tauri://localhost` is one only where the desktop shell adds it);
//! - `http`/`https` on a name the owner added to `allowed_hosts` (any port: a TLS proxy).
//!
//! `Origin: null` (sandboxed frames, `file:` pages, some redirects) and anything that does
//! not parse as `scheme://host[:port]` are refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::host::{is_host_name, normalise, split_authority};

/// Why an origin is, or is not, this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginVerdict {
    /// Host and port equal the request's `Host`.
    SameAuthority,
    /// The address and port the connection arrived on.
    OwnAddress,
    /// Listed exactly in the trusted origins (CORS origins, the desktop window's).
    Trusted,
    /// An `http(s)` origin on a name the owner allowed.
    AllowedName,
    /// `null`: an opaque origin.
    Opaque,
    /// Not `scheme://host[:port]`.
    Malformed,
    /// Some other site, IP literals included.
    Foreign,
}

impl OriginVerdict {
    /// Whether the request may go on.
    pub fn allowed(self) -> bool {
        matches!(
            self,
            OriginVerdict::SameAuthority
                | OriginVerdict::OwnAddress
                | OriginVerdict::Trusted
                | OriginVerdict::AllowedName
        )
    }
}

/// A host as compared: an IP address by value (IPv4-mapped IPv6 as IPv4), a name in lower
/// case without trailing dots.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(String),
}

/// A parsed origin: scheme in lower case, host, port (explicit or the scheme's default).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: Host,
    port: Option<u16>,
}

/// The origins trusted besides the request's own authority and address.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    names: Vec<String>,
    trusted: Vec<Origin>,
}

impl OriginPolicy {
    /// `names`: host names the owner allowed (any port, `http`/`https`); `origins`: exact
    /// origins (`scheme://host[:port]`, a trailing `/` tolerated). Entries that do not parse
    /// are ignored (they could match nothing).
    pub fn new(names: &[String], origins: &[String]) -> OriginPolicy {
        let names = names
            .iter()
            .map(|n| normalise(n.trim()))
            .filter(|n| is_host_name(n))
            .collect();
        let trusted = origins
            .iter()
            .filter_map(|o| parse_origin(o.trim().trim_end_matches('/')))
            .collect();
        OriginPolicy { names, trusted }
    }

    /// Whether `origin` (the header's value) is this server, for a request whose `Host` is
    /// `host` that arrived on `local`.
    pub fn decide(
        &self,
        origin: &str,
        host: Option<&str>,
        local: Option<SocketAddr>,
    ) -> OriginVerdict {
        if origin.trim().eq_ignore_ascii_case("null") {
            return OriginVerdict::Opaque;
        }
        let Some(origin) = parse_origin(origin) else {
            return OriginVerdict::Malformed;
        };
        if self.trusted.contains(&origin) {
            return OriginVerdict::Trusted;
        }
        if !matches!(origin.scheme.as_str(), "http" | "https") {
            return OriginVerdict::Foreign;
        }
        let own = host.and_then(|h| parse_authority(h, Some(80)));
        if own.is_some_and(|(h, p)| h == origin.host && p == origin.port) {
            return OriginVerdict::SameAuthority;
        }
        if let (Some(local), Host::Ip(ip)) = (local, &origin.host) {
            if *ip == local.ip().to_canonical() && origin.port == Some(local.port()) {
                return OriginVerdict::OwnAddress;
            }
        }
        if let Host::Name(name) = &origin.host {
            if self.names.contains(name) {
                return OriginVerdict::AllowedName;
            }
        }
        OriginVerdict::Foreign
    }
}

/// `scheme://host[:port]` with nothing after it; `None` otherwise.
fn parse_origin(origin: &str) -> Option<Origin> {
    let (scheme, authority) = origin.split_once("://")?;
    let mut bytes = scheme.bytes();
    let scheme_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || authority.contains(['/', '?', '#', '\\']) {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    };
    let (host, port) = parse_authority(authority, default_port)?;
    Some(Origin { scheme, host, port })
}

/// Host (parsed) and port (explicit, else `default_port`) of an authority.
fn parse_authority(authority: &str, default_port: Option<u16>) -> Option<(Host, Option<u16>)> {
    let bracketed = authority.starts_with('[');
    let (host, port) = split_authority(authority)?;
    let host = if bracketed {
        Host::Ip(IpAddr::V6(host.parse::<Ipv6Addr>().ok()?).to_canonical())
    } else {
        let name = normalise(host);
        match name.parse::<Ipv4Addr>() {
            Ok(ip) => Host::Ip(IpAddr::V4(ip)),
            Err(_) if is_host_name(&name) => Host::Name(name),
            Err(_) => return None,
        }
    };
    Some((host, port.or(default_port)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use OriginVerdict::*;

    fn addr(s: &str) -> Option<SocketAddr> {
        Some(s.parse().expect("socket address"))
    }

    #[test]
    fn origins_are_this_server_or_refused() {
        let p = OriginPolicy::new(
            &["Media.Home.Arpa.".into()],
            &["tauri://localhost".into(), "https://player.example/".into()],
        );
        let local = addr("127.0.0.1:8080");
        let v6 = addr("[::1]:8080");
        let cases: &[(&str, Option<&str>, Option<SocketAddr>, OriginVerdict)] = &[
            // The attack: a foreign IP-literal page against the loopback server.
            ("http://203.0.113.7", Some("127.0.0.1:8080"), local, Foreign),
            (
                "http://203.0.113.7:8080",
                Some("127.0.0.1:8080"),
                local,
                Foreign,
            ),
            (
                "http://192.168.1.9:8080",
                Some("127.0.0.1:8080"),
                local,
                Foreign,
            ),
            ("http://[2001:db8::1]:8080", Some("[::1]:8080"), v6, Foreign),
            // Another port on this machine is another site.
            (
                "http://127.0.0.1:9999",
                Some("127.0.0.1:8080"),
                local,
                Foreign,
            ),
            (
                "http://localhost:9999",
                Some("localhost:8080"),
                local,
                Foreign,
            ),
            ("http://localhost", Some("127.0.0.1:8080"), local, Foreign),
            // Same authority as Host.
            (
                "http://127.0.0.1:8080",
                Some("127.0.0.1:8080"),
                local,
                SameAuthority,
            ),
            (
                "http://localhost:8080",
                Some("localhost:8080"),
                local,
                SameAuthority,
            ),
            (
                "HTTP://LocalHost.:8080",
                Some("localhost:8080"),
                None,
                SameAuthority,
            ),
            (
                "http://mybox.local:8080",
                Some("MyBox.Local.:8080"),
                None,
                SameAuthority,
            ),
            (
                "http://192.168.1.20:8080",
                Some("192.168.1.20:8080"),
                None,
                SameAuthority,
            ),
            (
                "http://[::1]:8080",
                Some("[0:0::1]:8080"),
                None,
                SameAuthority,
            ),
            (
                "http://[::FFFF:127.0.0.1]:8080",
                Some("127.0.0.1:8080"),
                None,
                SameAuthority,
            ),
            // Default ports by scheme; a Host without a port is port 80.
            ("http://mybox", Some("mybox"), None, SameAuthority),
            ("http://mybox:80", Some("mybox"), None, SameAuthority),
            ("http://mybox", Some("mybox:80"), None, SameAuthority),
            ("https://mybox", Some("mybox"), None, Foreign),
            ("https://mybox:443", Some("mybox:443"), None, SameAuthority),
            ("http://mybox:8080", Some("mybox"), None, Foreign),
            // The connection's own address and port, whatever Host says.
            (
                "http://127.0.0.1:8080",
                Some("localhost:8080"),
                local,
                OwnAddress,
            ),
            ("http://[::1]:8080", Some("localhost:8080"), v6, OwnAddress),
            ("http://127.0.0.1:8080", None, local, OwnAddress),
            ("http://127.0.0.1:8080", None, None, Foreign),
            ("http://127.0.0.2:8080", None, local, Foreign),
            // What the owner or the desktop shell trusts.
            ("tauri://localhost", Some("127.0.0.1:8080"), local, Trusted),
            ("TAURI://LOCALHOST", Some("127.0.0.1:8080"), local, Trusted),
            (
                "http://tauri.localhost",
                Some("127.0.0.1:8080"),
                local,
                Foreign,
            ),
            (
                "https://player.example",
                Some("127.0.0.1:8080"),
                local,
                Trusted,
            ),
            (
                "https://player.example:8443",
                Some("127.0.0.1:8080"),
                local,
                Foreign,
            ),
            (
                "http://player.example",
                Some("127.0.0.1:8080"),
                local,
                Foreign,
            ),
            (
                "https://media.home.arpa",
                Some("127.0.0.1:8080"),
                local,
                AllowedName,
            ),
            ("http://MEDIA.home.arpa.:8080", None, None, AllowedName),
            ("ftp://media.home.arpa", None, None, Foreign),
            (
                "chrome-extension://abc",
                Some("127.0.0.1:8080"),
                local,
                Foreign,
            ),
            // Opaque and garbage.
            ("null", Some("127.0.0.1:8080"), local, Opaque),
            ("NULL", Some("127.0.0.1:8080"), local, Opaque),
            ("", Some("127.0.0.1:8080"), local, Malformed),
            ("127.0.0.1:8080", Some("127.0.0.1:8080"), local, Malformed),
            (
                "http://127.0.0.1:8080/",
                Some("127.0.0.1:8080"),
                local,
                Malformed,
            ),
            (
                "http://127.0.0.1:8080/x",
                Some("127.0.0.1:8080"),
                local,
                Malformed,
            ),
            (
                "http://u@127.0.0.1:8080",
                Some("127.0.0.1:8080"),
                local,
                Malformed,
            ),
            (
                "http://127.0.0.1:80800",
                Some("127.0.0.1:8080"),
                local,
                Malformed,
            ),
            ("http://[::1:8080", Some("[::1]:8080"), v6, Malformed),
            (
                "http://[127.0.0.1]:8080",
                Some("127.0.0.1:8080"),
                local,
                Malformed,
            ),
            ("http://evil&.localhost", None, None, Malformed),
            (
                "://127.0.0.1:8080",
                Some("127.0.0.1:8080"),
                local,
                Malformed,
            ),
            (
                "1http://127.0.0.1:8080",
                Some("127.0.0.1:8080"),
                local,
                Malformed,
            ),
            ("http://", Some("127.0.0.1:8080"), local, Malformed),
        ];
        for (origin, host, local, want) in cases {
            let got = p.decide(origin, *host, *local);
            assert_eq!(got, *want, "{origin} with Host {host:?} on {local:?}");
            assert_eq!(
                got.allowed(),
                matches!(want, SameAuthority | OwnAddress | Trusted | AllowedName)
            );
        }
    }

    #[test]
    fn no_origin_is_trusted_by_default() {
        let p = OriginPolicy::default();
        for origin in [
            "tauri://localhost",
            "http://tauri.localhost",
            "http://1.2.3.4",
        ] {
            assert_eq!(
                p.decide(origin, Some("127.0.0.1:1"), addr("127.0.0.1:1")),
                Foreign
            );
        }
    }

    /// The fuzz target's invariants (`fuzz/fuzz_targets/origin.rs`) over every combination
    /// of a few schemes, hosts, ports and tails, so that they hold without cargo-fuzz too.
    #[test]
    fn invariants_over_combinations() {
        let p = OriginPolicy::new(&["media.home.arpa".into()], &["tauri://localhost".into()]);
        let schemes = ["http", "HTTPS", "tauri", "ws", "", "h t"];
        let hosts = [
            "203.0.113.7",
            "127.0.0.1",
            "[::1]",
            "[::FFFF:203.0.113.7]",
            "localhost",
            "Evil.example",
            "media.home.arpa.",
            "127.0.0.1.",
            "[::1",
            "",
        ];
        let ports = ["", ":8080", ":80", ":443", ":", ":99999"];
        let tails = ["", "/", "@x", "#", "?"];
        let hdrs = [
            None,
            Some("127.0.0.1:8080"),
            Some("localhost"),
            Some("[::1]:8080"),
        ];
        let locals = [None, addr("127.0.0.1:8080"), addr("[::1]:8080")];
        for scheme in schemes {
            for host in hosts {
                for port in ports {
                    for tail in tails {
                        let origin = format!("{scheme}://{host}{port}{tail}");
                        for hdr in hdrs {
                            for local in locals {
                                let v = p.decide(&origin, hdr, local);
                                let lower = origin.to_ascii_lowercase();
                                if lower.contains("203.0.113.") || lower.contains("evil") {
                                    assert!(!v.allowed(), "{origin} {hdr:?} {local:?}: {v:?}");
                                }
                                if v.allowed() {
                                    assert!(tail.is_empty() && !scheme.is_empty(), "{origin}");
                                }
                                let upper = origin.to_ascii_uppercase();
                                let hdr_up = hdr.map(str::to_ascii_uppercase);
                                assert_eq!(
                                    p.decide(&upper, hdr_up.as_deref(), local),
                                    v,
                                    "{origin}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
