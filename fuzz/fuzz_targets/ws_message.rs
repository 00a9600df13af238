//! Fuzzes the WebSocket client-message parser (`server::ws::parse_client`): no panic, and the
//! error text sent back stays short whatever the client sent.
#![no_main]

use bucketstream_lan::ws::{parse_client, MAX_MESSAGE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_client(text) {
        Ok(_) => assert!(text.len() <= MAX_MESSAGE),
        Err((code, message)) => {
            assert!(!code.as_str().is_empty());
            assert!(
                message.len() <= 512,
                "{} bytes of error text",
                message.len()
            );
        }
    }
});
