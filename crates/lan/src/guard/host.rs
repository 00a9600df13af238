//! Which names the LAN server answers to (`Host`), and the authority parsing the Host and
//! Origin checks share.
//!
//! A `Host` must be an IP literal, `localhost` (or `*.localhost`), the machine's name or
//! `NAME.local`, or a name the owner added; this defeats DNS rebinding (a page at
//! `evil.example` that rebinds its name to the server's address still sends
//! `Host: evil.example`). Whether an `Origin` is this server is a stricter question,
//! answered in [`super::origin`].

use std::net::IpAddr;

use super::origin::OriginPolicy;

/// The names accepted in `Host`, and the [`OriginPolicy`] for `Origin`.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    names: Vec<String>,
    origins: OriginPolicy,
}

impl HostPolicy {
    /// `localhost`, `host_name`, `host_name.local` and `extra` (case-insensitive). The
    /// origin policy trusts the `extra` names only; add origins with
    /// [`HostPolicy::with_origins`].
    pub fn new(host_name: &str, extra: &[String]) -> HostPolicy {
        let mut names: Vec<String> = vec!["localhost".into()];
        let host = normalise(host_name.trim());
        if !host.is_empty() {
            names.push(format!("{host}.local"));
            names.push(host);
        }
        names.extend(
            extra
                .iter()
                .map(|n| normalise(n.trim()))
                .filter(|n| !n.is_empty()),
        );
        names.sort();
        names.dedup();
        HostPolicy {
            names,
            origins: OriginPolicy::new(extra, &[]),
        }
    }

    /// The same names; `Origin`s trusted as this server are the `extra` names of
    /// [`HostPolicy::new`] (any port) and exactly `origins` (`scheme://host[:port]`:
    /// [`bucketstream_core::config::LanConfig::cors_origins`] and `trusted_origins`).
    pub fn with_origins(mut self, extra: &[String], origins: &[String]) -> HostPolicy {
        self.origins = OriginPolicy::new(extra, origins);
        self
    }

    /// The policy for `Origin` headers.
    pub fn origins(&self) -> &OriginPolicy {
        &self.origins
    }

    /// Whether an authority (`host`, `host:port`, `[v6]:port`) names this server.
    pub fn allows_authority(&self, authority: &str) -> bool {
        match host_of(authority) {
            Some(host) => self.allows_host(host),
            None => false,
        }
    }

    /// Whether a bare host (no port) names this server. A name must be made of the
    /// characters of a DNS name (letters, digits, `-`, `_`, `.`); anything else is refused
    /// before it is compared (found by the fuzzer: `x&/.localhost` passed as a
    /// `.localhost` name).
    pub fn allows_host(&self, host: &str) -> bool {
        if host.parse::<IpAddr>().is_ok() {
            return true;
        }
        let host = normalise(host);
        is_host_name(&host) && (host.ends_with(".localhost") || self.names.contains(&host))
    }
}

/// Lower case, without trailing dots (`MyBox.Local.` → `mybox.local`).
pub(super) fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Letters, digits, `-`, `_` and `.` only, at most 253 bytes: the shape of a DNS name.
pub(super) fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The host part of an authority: `[::1]:80` → `::1`, `a.b:80` → `a.b`, `a.b` → `a.b`.
/// `None` for empty or malformed input (userinfo, unbalanced brackets, a bad port).
pub fn host_of(authority: &str) -> Option<&str> {
    split_authority(authority).map(|(host, _)| host)
}

/// Host and port of an authority: `[::1]:80` → (`::1`, 80), `a.b` → (`a.b`, none).
/// `None` for empty or malformed input, as [`host_of`].
pub(super) fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            port => Some((host, Some(port_of(port.strip_prefix(':')?)?))),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && !host.is_empty() => {
            Some((host, Some(port_of(port)?)))
        }
        Some(_) => None,
        None => Some((authority, None)),
    }
}

/// A port of 1 to 5 digits that fits in 16 bits.
fn port_of(port: &str) -> Option<u16> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse::<u16>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_allowlist() {
        let p = HostPolicy::new("Mybox", &["media.home.arpa".into()]);
        for ok in [
            "127.0.0.1:8080",
            "192.168.1.20",
            "[::1]:80",
            "[fe80::1]",
            "localhost:8080",
            "LOCALHOST",
            "app.localhost",
            "mybox",
            "mybox.local.",
            "MyBox.Local:8080",
            "media.home.arpa:1",
        ] {
            assert!(p.allows_authority(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "",
            ":80",
            "mybox:",
            "mybox:99999",
            "mybox:+80",
            "u@127.0.0.1",
            "[::1",
            "::1",
            "0x7f000001",
            "mybox.local.evil",
            "[::1]x",
            "\n\nhevil&/.localhost\n",
            "a b.localhost",
            " mybox",
            "my%62ox",
        ] {
            assert!(!p.allows_authority(bad), "{bad}");
        }
    }

    #[test]
    fn authorities_split() {
        assert_eq!(split_authority("[::1]:80"), Some(("::1", Some(80))));
        assert_eq!(split_authority("a.b"), Some(("a.b", None)));
        assert_eq!(split_authority("a.b:0"), Some(("a.b", Some(0))));
        assert_eq!(split_authority("a.b:65536"), None);
        assert_eq!(split_authority("[::1]80"), None);
    }
}
