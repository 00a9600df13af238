//! Fuzzes the LAN gate's Origin decision (`server::guard::OriginPolicy::decide`): it never
//! panics, an origin naming a foreign IP literal or host is never taken for this server, a
//! verdict does not depend on letter case, and only `scheme://host[:port]` can pass.
//!
//! Input: one flag byte (bit 0: no `Host`; bit 1: no local address), then the `Origin`
//! value, a newline, and the `Host` value.
#![no_main]

use std::net::SocketAddr;

use bucketstream_lan::guard::{OriginPolicy, OriginVerdict};
use libfuzzer_sys::fuzz_target;

/// Marks of a foreign site: in no trusted origin or name, nor in the local address.
const FOREIGN: [&str; 2] = ["203.0.113.", "evil"];

fuzz_target!(|data: &[u8]| {
    let Some((flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (origin, host) = text.split_once('\n').unwrap_or((text, ""));
    let host = (flags & 1 == 0).then_some(host);
    let local: Option<SocketAddr> = (flags & 2 == 0).then(|| ([127, 0, 0, 1], 8080).into());
    let policy = OriginPolicy::new(
        &["media.home.arpa".to_owned()],
        &["tauri://localhost".to_owned(), "https://player.example".to_owned()],
    );
    let verdict = policy.decide(origin, host, local);

    let lower = origin.to_ascii_lowercase();
    let host_lower = host.unwrap_or("").to_ascii_lowercase();
    for mark in FOREIGN {
        if lower.contains(mark) && !host_lower.contains(mark) {
            assert!(!verdict.allowed(), "{origin:?} (Host {host:?}) passed as {verdict:?}");
        }
    }
    if verdict.allowed() {
        let (scheme, authority) = origin.split_once("://").expect("allowed without ://");
        assert!(!scheme.is_empty(), "{origin:?}");
        assert!(
            !authority.contains(['/', '?', '#', '@', '\\']),
            "{origin:?} passed as {verdict:?}"
        );
    }
    if lower.trim() == "null" {
        assert_eq!(verdict, OriginVerdict::Opaque);
    }
    if verdict == OriginVerdict::SameAuthority {
        assert_ne!(policy.decide(origin, None, local), verdict, "{origin:?}");
    }
    // Case never matters: scheme, names and IPv6 hex digits compare case-insensitively.
    let upper = policy.decide(
        &origin.to_ascii_uppercase(),
        host.map(str::to_ascii_uppercase).as_deref(),
        local,
    );
    assert_eq!(upper, verdict, "{origin:?} with Host {host:?}");
});
