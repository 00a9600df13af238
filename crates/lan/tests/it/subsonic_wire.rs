//! The OpenSubsonic API (`/rest`) by hand and through `subsonic-api` from npm: XML by default,
//! errors in the envelope (missing parameters, unknown ids and methods), API keys, the sign-in
//! limit after ten wrong passwords, the API off without a password; and the npm client
//! browsing, streaming and editing a playlist. The library and server are
//! [`crate::subsonic`]'s.

use std::path::Path;
use std::process::Command;

use bucketstream_core::config::SubsonicAccount;
use bucketstream_core::secret::Sensitive;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::http;
use crate::subsonic::{fixtures, start, Running, PASSWORD, USER};

const API_KEY: &str = "k3y-for-apps";

#[tokio::test]
async fn xml_by_default_errors_in_the_envelope_and_off_without_a_password() {
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    std::fs::write(root.path().join("a.mp3"), b"not really").expect("file");
    let account = SubsonicAccount {
        user: USER.into(),
        password: Sensitive::new(PASSWORD.into()),
        api_key: Some(Sensitive::new(API_KEY.into())),
    };
    let on = start(root.path(), data.path(), Some(account), false).await;
    let get = |server: &Running, q: &str| {
        let url = format!("http://{}/rest/{q}", server.addr);
        async move {
            let r = http().get(url).send().await.expect("get");
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            (r.status().as_u16(), ct, r.text().await.expect("text"))
        }
    };
    let p = format!("enc:{}", hex::encode(PASSWORD));
    let (status, ct, body) = get(&on, &format!("ping.view?u={USER}&p={p}&v=1.16.1&c=t")).await;
    assert_eq!((status, ct.as_str()), (200, "text/xml; charset=utf-8"));
    assert!(
        body.contains("status=\"ok\"") && body.contains("xmlns=\"http://subsonic.org/restapi\""),
        "{body}"
    );
    // OpenSubsonic's apiKeyAuthentication: offered, accepted, and its errors.
    let (_, _, body) = get(
        &on,
        &format!("getOpenSubsonicExtensions?apiKey={API_KEY}&f=json"),
    )
    .await;
    assert!(body.contains("\"apiKeyAuthentication\""), "{body}");
    let (_, _, body) = get(&on, "ping?apiKey=wrong&f=json").await;
    assert!(body.contains("\"code\":44"), "{body}");
    let (_, _, body) = get(&on, &format!("ping?apiKey={API_KEY}&u={USER}&f=json")).await;
    assert!(body.contains("\"code\":43"), "{body}");
    let (_, _, body) = get(&on, "ping?p=x&f=json").await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["subsonic-response"]["error"]["code"], 10, "{body}");
    let (_, _, body) = get(&on, &format!("getAlbum?u={USER}&p={p}&f=json")).await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["subsonic-response"]["error"]["code"], 10, "{body}");
    let (_, _, body) = get(&on, &format!("getAlbum?u={USER}&p={p}&f=json&id=nope")).await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["subsonic-response"]["error"]["code"], 70, "{body}");
    let (_, _, body) = get(&on, &format!("noSuchMethod?u={USER}&p={p}&f=json")).await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["subsonic-response"]["error"]["code"], 70, "{body}");
    // Ten wrong passwords, then even the right one waits.
    for _ in 0..10 {
        let (_, _, body) = get(&on, &format!("ping?u={USER}&p=wrong&f=json")).await;
        assert!(body.contains("\"code\":40"), "{body}");
    }
    let (_, _, body) = get(&on, &format!("ping?u={USER}&p={p}&f=json")).await;
    assert!(body.contains("too many failed sign-ins"), "{body}");
    drop(on);

    let off = start(root.path(), data.path(), None, false).await;
    let (_, _, body) = get(&off, &format!("ping?u={USER}&p={p}&f=json")).await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["subsonic-response"]["error"]["code"], 50, "{body}");
}

/// The same library through `subsonic-api` from npm (`tests/browser/subsonic-client.mjs`;
/// installed with the browser tests' packages by `scripts/setup.sh --test`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_npm_subsonic_api_client_browses_streams_and_edits() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(
        repo.join("tests/browser/node_modules/subsonic-api")
            .exists(),
        "subsonic-api is missing: run scripts/setup.sh --test"
    );
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    fixtures(root.path());
    let account = SubsonicAccount {
        user: USER.into(),
        password: Sensitive::new(PASSWORD.into()),
        api_key: Some(Sensitive::new(API_KEY.into())),
    };
    let server = start(root.path(), data.path(), Some(account), true).await;
    let url = format!("http://{}", server.addr);
    let script = repo.join("tests/browser/subsonic-client.mjs");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args([url.as_str(), USER, PASSWORD, API_KEY])
            .output()
            .expect("run node (the test command installs it)")
    })
    .await
    .expect("join");
    let seen = crate::subsonic::printed_json(&out);
    assert_eq!(seen["ping"], "ok");
    assert_eq!(seen["folders"], serde_json::json!(["Music"]));
    assert_eq!(seen["index"], serde_json::json!(["Films", "Jazz", "Rock"]));
    assert_eq!(seen["rock"], serde_json::json!(["The Beatles"]));
    assert_eq!(
        seen["artists"],
        serde_json::json!(["The Beatles", "Miles Davis"])
    );
    assert_eq!(
        seen["album"],
        serde_json::json!({"name": "Abbey Road", "songs": ["Come Together"]})
    );
    assert_eq!(seen["search"], serde_json::json!(["Come Together"]));
    assert_eq!(seen["stream_status"], 200);
    let path = seen["stream_path"].as_str().expect("path");
    let bytes = std::fs::read(root.path().join(path)).expect("song file");
    assert_eq!(seen["stream_sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(
        seen["playlist"],
        serde_json::json!({"name": "From node", "songCount": 1})
    );
    assert_eq!(seen["playlists_after"], 0);
    assert_eq!(
        seen["wrong"],
        serde_json::json!({"status": "failed", "code": 40})
    );
}
