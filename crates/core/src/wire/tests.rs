//! Tests of the wire types: the exact JSON of every message both ways and of the error body,
//! the codes against the README, and the player's generated help texts against the enum.

use std::collections::BTreeSet;

use std::sync::Arc;

use super::*;
use crate::catalog::MediaItem;
use crate::media::Kind;

fn item() -> MediaItem {
    MediaItem {
        id: crate::catalog::ItemId::parse("0123456789abcdef0123456789abcdef").expect("id"),
        name: "take 1".into(),
        key: "Jazz/take 1.mp3".into(),
        folder: "Jazz".into(),
        kind: Kind::Audio,
        content_type: "audio/mpeg",
        size: 42,
        etag: Some("\"e\"".into()),
        modified_ms: None,
        meta: std::sync::Arc::new(crate::catalog::ItemMeta {
            title: Some("Take <1>".into()),
            track: Some(3),
            duration_ms: Some(61_000),
            ..Default::default()
        }),
    }
}

const ITEM_JSON: &str = "{\"id\":\"0123456789abcdef0123456789abcdef\",\"name\":\"take 1\",\
     \"key\":\"Jazz/take 1.mp3\",\"folder\":\"Jazz\",\"kind\":\"audio\",\
     \"content_type\":\"audio/mpeg\",\"size\":42,\"etag\":\"\\\"e\\\"\",\"last_modified\":null,\
     \"modified_ms\":null,\"url\":\"/media/0123456789abcdef0123456789abcdef\",\"title\":\"Take <1>\",\
     \"artist\":null,\"album\":null,\"album_artist\":null,\"track\":3,\"disc\":null,\
     \"year\":null,\"genre\":null,\"duration_ms\":61000,\"width\":null,\"height\":null,\
     \"art\":null}";

#[test]
fn server_messages_have_their_exact_json() {
    let items = [Arc::new(item())];
    let added = [Arc::new(item())];
    let removed = ["fedcba9876543210fedcba9876543210".to_owned()];
    let failed = crate::Error::NoSuchBucket("media".into());
    let cases: Vec<(ServerMessage, String)> = vec![
        (
            ServerMessage::MediaList {
                generation: 3,
                count: 1,
                items: &items,
            },
            format!("{{\"type\":\"media_list\",\"generation\":3,\"count\":1,\"items\":[{ITEM_JSON}]}}"),
        ),
        (
            ServerMessage::MediaListUnchanged {
                generation: 9,
                count: 1002,
                unchanged: Unchanged,
            },
            "{\"type\":\"media_list\",\"generation\":9,\"count\":1002,\"unchanged\":true}".into(),
        ),
        (
            ServerMessage::MediaListPaged {
                generation: 9,
                count: 1_000_000,
                paged: Paged,
            },
            "{\"type\":\"media_list\",\"generation\":9,\"count\":1000000,\"paged\":true}".into(),
        ),
        (
            ServerMessage::MediaListPage {
                generation: 5,
                count: 7001,
                offset: 7000,
                items: &added,
            },
            format!(
                "{{\"type\":\"media_list_page\",\"generation\":5,\"count\":7001,\"offset\":7000,\
                 \"items\":[{ITEM_JSON}]}}"
            ),
        ),
        (
            ServerMessage::LibraryChanged {
                generation: 4,
                count: 2,
                added: &added,
                removed: &removed,
                changed: &[],
            },
            format!(
                "{{\"type\":\"library_changed\",\"generation\":4,\"count\":2,\"added\":[{ITEM_JSON}],\
                 \"removed\":[\"fedcba9876543210fedcba9876543210\"],\"changed\":[]}}"
            ),
        ),
        (
            ServerMessage::status(Some(&failed)),
            "{\"type\":\"status\",\"ok\":false,\"error\":{\"code\":\"no_such_bucket\",\
             \"message\":\"no such bucket: media\"}}"
                .into(),
        ),
        (
            ServerMessage::status(None),
            "{\"type\":\"status\",\"ok\":true,\"error\":null}".into(),
        ),
        (
            ServerMessage::from((ErrorCode::UnknownType, "unknown message type \"x\"".into())),
            "{\"type\":\"error\",\"code\":\"unknown_type\",\"message\":\"unknown message type \\\"x\\\"\"}"
                .into(),
        ),
        (ServerMessage::Pong, "{\"type\":\"pong\"}".into()),
        (
            ServerMessage::Stats { cache: None },
            "{\"type\":\"stats\",\"cache\":null}".into(),
        ),
        (
            ServerMessage::ScanProgress(ScanProgress {
                running: true,
                done: 120,
                total: 5000,
                failed: 2,
                fetched_bytes: 123_456,
            }),
            "{\"type\":\"scan_progress\",\"running\":true,\"done\":120,\"total\":5000,\
             \"failed\":2,\"fetched_bytes\":123456}"
                .into(),
        ),
    ];
    let mut types = BTreeSet::new();
    for (message, want) in &cases {
        assert_eq!(message.to_json(), *want);
        let value: serde_json::Value = serde_json::from_str(want).expect("json");
        types.insert(value["type"].as_str().expect("type").to_owned());
    }
    // One case per type the server sends, and `TYPES` lists exactly those.
    let listed: BTreeSet<String> = ServerMessage::TYPES.iter().map(|t| t.to_string()).collect();
    assert_eq!(types, listed);
}

#[test]
fn client_messages_have_their_exact_json() {
    let cases = [
        (
            ClientMessage::FetchVideos { generation: None },
            "{\"type\":\"fetch_videos\"}",
        ),
        (
            ClientMessage::FetchVideos {
                generation: Some(7),
            },
            "{\"type\":\"fetch_videos\",\"generation\":7}",
        ),
        (ClientMessage::Ping, "{\"type\":\"ping\"}"),
        (ClientMessage::Stats, "{\"type\":\"stats\"}"),
    ];
    let mut types = BTreeSet::new();
    for (message, json) in cases {
        assert_eq!(serde_json::to_string(&message).expect("json"), json);
        assert_eq!(ClientMessage::parse(json, 4096), Ok(message), "{json}");
        let value: serde_json::Value = serde_json::from_str(json).expect("json");
        types.insert(value["type"].as_str().expect("type").to_owned());
    }
    // The seed's bare text is still a request for the list.
    assert_eq!(
        ClientMessage::parse("fetch_videos", 4096),
        Ok(ClientMessage::FetchVideos { generation: None })
    );
    let listed: BTreeSet<String> = ClientMessage::TYPES.iter().map(|t| t.to_string()).collect();
    assert_eq!(types, listed);
}

#[test]
fn the_error_body_has_its_exact_json_and_status() {
    let body = ErrorBody::from(&crate::Error::NotFound);
    assert_eq!(
        body.to_json(),
        "{\"error\":{\"code\":\"not_found\",\"message\":\"no such media item\"}}"
    );
    assert_eq!(body.http_status(), 404);
    let body = ErrorBody::new(ErrorCode::TooManyRequests, "slow down");
    assert_eq!(
        body.to_json(),
        "{\"error\":{\"code\":\"too_many_requests\",\"message\":\"slow down\"}}"
    );
    assert_eq!(body.http_status(), 429);
    let back: ErrorBody = serde_json::from_str(&body.to_json()).expect("parse");
    assert_eq!(back, body);
}

#[test]
fn codes_serialise_as_their_wire_strings() {
    let mut seen = BTreeSet::new();
    for code in ErrorCode::ALL {
        let json = serde_json::to_string(&code).expect("json");
        assert_eq!(json, format!("\"{}\"", code.as_str()));
        assert_eq!(
            serde_json::from_str::<ErrorCode>(&json).expect("back"),
            code
        );
        assert!(seen.insert(code.as_str()), "{code} twice in ALL");
        assert!((400..600).contains(&code.http_status()), "{code}");
        if let Some((title, help)) = code.help() {
            assert!(
                !title.is_empty() && !title.ends_with('.'),
                "{code}: {title:?}"
            );
            assert!(help.ends_with('.'), "{code}: {help:?}");
        }
    }
    assert_eq!(ErrorCode::WrongHost, "wrong_host");
    assert_eq!(ErrorCode::Busy.http_status(), 503);
}

/// What the README names that the enums do not, and what they hold that it does not name.
fn readme_problems(readme: &str) -> Vec<String> {
    let mut problems = Vec::new();
    // Every `"type":"..."` the README shows is a message type, and every type is shown.
    let shown: BTreeSet<&str> = quoted_after(readme, "\"type\":\"").collect();
    let types: BTreeSet<&str> = ServerMessage::TYPES
        .into_iter()
        .chain(ClientMessage::TYPES)
        .collect();
    for t in shown.difference(&types) {
        problems.push(format!(
            "the README shows a message type {t:?} that does not exist"
        ));
    }
    for t in types.difference(&shown) {
        problems.push(format!("the README never shows {{\"type\":\"{t}\"}}"));
    }
    // Every code the README lists as `"code":"a|b"` exists, and every LAN code is named,
    // either there or in backquotes.
    let listed: BTreeSet<&str> = quoted_after(readme, "\"code\":\"")
        .flat_map(|alts| alts.split('|'))
        .collect();
    for code in &listed {
        if !ErrorCode::ALL.iter().any(|c| c == code) {
            problems.push(format!(
                "the README lists an error code {code:?} that does not exist"
            ));
        }
    }
    for code in ErrorCode::ALL.into_iter().filter(|c| c.on_lan()) {
        let quoted = format!("`{code}`");
        if !listed.contains(code.as_str()) && !readme.contains(&quoted) {
            problems.push(format!("the README never names the error code `{code}`"));
        }
    }
    problems
}

/// The text between `prefix` and the next `"` at each occurrence of `prefix`.
fn quoted_after<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.match_indices(prefix).filter_map(move |(at, _)| {
        let rest = &text[at + prefix.len()..];
        rest.find('"').map(|end| &rest[..end])
    })
}

#[test]
fn readme_check_finds_drift() {
    let good = "`{\"type\":\"media_list\"}` `{\"type\":\"media_list_page\"}` `{\"type\":\"library_changed\"}` \
                {\"type\":\"status\"} {\"type\":\"error\",\"code\":\"malformed|unknown_type\"} \
                {\"type\":\"pong\"} {\"type\":\"stats\"} {\"type\":\"scan_progress\"} {\"type\":\"fetch_videos\"} {\"type\":\"ping\"}";
    let problems = readme_problems(good);
    assert!(
        problems
            .iter()
            .all(|p| p.contains("never names the error code")),
        "{problems:?}"
    );
    assert!(!problems.iter().any(|p| p.contains("`malformed`")));
    assert!(problems.iter().any(|p| p.contains("`wrong_host`")));
    let bad = format!("{good} {{\"type\":\"launch\"}} \"code\":\"explode\"");
    let problems = readme_problems(&bad);
    assert!(
        problems.iter().any(|p| p.contains("\"launch\"")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("\"explode\"")),
        "{problems:?}"
    );
}

/// The README's protocol text against the enums. `BUCKETSTREAM_README` reads another file.
#[test]
fn readme_names_every_message_type_and_code() {
    let path = std::env::var("BUCKETSTREAM_README")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md").to_owned());
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let problems = readme_problems(&readme);
    assert!(problems.is_empty(), "{path}:\n{}", problems.join("\n"));
}

/// `ui/errors.js` as generated from [`ErrorCode::help`].
fn ui_errors_js() -> String {
    let mut out = String::from(
        "// errors.js: GENERATED from crates/core/src/error/code.rs (`ErrorCode::help`); do not edit.\n\
         // To change a text, edit code.rs, then run\n\
         //   BUCKETSTREAM_BLESS=1 cargo test -p bucketstream-core --lib wire::tests::ui_\n\
         // (the test fails while this file differs from what the enum generates).\n\
         \n\
         /** Title and help for the server's (and the desktop shell's) error codes, by code. */\n\
         export const ERROR_HELP = {\n",
    );
    for code in ErrorCode::ALL {
        if let Some((title, help)) = code.help() {
            let json = |s: &str| serde_json::to_string(s).unwrap_or_default();
            out.push_str(&format!("  {code}: [{}, {}],\n", json(title), json(help)));
        }
    }
    out.push_str("};\n");
    out
}

#[test]
fn ui_error_help_is_generated_from_the_enum() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/errors.js");
    let want = ui_errors_js();
    if std::env::var_os("BUCKETSTREAM_BLESS").is_some() {
        std::fs::write(path, &want).expect("write ui/errors.js");
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "ui/errors.js differs from ErrorCode::help; regenerate it with \
         BUCKETSTREAM_BLESS=1 cargo test -p bucketstream-core --lib wire::tests::ui_"
    );
}
