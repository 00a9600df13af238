//! The LAN access key: generated with the OS CSPRNG, persisted through a [`KeyStore`],
//! exchanged once for a cookie, and rotated by the owner.
//!
//! The key is what the pairing QR code carries (`http://HOST:PORT/?key=KEY`). A browser
//! that arrives with it gets an HttpOnly, SameSite=Strict cookie holding a *token derived
//! from* the key (sha256 with a fixed label), so the cookie jar never holds the key itself.
//! Rotating the key changes the token: every paired browser is logged out, and open
//! WebSockets of keyed clients are closed (see [`Access::rotations`]).
//!
//! Neither the key nor the token is ever logged: both live in [`Sensitive`].

use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::options::LanOptions;
use bucketstream_core::config::IpNet;
use bucketstream_core::secret::Sensitive;

/// Bytes of randomness in a key (256 bits; the issue asks for at least 128).
const KEY_BYTES: usize = 32;
/// The cookie that holds the derived token.
pub const COOKIE_NAME: &str = "bucketstream_lan";
/// Cookie lifetime: 400 days, the most browsers keep.
const COOKIE_MAX_AGE_SECS: u64 = 400 * 24 * 3600;

pub use bucketstream_core::secret::keystore::{FileKeyStore, KeyError, KeyStore, MemoryKeyStore};

/// A fresh key: 256 bits from the OS CSPRNG, lowercase hex.
pub fn generate_key() -> Result<Sensitive<String>, KeyError> {
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(Sensitive::new(hex::encode(bytes)))
}

fn well_formed(key: &str) -> bool {
    key.len() == KEY_BYTES * 2 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The cookie token for `key`: what a paired browser holds instead of the key.
fn token_for(key: &str) -> Sensitive<String> {
    let mut h = Sha256::new();
    h.update(b"bucketstream-lan-cookie-v1\0");
    h.update(key.as_bytes());
    Sensitive::new(hex::encode(h.finalize()))
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

struct Keys {
    key: Sensitive<String>,
    token: Sensitive<String>,
}

/// The access state of one server: key, cookie token, and who needs neither.
pub struct Access {
    keys: RwLock<Keys>,
    store: Arc<dyn KeyStore>,
    open_to_lan: bool,
    trusted: Vec<IpNet>,
    rotations: watch::Sender<u64>,
    /// The token of this process's own helpers (ffmpeg reading `/media` for a transcode):
    /// made at start, never stored, never sent anywhere but loopback.
    internal: Sensitive<String>,
}

/// The header that carries [`Access::internal_token`] on the server's own loopback requests.
pub const INTERNAL_HEADER: &str = "x-bucketstream-internal";

impl Access {
    /// Loads the key from the options' store, making and saving one when there is none.
    pub fn new(options: &LanOptions) -> Result<Access, KeyError> {
        let store: Arc<dyn KeyStore> = match &options.key_store {
            Some(store) => store.clone(),
            None => Arc::new(MemoryKeyStore::default()),
        };
        let key = match store.load()? {
            Some(key) if well_formed(key.expose()) => key,
            Some(_) => return Err(KeyError::Malformed),
            None => {
                let key = generate_key()?;
                store.save(&key)?;
                key
            }
        };
        let token = token_for(key.expose());
        Ok(Access {
            keys: RwLock::new(Keys { key, token }),
            store,
            open_to_lan: options.open_to_lan,
            trusted: options.trusted_networks.clone(),
            rotations: watch::channel(0).0,
            internal: generate_key()?,
        })
    }

    /// The current key (for the pairing URL / QR code; never log it).
    pub fn key(&self) -> Sensitive<String> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .key
            .clone()
    }

    /// Makes, saves and switches to a new key: every paired browser must pair again.
    pub fn rotate(&self) -> Result<(), KeyError> {
        let key = generate_key()?;
        self.store.save(&key)?;
        let token = token_for(key.expose());
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Keys { key, token };
        self.rotations.send_modify(|n| *n += 1);
        tracing::info!("LAN access key rotated; paired devices must pair again");
        Ok(())
    }

    /// A receiver that changes on every rotation (keyed WebSockets close on it).
    pub fn rotations(&self) -> watch::Receiver<u64> {
        self.rotations.subscribe()
    }

    /// Whether the server is open to the whole LAN.
    pub fn open_to_lan(&self) -> bool {
        self.open_to_lan
    }

    /// The token the server's own helpers send in [`INTERNAL_HEADER`] (ffmpeg's reads of
    /// `/media`): they pass the gate from loopback even when loopback is not trusted.
    pub fn internal_token(&self) -> &str {
        self.internal.expose()
    }

    /// Whether a request from `ip` with `header` is one of the server's own helpers.
    pub fn internal(&self, ip: std::net::IpAddr, header: Option<&str>) -> bool {
        ip.is_loopback()
            && header
                .is_some_and(|h| constant_time_eq(h.as_bytes(), self.internal.expose().as_bytes()))
    }

    /// Whether a client at `ip` needs no key (by address alone).
    pub fn trusted(&self, ip: std::net::IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(ip))
    }

    /// Whether `candidate` is the current key.
    pub fn key_matches(&self, candidate: &str) -> bool {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        constant_time_eq(candidate.as_bytes(), keys.key.expose().as_bytes())
    }

    /// Whether `candidate` is the current cookie token.
    pub fn token_matches(&self, candidate: &str) -> bool {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        constant_time_eq(candidate.as_bytes(), keys.token.expose().as_bytes())
    }

    /// The `Set-Cookie` value that pairs a browser.
    pub fn set_cookie(&self) -> Sensitive<String> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        Sensitive::new(format!(
            "{COOKIE_NAME}={}; Path=/; Max-Age={COOKIE_MAX_AGE_SECS}; HttpOnly; SameSite=Strict",
            keys.token.expose()
        ))
    }

    /// The pairing URL for `host:port` (what the QR code holds). It carries the key:
    /// show it to the owner only, never log it.
    pub fn pairing_url(&self, host: &str, port: u16) -> Sensitive<String> {
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        Sensitive::new(format!("http://{host}:{port}/?key={}", self.key().expose()))
    }
}

impl Access {
    /// The pairing URLs for a server bound to `bind:port`, one per host of
    /// [`pairing_hosts`] among this machine's [`lan_addresses`]. They carry the key: print
    /// them for the owner once, never log them.
    pub fn pairing_urls(&self, bind: std::net::IpAddr, port: u16) -> Vec<Sensitive<String>> {
        pairing_hosts(bind, &lan_addresses())
            .iter()
            .map(|ip| self.pairing_url(&ip.to_string(), port))
            .collect()
    }
}

/// The addresses other devices can pair with a server bound to `bind`, given the machine's
/// LAN addresses `lan`: every IPv4 one for `0.0.0.0` (an IPv4 socket cannot be reached
/// over IPv6), every one for `::`, the bound address itself for a specific one, none for
/// loopback (nothing to pair: loopback clients need no key).
pub fn pairing_hosts(bind: std::net::IpAddr, lan: &[std::net::IpAddr]) -> Vec<std::net::IpAddr> {
    if bind.is_unspecified() {
        lan.iter()
            .copied()
            .filter(|ip| bind.is_ipv6() || ip.is_ipv4())
            .collect()
    } else if bind.is_loopback() {
        Vec::new()
    } else {
        vec![bind]
    }
}

/// The non-loopback IPv4 and IPv6 addresses of this machine's interfaces (for pairing URLs).
pub fn lan_addresses() -> Vec<std::net::IpAddr> {
    let mut out: Vec<std::net::IpAddr> = if_addrs::get_if_addrs()
        .map(|ifs| {
            ifs.into_iter()
                .filter(|i| !i.is_loopback())
                .map(|i| i.ip())
                .filter(|ip| match ip {
                    std::net::IpAddr::V4(v4) => !v4.is_link_local(),
                    std::net::IpAddr::V6(v6) => !v6.is_unicast_link_local(),
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by_key(|ip| ip.is_ipv6());
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_hex_and_rotate() {
        let a = generate_key().expect("key");
        let b = generate_key().expect("key");
        assert!(well_formed(a.expose()));
        assert_ne!(a.expose(), b.expose());
        let access = Access::new(&LanOptions::default()).expect("access");
        let key = access.key();
        assert!(access.key_matches(key.expose()));
        assert!(!access.key_matches(&key.expose()[1..]));
        let cookie = access.set_cookie();
        assert!(!cookie.expose().contains(key.expose().as_str()));
        assert!(cookie.expose().contains("HttpOnly; SameSite=Strict"));
        let rot = access.rotations();
        access.rotate().expect("rotate");
        assert!(rot.has_changed().expect("watch"));
        assert!(!access.key_matches(key.expose()));
        assert!(format!("{:?}", access.key()).contains("redacted"));
    }

    #[test]
    fn pairing_hosts_are_those_a_device_can_reach() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
        let lan = [ip("192.168.1.20"), ip("10.0.0.5"), ip("fd00::20")];
        let cases: &[(&str, &[&str])] = &[
            ("0.0.0.0", &["192.168.1.20", "10.0.0.5"]),
            ("::", &["192.168.1.20", "10.0.0.5", "fd00::20"]),
            ("192.168.1.20", &["192.168.1.20"]),
            ("fd00::20", &["fd00::20"]),
            ("127.0.0.1", &[]),
            ("::1", &[]),
        ];
        for (bind, want) in cases {
            let want: Vec<_> = want.iter().map(|s| ip(s)).collect();
            assert_eq!(pairing_hosts(ip(bind), &lan), want, "bind {bind}");
        }
    }

    #[test]
    fn file_store_is_private_and_persistent() {
        let dir = std::env::temp_dir().join(format!("bs-key-{}", std::process::id()));
        let store = Arc::new(FileKeyStore::new(dir.join("sub/key")));
        let opts = LanOptions {
            key_store: Some(store.clone()),
            ..LanOptions::default()
        };
        let first = Access::new(&opts).expect("access").key();
        let again = Access::new(&opts).expect("access").key();
        assert_eq!(first.expose(), again.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path()).expect("meta").permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
        std::fs::write(store.path(), "not a key").expect("write");
        assert!(matches!(Access::new(&opts), Err(KeyError::Malformed)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
