//! Fuzzes the config file parser (`config::file::parse`): any text gives a config or an
//! error, never a panic.
#![no_main]

use std::path::Path;

use bucketstream_core::config::file::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse(text, Path::new("fuzz.toml"));
});
