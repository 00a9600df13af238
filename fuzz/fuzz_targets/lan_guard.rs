//! Fuzzes the LAN gate's parsers (`server::guard`): Host allowlist checks never panic,
//! `evil.example`-like names are never accepted, and the post-pairing reload target never
//! leaves the origin nor keeps the key.
#![no_main]

use bucketstream_lan::guard::{host_of, query_key, without_key, HostPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = HostPolicy::new("testbox", &["media.home.arpa".to_owned()]);
    let allowed = policy.allows_authority(text);
    if let Some(host) = host_of(text) {
        let lower = host.to_ascii_lowercase();
        let lower = lower.trim_end_matches('.');
        if allowed && lower.contains("evil") && !lower.ends_with(".localhost") {
            // "evil" is in no allowed name, and an IP literal has no such letters (names
            // under .localhost are allowed: browsers resolve them to loopback only).
            panic!("accepted foreign host {text:?}");
        }
    }
    let _ = policy.origins().decide(text, Some(text), None);
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (text, None),
    };
    let _ = query_key(query);
    let target = without_key(path, query);
    assert!(target.starts_with('/'), "{target:?}");
    assert!(!target.starts_with("//"), "{target:?}");
    assert!(!target.contains('\\'), "{target:?}");
    if let Some((_, q)) = target.split_once('?') {
        assert!(
            q.split('&').all(|p| !p.starts_with("key=") && p != "key"),
            "{target:?}"
        );
    }
});
