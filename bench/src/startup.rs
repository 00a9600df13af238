//! Start-up timing for `bench/large.sh` (issue #15): how long after the process started the
//! server answers a paged `/api/videos?limit=1` with the whole `total`, and how long until its
//! listing is reconciled with the store (`/api/health`'s `last_refresh` set).
//!
//! The script records the wall-clock time just before it starts the server and passes it in
//! (`--since`), so both figures count from the process start, not from this program's start.
//! A server that restarts from its database's saved listing serves before its first listing
//! ends: the two figures then differ; a first start lists before it serves and they coincide.
//! Polls are bare HTTP/1.1 GETs (`fixtures::http_get`) 20 ms apart, each bounded by a timeout.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::fixtures::http_get;

/// What a `/api/videos?limit=1` answer says about the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// A page (`{total, items, generation}`) with this `total`.
    Total(u64),
    /// A whole array (a server without paging): its length.
    Array(u64),
    /// Something else (an error object, not JSON).
    Other,
}

/// Reads the `total` of a paged answer (or the length of a whole-list answer).
pub fn page_total(body: &[u8]) -> Page {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => map
            .get("total")
            .and_then(|t| t.as_u64())
            .map_or(Page::Other, Page::Total),
        Ok(serde_json::Value::Array(items)) => Page::Array(items.len() as u64),
        _ => Page::Other,
    }
}

/// Whether a `/api/health` answer shows a finished listing of `count` items: `count` equal
/// and `last_refresh` set (it stays `null` while the server serves a saved listing).
pub fn reconciled(health: &[u8], count: u64) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(health) else {
        return false;
    };
    value.get("count").and_then(|c| c.as_u64()) == Some(count)
        && value.get("last_refresh").is_some_and(|r| !r.is_null())
}

/// Seconds from `since` (Unix seconds) to now.
fn seconds_since(since: f64) -> f64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    now - since
}

/// Polls until the server serves `count` items and then until its listing is reconciled;
/// returns `{"serving": s, "reconciled": s}` (seconds since `since`) as JSON text.
pub fn wait(addr: SocketAddr, count: u64, since: f64, timeout: Duration) -> Result<String, String> {
    let start = Instant::now();
    let request_timeout = Duration::from_secs(10);
    let mut last = String::from("no answer yet");
    let mut serving = None;
    while start.elapsed() < timeout {
        match http_get(addr, "/api/videos?limit=1", request_timeout) {
            Ok((200, body)) => match page_total(&body) {
                Page::Total(n) | Page::Array(n) if n == count => {
                    serving = Some(seconds_since(since));
                    break;
                }
                seen => last = format!("{seen:?}, want {count}"),
            },
            Ok((status, _)) => last = format!("HTTP {status}"),
            Err(err) => last = err,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let serving = serving.ok_or_else(|| format!("not serving after {timeout:?}: {last}"))?;
    while start.elapsed() < timeout {
        match http_get(addr, "/api/health", request_timeout) {
            Ok((200, body)) if reconciled(&body, count) => {
                let reconciled = seconds_since(since);
                return Ok(
                    serde_json::json!({ "serving": serving, "reconciled": reconciled }).to_string(),
                );
            }
            Ok((status, body)) => {
                last = format!("HTTP {status}: {}", String::from_utf8_lossy(&body));
            }
            Err(err) => last = err,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("not reconciled after {timeout:?}: {last}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_page_totals() {
        let cases: &[(&str, Page)] = &[
            (
                r#"{"total":1000000,"items":[{}],"generation":3}"#,
                Page::Total(1_000_000),
            ),
            (r#"{"items":[],"generation":1,"total":0}"#, Page::Total(0)),
            ("[{},{},{}]", Page::Array(3)),
            ("[]", Page::Array(0)),
            (r#"{"error":{"code":"bad_query"}}"#, Page::Other),
            (r#"{"total":"many"}"#, Page::Other),
            ("not json", Page::Other),
            ("", Page::Other),
        ];
        for (body, want) in cases {
            assert_eq!(page_total(body.as_bytes()), *want, "{body}");
        }
    }

    #[test]
    fn tells_a_reconciled_listing() {
        let cases: &[(&str, u64, bool)] = &[
            (
                r#"{"count":5,"last_refresh":"Wed, 21 Oct 2015 07:28:00 GMT"}"#,
                5,
                true,
            ),
            (r#"{"count":5,"last_refresh":null}"#, 5, false),
            (
                r#"{"count":4,"last_refresh":"Wed, 21 Oct 2015 07:28:00 GMT"}"#,
                5,
                false,
            ),
            (r#"{"count":5}"#, 5, false),
            ("oops", 5, false),
        ];
        for (body, count, want) in cases {
            assert_eq!(reconciled(body.as_bytes(), *count), *want, "{body}");
        }
    }
}
