//! Command-level tests on Tauri's mock runtime: the real context (capabilities, app manifest), the real commands.
//!
//! Each test builds [`Desktop`] over a temporary settings file and an in-memory secret store
//! (a test double; the app itself only ever uses the OS keyring), calls commands through
//! `get_ipc_response` as the main window at `tauri://localhost`, and checks that no reply,
//! and no settings file, ever contains the secret.
//!
//! The S3 error codes that need a real server (bad credentials, no such bucket, access
//! denied) run when `BUCKETSTREAM_TEST_S3_ENDPOINT` is set (see `tests/run.sh`, which starts
//! Garage); the rest run everywhere, without a display.

mod support;

use serde_json::{json, Value};
use support::{Harness, MemStore, UnavailableStore, SECRET};

#[test]
fn settings_round_trip_never_returns_the_secret() {
    let store = MemStore::new();
    let h = Harness::new(store.clone());
    let before = h.ok("get_settings", json!({}));
    assert_eq!(before["source"], "local");
    assert_eq!(before["credentials"], "not set");

    let form = json!({ "form": {
        "bucket": "media", "endpoint": "http://127.0.0.1:1", "region": "garage",
        "access_key_id": "GKround", "secret_access_key": SECRET,
    }});
    let saved = h.ok("save_settings", form);
    assert_eq!(saved["source"], "s3");
    assert_eq!(saved["bucket"], "media");
    assert_eq!(saved["credentials"], "set");
    assert_eq!(saved["credentials_from"], "keyring");
    assert_eq!(store.secret_of("default").as_deref(), Some(SECRET));

    let again = h.ok("get_settings", json!({}));
    assert_eq!(again["endpoint"], "http://127.0.0.1:1");
    assert_eq!(again["path_style"], Value::Null);

    let forgotten = h.ok("forget_credentials", json!({}));
    assert_eq!(forgotten["credentials"], "not set");
    assert!(store.secret_of("default").is_none());
    h.assert_secret_never_leaked();
}

#[test]
fn library_and_media_base_match_the_lan_server() {
    let h = Harness::new(MemStore::new());
    let items = h.ok("list_library", json!({}));
    let items = items.as_array().expect("array");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["name"], "tone");
    let base = h.ok("media_base", json!({}));
    let base = base.as_str().expect("string");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let lan = support::http_get(base, "/api/videos");
    assert_eq!(
        serde_json::from_str::<Value>(&lan).expect("json"),
        Value::Array(items.clone())
    );
    let refreshed = h.ok("refresh_library", json!({}));
    assert_eq!(refreshed.as_array().map(Vec::len), Some(1));
}

#[test]
fn lan_switch_restarts_the_server_in_place() {
    let h = Harness::new(MemStore::new());
    let off = h.ok("lan_status", json!({}));
    assert_eq!(off["enabled"], false);
    assert_eq!(off["urls"], json!([]));
    let on = h.ok("set_lan", json!({ "enabled": true, "port": 0 }));
    assert_eq!(on["enabled"], true);
    assert_eq!(on["key_required"], true);
    for url in on["urls"].as_array().expect("urls") {
        let url = url.as_str().unwrap_or("");
        assert!(
            !url.contains("127.0.0.1") && url.contains("/?key="),
            "{url}"
        );
    }
    if on["urls"].as_array().is_some_and(|u| !u.is_empty()) {
        assert!(on["qr_svg"].as_str().is_some_and(|s| s.contains("<svg")));
    }
    let base = h.ok("media_base", json!({}));
    assert!(support::http_get(base.as_str().unwrap_or(""), "/api/health").contains("\"ok\""));
    let off = h.ok("set_lan", json!({ "enabled": false, "port": 0 }));
    assert_eq!(off["enabled"], false);
    assert!(h.config_text().contains("bind = \"127.0.0.1\""));
}

/// The settings file's `[lan]` table reaches the in-process LAN server (here a CORS origin),
/// and switching LAN sharing from the window keeps that table.
#[test]
fn lan_table_of_the_settings_file_applies_and_survives_the_switch() {
    let h = Harness::with_config(
        MemStore::new(),
        "[lan]\ncors_origins = [\"http://tv.example:8000\"]\n",
    );
    let cors = |origin: &str| {
        let base = h.ok("media_base", json!({}));
        let reply = support::http_get_full(
            base.as_str().unwrap_or(""),
            "/api/health",
            &format!("Origin: {origin}\r\n"),
        )
        .to_ascii_lowercase();
        reply.contains("access-control-allow-origin: http://tv.example:8000")
    };
    assert!(cors("http://tv.example:8000"));
    assert!(!cors("http://evil.example"));
    h.ok("set_lan", json!({ "enabled": false, "port": 0 }));
    assert!(
        h.config_text().contains("tv.example"),
        "{}",
        h.config_text()
    );
    assert!(
        cors("http://tv.example:8000"),
        "still applies after the restart"
    );
}

#[test]
fn import_env_moves_the_secret_to_the_keyring() {
    let store = MemStore::new();
    let h = Harness::new(store.clone());
    let env_path = h.dir().join("seed.env");
    let text = format!(
        "BUCKET_NAME=seed-bucket\nAWS_REGION=garage\nAWS_ACCESS_KEY_ID=GKseed\nAWS_SECRET_ACCESS_KEY={SECRET}\nAWS_ENDPOINT_URL=http://127.0.0.1:1\n"
    );
    std::fs::write(&env_path, text).expect("write .env");
    let r = h.ok("import_env", json!({ "source": { "path": env_path } }));
    assert_eq!(r["moved_credentials"], true);
    assert!(
        r["message"]
            .as_str()
            .is_some_and(|m| m.contains("can delete")),
        "{r}"
    );
    assert_eq!(r["settings"]["bucket"], "seed-bucket");
    assert_eq!(store.secret_of("default").as_deref(), Some(SECRET));
    let missing = h.err(
        "import_env",
        json!({ "source": { "path": "/nonexistent/.env" } }),
    );
    assert_eq!(missing["code"], "env_file");
    h.assert_secret_never_leaked();
}

#[test]
fn error_codes_reach_the_ui() {
    let h = Harness::new(MemStore::new());
    let unreachable = h.err(
        "test_connection",
        json!({ "form": { "bucket": "b", "endpoint": "http://127.0.0.1:1",
                          "access_key_id": "GK1", "secret_access_key": SECRET } }),
    );
    assert_eq!(unreachable["code"], "endpoint_unreachable");
    assert!(unreachable["message"]
        .as_str()
        .is_some_and(|m| m.contains("Check the endpoint")));
    let half = h.err(
        "save_settings",
        json!({ "form": { "bucket": "b", "access_key_id": "GK1" } }),
    );
    assert_eq!(half["code"], "config");
    let no_bucket = h.err("save_settings", json!({ "form": { "bucket": " " } }));
    assert_eq!(no_bucket["code"], "config");

    let locked = Harness::new(UnavailableStore);
    let no_keyring = locked.err(
        "save_settings",
        json!({ "form": { "bucket": "b", "access_key_id": "GK1", "secret_access_key": SECRET } }),
    );
    assert_eq!(no_keyring["code"], "no_keyring");
    assert!(no_keyring["message"]
        .as_str()
        .is_some_and(|m| m.contains("AWS profile")));
    let view = locked.ok("get_settings", json!({}));
    assert!(view["keyring_unavailable"]
        .as_str()
        .is_some_and(|m| m.contains("no keyring available")));
    h.assert_secret_never_leaked();
    locked.assert_secret_never_leaked();
}

#[test]
fn s3_error_codes_against_garage() {
    let Some(s3) = support::Garage::from_env() else {
        eprintln!("skipped: BUCKETSTREAM_TEST_S3_ENDPOINT not set (tests/run.sh starts Garage)");
        return;
    };
    let bucket = s3.bucket_with_media("bs-desktop-codes");
    let h = Harness::new(MemStore::new());
    let form = |bucket: &str, id: &str, secret: &str| {
        json!({ "form": { "bucket": bucket, "endpoint": s3.endpoint, "region": s3.region,
                          "access_key_id": id, "secret_access_key": secret } })
    };
    let ok = h.ok("test_connection", form(&bucket, &s3.key_id, &s3.secret));
    assert_eq!(ok["media"], 1, "{ok}");
    let bad = h.err(
        "test_connection",
        form(&bucket, &s3.key_id, "not-the-secret"),
    );
    assert_eq!(bad["code"], "bad_credentials", "{bad}");
    let unknown_key = h.err(
        "test_connection",
        form(&bucket, "GK0000000000000000000000", SECRET),
    );
    assert_eq!(unknown_key["code"], "bad_credentials", "{unknown_key}");
    let missing = h.err(
        "test_connection",
        form("no-such-bucket-here", &s3.key_id, &s3.secret),
    );
    assert_eq!(missing["code"], "no_such_bucket", "{missing}");
    if let (Some((id, secret)), true) = (&s3.denied, s3.allow_write_only(&bucket)) {
        let denied = h.err("test_connection", form(&bucket, id, secret));
        assert_eq!(denied["code"], "access_denied", "{denied}");
    }
    // Saving switches the library to the bucket; its item appears after a refresh.
    h.ok("save_settings", form(&bucket, &s3.key_id, &s3.secret));
    let items = h.ok("refresh_library", json!({}));
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
    h.assert_secret_never_leaked();
}

#[test]
fn remote_origins_and_unknown_commands_are_refused() {
    let h = Harness::new(MemStore::new());
    let remote = h.raw("get_settings", json!({}), "https://evil.example/");
    assert!(remote.is_err(), "a remote origin got IPC: {remote:?}");
    let unknown = h.raw(
        "plugin:fs|read_file",
        json!({ "path": "/etc/passwd" }),
        "tauri://localhost",
    );
    assert!(unknown.is_err(), "{unknown:?}");
}

/// The owner's commands: a rename and a delete reach the folder and the list; a hostile name
/// and an invalid bucket name are refused with their codes, nothing touched.
#[test]
fn move_delete_and_create_bucket_commands() {
    let h = Harness::new(MemStore::new());
    let media = h.dir().join("media");
    let items = h.ok("list_library", json!({}));
    let id = items[0]["id"].as_str().expect("id").to_owned();

    let bad = h.err(
        "move_item",
        json!({ "id": id, "folder": "..", "name": "tone.mp3" }),
    );
    assert_eq!(bad["code"], "name_invalid", "{bad}");
    assert!(media.join("tone.mp3").exists());

    let moved = h.ok(
        "move_item",
        json!({ "id": id, "folder": "Tones", "name": "a4.mp3" }),
    );
    assert_eq!(moved["key"], "Tones/a4.mp3");
    assert!(media.join("Tones/a4.mp3").exists() && !media.join("tone.mp3").exists());
    let items = h.ok("list_library", json!({}));
    assert_eq!(items[0]["key"], "Tones/a4.mp3");

    let new_id = moved["id"].as_str().expect("id").to_owned();
    h.ok("delete_item", json!({ "id": new_id }));
    assert!(!media.join("Tones/a4.mp3").exists());
    assert_eq!(h.ok("list_library", json!({})), json!([]));
    assert_eq!(
        h.err("delete_item", json!({ "id": new_id }))["code"],
        "not_found"
    );

    // Refused before any request (the endpoint does not even answer).
    let form = json!({ "form": {
        "bucket": "Bad_Name", "endpoint": "http://127.0.0.1:1", "region": "garage",
        "access_key_id": "GKx", "secret_access_key": SECRET,
    }});
    let err = h.err("create_bucket", form);
    assert_eq!(err["code"], "bucket_name_invalid", "{err}");
    h.assert_secret_never_leaked();
}

/// The Subsonic sign-in set from the window: stored in `store` under `subsonic`, `/rest/ping`
/// then signs in with it; cleared, `/rest` is off (error 50) and the entry is gone. DLNA's
/// switch lands in the settings file and the server answers `/dlna` only while it is on.
/// `stored` reads the keyring entry's password back (through the store, not the app).
fn subsonic_and_dlna_from_the_window(
    store: impl bucketstream_core::secret::SecretStore + 'static,
    stored: impl Fn() -> Option<String>,
) {
    let h = Harness::new(store);
    let ping = |password: &str| {
        let base = h.ok("media_base", json!({}));
        let body = support::http_get(
            base.as_str().unwrap_or(""),
            &format!("/rest/ping?u=ann&p={password}&v=1.16.1&c=t&f=json"),
        );
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("json: {body}"));
        v["subsonic-response"].clone()
    };
    let off = h.ok("lan_status", json!({}));
    assert_eq!(
        (off["subsonic_user"].clone(), off["dlna"].clone()),
        (Value::Null, json!(false))
    );
    assert_eq!(
        ping(SECRET)["error"]["code"],
        50,
        "off until a password is set"
    );

    let on = h.ok(
        "set_subsonic",
        json!({ "user": " ann ", "password": SECRET }),
    );
    assert_eq!(on["subsonic_user"], "ann");
    assert_eq!(
        stored().as_deref(),
        Some(SECRET),
        "the password is in the keyring"
    );
    assert_eq!(ping(SECRET)["status"], "ok");
    assert_eq!(ping("wrong")["error"]["code"], 40);

    // Bad input: refused with the config code, the sign-in kept.
    let err = h.err("set_subsonic", json!({ "user": "", "password": "x" }));
    assert_eq!(err["code"], "config", "{err}");
    let err = h.err("set_subsonic", json!({ "user": "ann", "password": "" }));
    assert_eq!(err["code"], "config", "{err}");
    assert_eq!(ping(SECRET)["status"], "ok", "still on");

    // An API key for apps that sign in without a password: shown once, kept in the keyring.
    let with_key = |key: &str| {
        let base = h.ok("media_base", json!({}));
        let body = support::http_get(
            base.as_str().unwrap_or(""),
            &format!("/rest/ping?apiKey={key}&v=1.16.1&c=t&f=json"),
        );
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("json: {body}"));
        v["subsonic-response"].clone()
    };
    assert_eq!(h.ok("lan_status", json!({}))["subsonic_api_key"], false);
    let key = h.ok("new_subsonic_api_key", json!({}));
    let key = key.as_str().expect("the key").to_owned();
    assert!(
        key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "{key}"
    );
    assert_eq!(h.ok("lan_status", json!({}))["subsonic_api_key"], true);
    assert_eq!(with_key(&key)["status"], "ok");
    assert_eq!(ping(SECRET)["status"], "ok", "the password still works");
    let newer = h.ok("new_subsonic_api_key", json!({}));
    assert_ne!(
        newer.as_str(),
        Some(key.as_str()),
        "a new key replaces the old"
    );
    assert_eq!(
        with_key(&key)["error"]["code"],
        44,
        "the old key no longer works"
    );
    let forgot = h.ok("forget_subsonic_api_key", json!({}));
    assert_eq!(forgot["subsonic_api_key"], false);
    // Without a key the mechanism is not offered at all (OpenSubsonic's error 42).
    assert_eq!(
        with_key(newer.as_str().unwrap_or(""))["error"]["code"],
        42,
        "no key after forgetting it"
    );

    let dlna = h.ok("set_dlna", json!({ "enabled": true }));
    assert_eq!(dlna["dlna"], true);
    assert!(
        h.config_text().contains("dlna = true"),
        "{}",
        h.config_text()
    );
    let base = h.ok("media_base", json!({}));
    let device = support::http_get_full(base.as_str().unwrap_or(""), "/dlna/device.xml", "");
    assert!(device.starts_with("HTTP/1.1 200"), "{device}");
    assert_eq!(
        ping(SECRET)["status"],
        "ok",
        "the sign-in survives the restart"
    );
    let dlna = h.ok("set_dlna", json!({ "enabled": false }));
    assert_eq!(dlna["dlna"], false);
    let base = h.ok("media_base", json!({}));
    let device = support::http_get_full(base.as_str().unwrap_or(""), "/dlna/device.xml", "");
    assert!(device.starts_with("HTTP/1.1 404"), "{device}");

    let cleared = h.ok("set_subsonic", json!({ "user": "ann", "password": null }));
    assert_eq!(cleared["subsonic_user"], Value::Null);
    assert_eq!(stored(), None, "the keyring entry is gone");
    assert_eq!(ping(SECRET)["error"]["code"], 50, "off again");
    let err = h.err("new_subsonic_api_key", json!({}));
    assert_eq!(err["code"], "config", "no key while the API is off: {err}");
    h.assert_secret_never_leaked();
}

#[test]
fn subsonic_and_dlna_switch_from_the_window() {
    let store = MemStore::new();
    let read = store.clone();
    subsonic_and_dlna_from_the_window(store, move || read.secret_of("subsonic"));
}

/// The same against a real Secret Service (gnome-keyring under `dbus-run-session`, started by
/// `tests/run-keyring.sh` with `BUCKETSTREAM_SECRET_SERVICE_TEST=1`), through the app's own
/// keyring store under a test service name.
#[test]
fn subsonic_password_in_the_real_keyring() {
    if std::env::var("BUCKETSTREAM_SECRET_SERVICE_TEST").map_or(true, |v| v != "1") {
        eprintln!("skipped: set BUCKETSTREAM_SECRET_SERVICE_TEST=1 under a Secret Service");
        return;
    }
    use bucketstream_core::secret::SecretStore;
    let store = bucketstream_keyring::KeyringStore::new("bucketstream-desktop-test");
    store.forget("subsonic").expect("a clean entry");
    let read = store.clone();
    subsonic_and_dlna_from_the_window(store, move || {
        read.load("subsonic")
            .expect("keyring readable")
            .map(|c| c.secret_access_key.expose().clone())
    });
}

/// The window's player keeps resume positions on its in-process server: a cross-origin `PUT`
/// from `tauri://localhost` after a CORS preflight that allows it, then read back.
#[test]
fn the_window_saves_resume_positions_on_its_server() {
    let h = Harness::new(MemStore::new());
    let items = h.ok("list_library", json!({}));
    let id = items[0]["id"].as_str().expect("an item id").to_owned();
    let base = h.ok("media_base", json!({}));
    let base = base.as_str().expect("media base").to_owned();
    let host = base.trim_start_matches("http://").to_owned();
    let send = |request: String| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&host).expect("connect");
        stream.write_all(request.as_bytes()).expect("request");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("reply");
        reply
    };
    let path = format!("/api/items/{id}/position");
    let preflight = send(format!(
        "OPTIONS {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: tauri://localhost\r\n\
         Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: content-type\r\n\
         Connection: close\r\n\r\n"
    ));
    let lower = preflight.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 204"), "{preflight}");
    assert!(
        lower
            .lines()
            .any(|l| l.starts_with("access-control-allow-methods:") && l.contains("put")),
        "{preflight}"
    );
    let body = r#"{"position_ms": 4200}"#;
    let put = send(format!(
        "PUT {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: tauri://localhost\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(put.starts_with("HTTP/1.1 200"), "{put}");
    assert!(
        put.to_ascii_lowercase()
            .contains("access-control-allow-origin: tauri://localhost"),
        "{put}"
    );
    let read = support::http_get(&base, &path);
    let v: Value = serde_json::from_str(&read).expect("json");
    assert_eq!(v["position_ms"], 4200, "{read}");
}
