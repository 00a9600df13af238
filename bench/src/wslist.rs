//! The WebSocket on connect, for `bench/large.sh` (issue #15): one client connects to `/ws`
//! (optionally `?list=none` or `?list=pages`) and times what the server sends before the
//! client has the library: the handshake, the first list frame, and the last one.
//!
//! Three shapes are understood, whichever the server speaks: the whole list in one
//! `media_list` frame (today's default), a frame with the count and no items (`?list=none`),
//! and the list in several page frames carrying `items` and an `offset` (`?list=pages`),
//! complete when their items add up to the count. A server that does not know the mode either
//! refuses the upgrade (the HTTP status is reported, not an error) or ignores it and sends the
//! whole list (reported as `whole`, so the script can say "not supported"). Big frames are
//! classified from their first bytes only; the whole list at 1,000,000 items is 528 MB.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Frames up to this size are parsed as JSON; larger ones are read from their first bytes
/// (a whole list) or have their items counted by [`count_items`] (a page: parsing 200 pages
/// of 2.5 MB into values would add seconds of the client's own time to the figure).
const PARSE_LIMIT: usize = 64 << 10;

/// Message types that say nothing about the list (skipped while waiting for it).
const IGNORED: &[&str] = &[
    "status",
    "scan_progress",
    "pong",
    "stats",
    "error",
    "library_changed",
];

/// What one text frame is, for the list on connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListFrame {
    /// Not about the list (status, progress…).
    Ignored,
    /// The whole list in one frame; its `count`.
    Whole { count: Option<u64> },
    /// Only the count (and generation), no items.
    CountOnly { count: Option<u64> },
    /// One page: the library's `count` and the items in this frame.
    Page { count: Option<u64>, items: u64 },
}

/// The string value after `"key":"` in `head`.
fn string_after<'a>(head: &'a str, key: &str) -> Option<&'a str> {
    let (_, after) = head.split_once(&format!("\"{key}\":\""))?;
    after.split('"').next()
}

/// The unsigned number after `"key":` in `head`.
fn number_after(head: &str, key: &str) -> Option<u64> {
    let (_, after) = head.split_once(&format!("\"{key}\":"))?;
    let digits: String = after
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Classifies a server text frame.
pub fn classify(text: &str) -> ListFrame {
    let mut end = text.len().min(400);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let kind = string_after(head, "type").unwrap_or("");
    if kind.is_empty() || IGNORED.contains(&kind) {
        return ListFrame::Ignored;
    }
    if text.len() > PARSE_LIMIT {
        let count = number_after(head, "count");
        return if kind == "media_list" && !head.contains("\"offset\":") {
            ListFrame::Whole { count }
        } else {
            ListFrame::Page {
                count,
                items: count_items(text).unwrap_or(0),
            }
        };
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return ListFrame::Ignored;
    };
    let count = value.get("count").and_then(|c| c.as_u64());
    match value.get("items").and_then(|i| i.as_array()) {
        None => ListFrame::CountOnly { count },
        Some(items) if kind == "media_list" && value.get("offset").is_none() => ListFrame::Whole {
            count: count.or(Some(items.len() as u64)),
        },
        Some(items) => ListFrame::Page {
            count,
            items: items.len() as u64,
        },
    }
}

/// The number of elements of the first `"items":[...]` array in `text` (a byte scan that
/// skips strings and nested values); `None` without one or when it is cut short.
pub fn count_items(text: &str) -> Option<u64> {
    let (_, rest) = text.split_once("\"items\":")?;
    let rest = rest.trim_start().strip_prefix('[')?.as_bytes();
    let (mut depth, mut count, mut in_string, mut escaped) = (1u32, 0u64, false, false);
    let mut element = false; // an element started at depth 1 and was not ended by a comma
    for &b in rest {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(count + u64::from(element));
                }
            }
            b',' if depth == 1 => {
                count += 1;
                element = false;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => {}
        }
        if depth >= 1 {
            element = true;
        }
    }
    None
}

/// Milliseconds of `d`, two decimals.
fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

/// Connects to `url` and waits (at most `timeout`) until the list is complete; prints JSON:
/// `{"status", "mode": whole|none|pages|rejected, "connect_ms", "first_ms", "done_ms",
/// "bytes", "frames", "items", "count"}` (times from the start of the connect).
pub async fn run(url: &str, timeout: Duration) -> Result<String, String> {
    let config = WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None);
    let start = Instant::now();
    let connected = tokio::time::timeout(
        timeout,
        tokio_tungstenite::connect_async_with_config(url, Some(config), true),
    )
    .await
    .map_err(|_| format!("no handshake with {url} within {timeout:?}"))?;
    let mut ws = match connected {
        Ok((ws, _)) => ws,
        Err(WsError::Http(response)) => {
            return Ok(
                serde_json::json!({ "status": response.status().as_u16(), "mode": "rejected" })
                    .to_string(),
            )
        }
        Err(err) => return Err(format!("cannot connect to {url}: {err}")),
    };
    let connect = start.elapsed();
    let (mut first, mut bytes, mut frames, mut items) = (None, 0u64, 0u64, 0u64);
    let deadline = start + timeout;
    let (mode, count) = loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| format!("the list was not complete within {timeout:?} ({items} items in {frames} frames)"))?;
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(close))) => {
                return Err(format!("closed by the server: {close:?}"))
            }
            Some(Ok(_)) => continue,
            Some(Err(err)) => return Err(format!("connection failed: {err}")),
            None => return Err("the connection ended before the list".into()),
        };
        let frame = classify(text.as_str());
        if frame == ListFrame::Ignored {
            continue;
        }
        first.get_or_insert_with(|| start.elapsed());
        bytes += text.len() as u64;
        frames += 1;
        match frame {
            ListFrame::Ignored => {}
            ListFrame::Whole { count } => {
                items = count.unwrap_or(0);
                break ("whole", count);
            }
            ListFrame::CountOnly { count } => break ("none", count),
            ListFrame::Page { count, items: n } => {
                items += n;
                if count.is_some_and(|c| items >= c) {
                    break ("pages", count);
                }
            }
        }
    };
    let done = start.elapsed();
    // A polite close; the figures are taken already.
    let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), ws.flush()).await;
    Ok(serde_json::json!({
        "status": 101,
        "mode": mode,
        "connect_ms": ms(connect),
        "first_ms": first.map(ms),
        "done_ms": ms(done),
        "bytes": bytes,
        "frames": frames,
        "items": items,
        "count": count,
    })
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_frames() {
        let cases: &[(&str, ListFrame)] = &[
            (
                r#"{"type":"media_list","generation":2,"count":2,"items":[{"id":"a"},{"id":"b"}]}"#,
                ListFrame::Whole { count: Some(2) },
            ),
            (
                r#"{"type":"media_list","generation":2,"items":[{"id":"a"}]}"#,
                ListFrame::Whole { count: Some(1) },
            ),
            (
                r#"{"type":"media_list","generation":2,"count":1000000,"paged":true}"#,
                ListFrame::CountOnly {
                    count: Some(1_000_000),
                },
            ),
            (
                r#"{"type":"library_state","generation":2,"count":7}"#,
                ListFrame::CountOnly { count: Some(7) },
            ),
            (
                r#"{"type":"media_list_page","generation":2,"count":7,"offset":5,"items":[{},{}]}"#,
                ListFrame::Page {
                    count: Some(7),
                    items: 2,
                },
            ),
            (
                r#"{"type":"media_list","generation":2,"count":7,"offset":0,"items":[{}]}"#,
                ListFrame::Page {
                    count: Some(7),
                    items: 1,
                },
            ),
            (
                r#"{"type":"status","ok":true,"error":null}"#,
                ListFrame::Ignored,
            ),
            (
                r#"{"type":"scan_progress","running":true,"done":1,"total":9}"#,
                ListFrame::Ignored,
            ),
            (
                r#"{"type":"library_changed","generation":3,"count":1,"added":[]}"#,
                ListFrame::Ignored,
            ),
            (r#"{"no_type":1}"#, ListFrame::Ignored),
            (
                r#"{"type":"media_list","count":3,"items":[{"#,
                ListFrame::Ignored,
            ),
            ("", ListFrame::Ignored),
        ];
        for (text, want) in cases {
            assert_eq!(classify(text), *want, "{text}");
        }
    }

    #[test]
    fn classifies_big_frames_from_their_head() {
        let item = r#"{"id":"0123456789abcdef0123456789abcdef","name":"track"},"#;
        let body = item.repeat(PARSE_LIMIT / item.len() + 1);
        let whole =
            format!(r#"{{"type":"media_list","generation":1,"count":99,"items":[{body}{{}}]}}"#);
        assert_eq!(classify(&whole), ListFrame::Whole { count: Some(99) });
        let page = format!(
            r#"{{"type":"media_list_page","generation":1,"count":99,"offset":0,"items":[{body}{{}}]}}"#
        );
        let n = (PARSE_LIMIT / item.len() + 2) as u64;
        assert_eq!(
            classify(&page),
            ListFrame::Page {
                count: Some(99),
                items: n
            }
        );
    }

    /// A loopback WebSocket server that sends `frames` to its one client, then waits for
    /// the close; returns the client URL.
    async fn serve(frames: Vec<String>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut ws = tokio_tungstenite::accept_async(tcp)
                .await
                .expect("handshake");
            for frame in frames {
                ws.send(Message::Text(frame.into())).await.expect("send");
            }
            while let Some(Ok(message)) = ws.next().await {
                if message.is_close() {
                    break;
                }
            }
        });
        format!("ws://{addr}/ws")
    }

    fn answer(json: &str) -> serde_json::Value {
        serde_json::from_str(json).expect("JSON")
    }

    #[tokio::test]
    async fn times_each_shape_of_the_list() {
        let status = r#"{"type":"status","ok":true,"error":null}"#.to_owned();
        let whole = r#"{"type":"media_list","generation":1,"count":2,"items":[{},{}]}"#.to_owned();
        let none = r#"{"type":"media_list","generation":1,"count":5,"paged":true}"#.to_owned();
        let page = |offset: u64, n: usize| {
            let items = vec!["{}"; n].join(",");
            format!(
                r#"{{"type":"media_list_page","generation":1,"count":5,"offset":{offset},"items":[{items}]}}"#
            )
        };
        let cases = [
            (vec![status.clone(), whole], "whole", 1, 2),
            (vec![none], "none", 1, 0),
            (
                vec![status, page(0, 2), page(2, 2), page(4, 1)],
                "pages",
                3,
                5,
            ),
        ];
        for (frames, mode, count, items) in cases {
            let url = serve(frames).await;
            let got = answer(&run(&url, Duration::from_secs(10)).await.expect("run"));
            assert_eq!(got["mode"], mode, "{got}");
            assert_eq!(got["frames"], count, "{got}");
            assert_eq!(got["items"], items, "{got}");
            assert_eq!(got["status"], 101, "{got}");
        }
    }

    #[tokio::test]
    async fn reports_a_refused_upgrade() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut tcp, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await;
            let body = r#"{"error":{"code":"bad_query","message":"list"}}"#;
            let head = format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = tcp.write_all(head.as_bytes()).await;
            let _ = tcp.write_all(body.as_bytes()).await;
        });
        let url = format!("ws://{addr}/ws?list=bogus");
        let got = answer(&run(&url, Duration::from_secs(10)).await.expect("run"));
        assert_eq!(got["mode"], "rejected");
        assert_eq!(got["status"], 400);
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline() {
        let page = r#"{"type":"media_list_page","generation":1,"count":9,"offset":0,"items":[{}]}"#;
        let url = serve(vec![page.to_owned()]).await;
        let err = run(&url, Duration::from_millis(300))
            .await
            .expect_err("incomplete");
        assert!(err.contains("1 items in 1 frames"), "{err}");
    }

    #[test]
    fn counts_items_without_parsing() {
        let cases: &[(&str, Option<u64>)] = &[
            (r#"{"items":[]}"#, Some(0)),
            (r#"{"items": [ ]}"#, Some(0)),
            (r#"{"items":[{}]}"#, Some(1)),
            (
                r#"{"count":3,"items":[{"a":[1,2]},{"b":{"c":"}]"}},{"d":"x\"],{"}]}"#,
                Some(3),
            ),
            (r#"{"items":[{"k":"a,b"}, {"k":"\\"}]}"#, Some(2)),
            (r#"{"items":[1,2,3]}"#, Some(3)),
            (r#"{"items":[{},{}"#, None),
            (r#"{"count":3}"#, None),
            (r#"{"items":null}"#, None),
        ];
        for (text, want) in cases {
            assert_eq!(count_items(text), *want, "{text}");
        }
    }

    #[test]
    fn reads_values_from_a_head() {
        assert_eq!(string_after(r#"{"type":"x","a":1}"#, "type"), Some("x"));
        assert_eq!(string_after(r#"{"a":1}"#, "type"), None);
        assert_eq!(number_after(r#"{"count": 42,"a":1}"#, "count"), Some(42));
        assert_eq!(number_after(r#"{"count":null}"#, "count"), None);
    }
}
