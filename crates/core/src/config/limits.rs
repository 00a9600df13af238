//! [`Limits`]: the LAN server's resource bounds, each declared once below with its doc,
//! its default and its key in the `[lan.limits]` table of the config file.
//!
//! The `limits!` table generates the struct, its [`Default`], the file table
//! [`FileLimits`] and the one merge of the two ([`FileLimits::over`]), so a new bound is one
//! entry, not four edits that can drift. A zero bound would lock everyone out, so the file
//! may not say 0 for any of them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a bound is written in the file: counts as themselves, durations in whole seconds.
pub trait LimitValue: Sized {
    /// The type of the `[lan.limits]` key.
    type File: Copy;
    /// The bound the key's value stands for.
    fn from_file(value: Self::File) -> Self;
    /// Whether the value is zero (refused: it would let no one in).
    fn is_zero(value: Self::File) -> bool;
}

macro_rules! count_value {
    ($($t:ty),*) => {$(
        impl LimitValue for $t {
            type File = $t;
            fn from_file(value: $t) -> $t {
                value
            }
            fn is_zero(value: $t) -> bool {
                value == 0
            }
        }
    )*};
}
count_value!(usize, u32);

impl LimitValue for Duration {
    type File = u64;
    fn from_file(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }
    fn is_zero(secs: u64) -> bool {
        secs == 0
    }
}

/// Declares every bound once: `doc, field: type = default, key file_key;`.
macro_rules! limits {
    ($( $(#[$doc:meta])+ $field:ident: $ty:ty = $default:expr, key $key:ident; )+) => {
        /// Resource bounds of the LAN server. Exceeding one affects only the client that did.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Limits {
            $( $(#[$doc])+ pub $field: $ty, )+
        }

        impl Default for Limits {
            fn default() -> Limits {
                Limits { $( $field: $default, )+ }
            }
        }

        /// The `[lan.limits]` table: each key overrides the [`Limits`] field of its name
        /// (durations in seconds, with a `_secs` suffix).
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct FileLimits {
            $(
                #[doc = concat!("[`Limits::", stringify!($field), "`].")]
                pub $key: Option<<$ty as LimitValue>::File>,
            )+
        }

        impl FileLimits {
            /// The keys this table sets, over `base`; a zero is refused with the key's name.
            pub fn over(&self, base: Limits) -> Result<Limits> {
                let limits = Limits {
                    $( $field: match self.$key {
                        Some(v) if <$ty as LimitValue>::is_zero(v) => {
                            return Err(Error::Config(format!(
                                "[lan.limits] {} must be greater than 0",
                                stringify!($key)
                            )))
                        }
                        Some(v) => <$ty as LimitValue>::from_file(v),
                        None => base.$field,
                    }, )+
                };
                // hyper refuses heads under 8 KiB; say so rather than silently raising it.
                if self.max_header_bytes.is_some_and(|n| n < MIN_HEADER_BYTES) {
                    return Err(Error::Config(format!(
                        "[lan.limits] max_header_bytes must be at least {MIN_HEADER_BYTES}"
                    )));
                }
                Ok(limits)
            }
        }

        /// The keys of the `[lan.limits]` table, in declaration order.
        pub const LIMIT_KEYS: &[&str] = &[$( stringify!($key) ),+];
    };
}

/// hyper's floor for [`Limits::max_header_bytes`].
const MIN_HEADER_BYTES: usize = 8192;

limits! {
    /// Largest request head (request line + headers) in bytes; over it: `431`.
    /// Default 16 KiB (hyper's floor is 8 KiB).
    max_header_bytes: usize = 16 * 1024, key max_header_bytes;
    /// Most header fields in one request; over it: `431`. Default 64.
    max_headers: usize = 64, key max_headers;
    /// Open TCP connections in total (WebSockets included); over it a new connection gets
    /// `503` and is closed. Default 16,384 (the design target is 10,000 WebSocket clients).
    /// The cap in force is lower when the open-file limit (raised to the hard limit at
    /// start) does not allow it: see [`Limits::fd_reserve`] and [`Limits::trusted_reserve`].
    max_connections: usize = 16_384, key max_connections;
    /// Open TCP connections from one IP address; over it: `429` and closed. Default 64.
    /// Trusted clients ([`super::LanConfig::trusted_networks`]) are held to the total only.
    max_connections_per_client: usize = 64, key max_connections_per_client;
    /// Requests in flight from one IP address (a streamed body counts until it ends);
    /// over it: `429`. Default 32. Trusted clients are not counted.
    max_requests_per_client: usize = 32, key max_requests_per_client;
    /// Time to send a complete request head, and the keep-alive idle time between requests;
    /// a slowloris client is dropped after it. Default 10 s.
    header_read_timeout: Duration = Duration::from_secs(10), key header_read_timeout_secs;
    /// A connection on which no byte moves either way for this long is closed (a stalled
    /// download, a half-dead peer). Default 120 s; WebSockets ping every 20 s so stay up.
    idle_timeout: Duration = Duration::from_secs(120), key idle_timeout_secs;
    /// WebSocket messages a client may send per second on average; above it the message
    /// gets `{"type":"error","code":"rate_limited"}`. Default 10.
    ws_messages_per_sec: u32 = 10, key ws_messages_per_sec;
    /// Burst allowance of the WebSocket rate limit. Default 20.
    ws_burst: u32 = 20, key ws_burst;
    /// Refused (rate-limited) WebSocket messages in a row before the connection is closed
    /// with code 1008. Default 50.
    ws_max_refused: u32 = 50, key ws_max_refused;
    /// Open files kept free of connections, for everything else the process opens (media
    /// files being streamed, cache chunks being filled, the listener, logs, mDNS). The
    /// connection cap is `min(max_connections, open-file limit - fd_reserve)`, the reserve
    /// being at most a quarter of the limit. Default 256.
    fd_reserve: usize = 256, key fd_reserve;
    /// Connections under the cap that only trusted clients may use, so the owner's own
    /// requests are answered however many LAN connections are open. LAN clients together
    /// also hold at most half of the open files left to connections (each may be streaming
    /// a file). Default 64 (at most a quarter of the cap).
    trusted_reserve: usize = 64, key trusted_reserve;
    /// Time a WebSocket client has to take each frame (at most 16 KiB) the server sends; a
    /// client that stops reading is dropped after it. Default 30 s.
    ws_send_timeout: Duration = Duration::from_secs(30), key ws_send_timeout_secs;
    /// Bytes that may wait for one WebSocket client behind the message being written; a
    /// client that asks for more than it reads is dropped above it (one waiting message is
    /// always admitted, however large; pings and close frames do not count). Default 4 MiB.
    ws_max_queued_bytes: usize = 4 * 1024 * 1024, key ws_max_queued_bytes;
    /// WebSocket connections from one LAN address; over it the handshake gets `429`.
    /// Default 16.
    max_websockets_per_client: usize = 16, key max_websockets_per_client;
    /// WebSocket connections from one trusted address (loopback: the desktop window, the
    /// owner's browser, the benchmarks' 10,000 clients); over it: `429`. Default 12,000.
    max_websockets_per_trusted_client: usize = 12_000, key max_websockets_per_trusted_client;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_key_and_an_empty_table_is_the_default() {
        assert_eq!(LIMIT_KEYS.len(), 16);
        assert_eq!(
            FileLimits::default().over(Limits::default()).expect("ok"),
            Limits::default()
        );
        let secs = FileLimits {
            idle_timeout_secs: Some(3),
            ws_burst: Some(2),
            ..FileLimits::default()
        };
        let got = secs.over(Limits::default()).expect("ok");
        assert_eq!(got.idle_timeout, Duration::from_secs(3));
        assert_eq!(got.ws_burst, 2);
        assert_eq!(got.max_headers, 64);
    }
}
