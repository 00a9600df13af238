//! What the LAN server lets in and how much it takes: [`LanOptions`].
//!
//! [`LanOptions`] is a resolved [`LanConfig`] (the settings a person writes: who is
//! trusted, CORS, mDNS, the [`Limits`]) plus what is not configuration: the key store, the
//! host name and the origins the embedding trusts. The defaults are the safe ones: a LAN
//! client needs the access key, only IP literals, `localhost` and the host's mDNS name are
//! accepted as `Host`, CORS is closed, and every resource a client can hold is bounded.
//! Tests narrow `trusted_networks` so that `127.0.0.2` acts as "a LAN client".

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use super::access::KeyStore;
pub use bucketstream_core::config::{IpNet, LanConfig, Limits};

/// Who may use the LAN server and how; carried in [`super::ServerState`].
///
/// It dereferences to its [`LanConfig`], so `options.limits` or `options.open_to_lan`
/// read the configuration directly.
#[derive(Clone)]
pub struct LanOptions {
    /// The settings from the config layers ([`bucketstream_core::config::load`]).
    pub config: LanConfig,
    /// Origins (`scheme://host[:port]`) trusted as this server for WebSocket handshakes and
    /// state-changing requests, without CORS: the desktop shell sets
    /// [`desktop_origins`] so that its window (served from `tauri://localhost`) can open the
    /// WebSocket. Default empty: a headless server trusts only its own origin.
    pub trusted_origins: Vec<String>,
    /// Where the access key lives. `None` (the default): a fresh random key per process,
    /// kept in memory only.
    pub key_store: Option<Arc<dyn KeyStore>>,
    /// The host name used for `HOST.local` and the service name; default the OS host name.
    pub host_name: Option<String>,
    /// How long [`super::run`] lets open streams finish after shutdown starts before it
    /// closes them ([`DEFAULT_SHUTDOWN_GRACE`]; tests set their own).
    pub shutdown_grace: Duration,
    /// The UDP port SSDP (DLNA discovery) listens on when `lan.dlna` is on: 1900, the
    /// standard one; tests use another.
    pub ssdp_port: u16,
}

/// How long shutdown waits for open streams by default: 5 s.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Default for LanOptions {
    fn default() -> LanOptions {
        LanOptions {
            config: LanConfig::default(),
            trusted_origins: Vec::new(),
            key_store: None,
            host_name: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            ssdp_port: crate::dlna::ssdp::PORT,
        }
    }
}

impl LanOptions {
    /// The options a resolved [`LanConfig`] describes; the key store and host name stay
    /// unset (the caller adds its store).
    pub fn from_config(config: LanConfig) -> LanOptions {
        LanOptions {
            config,
            ..LanOptions::default()
        }
    }
}

impl Deref for LanOptions {
    type Target = LanConfig;
    fn deref(&self) -> &LanConfig {
        &self.config
    }
}

impl DerefMut for LanOptions {
    fn deref_mut(&mut self) -> &mut LanConfig {
        &mut self.config
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
            .field("config", &self.config)
            .field("trusted_origins", &self.trusted_origins)
            .field("key_store", &self.key_store.as_ref().map(|_| "<store>"))
            .field("host_name", &self.host_name)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish()
    }
}
