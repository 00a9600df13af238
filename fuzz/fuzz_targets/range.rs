//! Fuzzes the Range header policy (`range::decide`, `range::if_range_holds`): no panic, no
//! overflow, and a partial answer always lies inside the object.
#![no_main]

use bucketstream_core::range::{decide, if_range_holds, Decision};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (len_bytes, rest) = data.split_at(8);
    let mut len_arr = [0u8; 8];
    len_arr.copy_from_slice(len_bytes);
    // Half the cases use small lengths, where edge cases cluster.
    let raw = u64::from_le_bytes(len_arr);
    let len = if raw & 1 == 0 {
        raw >> 1
    } else {
        (raw >> 1) % 4096
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let decision = decide(Some(text), len);
    match decision {
        Decision::Partial { start, end } => {
            assert!(start <= end, "{text:?} {len}: {start}>{end}");
            assert!(end < len, "{text:?} {len}: end {end} past the object");
            assert!(decision.body_len(len) <= len);
        }
        Decision::Full => assert_eq!(decision.body_len(len), len),
        Decision::Unsatisfiable { .. } => assert_eq!(decision.body_len(len), 0),
    }
    let mut parts = text.splitn(3, '\n');
    let (a, b, c) = (parts.next(), parts.next(), parts.next());
    let _ = if_range_holds(a, b, c);
});
