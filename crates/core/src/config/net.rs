//! [`IpNet`]: an IP network in CIDR form, the type of the `trusted_networks` setting.
//!
//! It lives in `config` because it is a value a person writes (flag, variable, file key);
//! the LAN server only asks it [`IpNet::contains`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

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
