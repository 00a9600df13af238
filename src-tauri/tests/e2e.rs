//! End-to-end test of the real webview: tauri-driver + WebKitWebDriver drive the built app under Xvfb.
//!
//! Runs only when `BUCKETSTREAM_E2E_WEBDRIVER` names the tauri-driver URL (set by
//! `tests/run.sh`, which starts Garage, Xvfb, a session bus with gnome-keyring, and
//! tauri-driver, with a throwaway HOME). The app starts on the local sample folder; the test
//! sees that library, opens the settings page, types the Garage bucket and key into the form,
//! saves, and waits for the bucket's item to replace the samples; then it turns the Subsonic API
//! on (user and password typed into the settings view) and off again, signing in over `/rest`
//! each time. Every IPC and HTTP reply it sees is written to `BUCKETSTREAM_E2E_CAPTURE` for the
//! leak grep that follows.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A minimal W3C WebDriver client over std's TCP (one request per connection).
struct Driver {
    host: String,
    session: String,
}

fn http(host: &str, method: &str, path: &str, body: Option<&Value>) -> Value {
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut stream = std::net::TcpStream::connect(host).expect("connect to tauri-driver");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
    .expect("request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("response");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    if body.trim().is_empty() {
        eprintln!("e2e: empty reply from {path}: {head}");
        return Value::Null;
    }
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON from {path}: {head}\n{body}"))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Driver {
    fn start(url: &str, app: &str) -> Driver {
        let host = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let caps = json!({ "capabilities": { "alwaysMatch": { "tauri:options": { "application": app } } } });
        let reply = http(&host, "POST", "/session", Some(&caps));
        let session = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {reply}"))
            .to_owned();
        Driver { host, session }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let full = format!("/session/{}{path}", self.session);
        let mut reply = http(&self.host, method, &full, body.as_ref());
        for _ in 0..5 {
            // tauri-driver answers an empty body when its upstream call failed: retry.
            if !reply.is_null() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
            reply = http(&self.host, method, &full, body.as_ref());
        }
        if reply["value"]["error"].is_string() {
            panic!("webdriver {path}: {reply}");
        }
        reply["value"].clone()
    }

    /// Runs `script` in the page (a returned promise is awaited).
    fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    fn invoke(&self, cmd: &str, args: Value) -> Value {
        let v = self.js(
            "return window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(r => ({ok: r}), e => ({err: e}));",
            json!([cmd, args]),
        );
        capture(&v.to_string());
        v
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    /// Types `text` into `css` with real key events, checking the result (a retried
    /// request could have typed twice).
    fn type_into(&self, css: &str, text: &str) {
        for _ in 0..3 {
            let id = self.find(css);
            self.cmd("POST", &format!("/element/{id}/clear"), Some(json!({})));
            self.cmd(
                "POST",
                &format!("/element/{id}/value"),
                Some(json!({ "text": text })),
            );
            let matches = self.js(
                "return document.querySelector(arguments[0]).value === arguments[1];",
                json!([css, text]),
            );
            if matches == json!(true) {
                return;
            }
        }
        panic!("could not type into {css}");
    }

    fn screenshot(&self, name: &str) {
        if let Ok(dir) = std::env::var("BUCKETSTREAM_E2E_ARTIFACTS") {
            if let Some(b64) = self.cmd("GET", "/screenshot", None).as_str() {
                let _ = std::fs::write(format!("{dir}/{name}.b64"), b64);
            }
        }
    }

    /// Scrolls `css` into view and clicks it (a DOM click: the player's bars may cover it).
    fn click(&self, css: &str) {
        let ok = self.js(
            "const b = document.querySelector(arguments[0]); if (!b) return false; b.scrollIntoView({block: 'center'}); b.click(); return true;",
            json!([css]),
        );
        assert_eq!(ok, json!(true), "no element {css}");
    }

    fn wait_for<T>(&self, what: &str, mut probe: impl FnMut(&Driver) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(v) = probe(self) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(
            &self.host,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }
}

/// Appends a reply to the capture file the leak grep reads.
fn capture(text: &str) {
    if let Ok(path) = std::env::var("BUCKETSTREAM_E2E_CAPTURE") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{text}");
        }
    }
}

fn names(items: &Value) -> Vec<String> {
    items["ok"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn window_plays_local_then_switches_to_the_bucket() {
    let Ok(url) = std::env::var("BUCKETSTREAM_E2E_WEBDRIVER") else {
        eprintln!("skipped: BUCKETSTREAM_E2E_WEBDRIVER not set (tests/run.sh sets it)");
        return;
    };
    let s3 = support::Garage::from_env().expect("Garage environment (tests/run.sh)");
    let bucket = s3.bucket_with_media("bs-e2e");
    let app = env!("CARGO_BIN_EXE_bucketstream-desktop");
    let started = Instant::now();
    let d = Driver::start(&url, app);

    // The window opens on the local samples.
    let local = d.wait_for("the local library", |d| {
        let items = d.invoke("list_library", json!({}));
        let n = names(&items);
        (!n.is_empty()).then_some(n)
    });
    eprintln!(
        "e2e: session + first list in {:?}: {local:?}",
        started.elapsed()
    );
    let base = d.invoke("media_base", json!({}));
    let base = base["ok"].as_str().expect("media base").to_owned();
    capture(&support::http_get(&base, "/api/videos"));
    capture(&support::http_get(&base, "/api/health"));
    // A media element in the page loads an item from the in-process server (CSP media-src,
    // loopback, byte ranges): its metadata (duration) must arrive.
    let loaded = d.js(
        "const base = arguments[0]; \
         return window.__TAURI_INTERNALS__.invoke('list_library').then(items => new Promise(done => { \
           const item = items.find(i => i.kind === 'audio') || items[0]; \
           const a = new Audio(); a.preload = 'metadata'; a.muted = true; \
           a.onloadedmetadata = () => done(['ok', a.duration]); \
           a.onerror = () => done(['error', a.error && a.error.code]); \
           setTimeout(() => done(['timeout', a.readyState]), 15000); \
           a.src = base + item.url; }));",
        json!([base]),
    );
    assert_eq!(
        loaded[0], "ok",
        "media element could not load from the media server: {loaded}"
    );
    assert!(loaded[1].as_f64().is_some_and(|d| d > 0.5), "{loaded}");
    d.screenshot("window");
    // The player's subtitles: "Test pattern.en.srt" beside the sample video becomes a track
    // (fetched from the in-process server, another origin, and given to the <track> as a
    // blob: URL) whose cue the window reads.
    let cue = d.wait_for("the sample video's subtitle cue", |d| {
        let v = d.js(
            "const row = [...document.querySelectorAll('.layer [data-id] .row-name')]                .find(e => e.textContent === 'Test pattern');              if (!row) return null;              const m = document.querySelector('#media');              if (document.querySelector('#now-title').textContent !== 'Test pattern') {                row.closest('.row-main').click(); return null; }              m.muted = true;              const t = m.querySelector('track');              if (!t) return null;              t.track.mode = 'showing';              const cues = t.track.cues ? [...t.track.cues].map(c => c.text) : [];              return cues.length ? [t.getAttribute('src').slice(0, 5), t.srclang, cues[0]] : null;",
            json!([]),
        );
        (!v.is_null()).then_some(v)
    });
    eprintln!("e2e: subtitle track {cue}");
    assert_eq!(
        cue,
        json!(["blob:", "en", "A test pattern, with subtitles"]),
        "{cue}"
    );
    d.js(
        "document.querySelector('#media').pause(); return null;",
        json!([]),
    );
    // A transcoded stream from the window: the page reads where it starts (X-Start, exposed to
    // the window's origin by CORS), as the player does to place its seek bar.
    let started = d.js(
        "const base = arguments[0]; \
         return window.__TAURI_INTERNALS__.invoke('list_library').then(items => { \
           const item = items.find(i => i.name === 'Test pattern'); \
           const ctl = new AbortController(); \
           return fetch(base + '/transcode/' + item.id + '?mode=remux&start=2', { signal: ctl.signal }) \
             .then(r => { const got = [r.status, r.headers.get('x-start')]; ctl.abort(); return got; }) \
             .catch(e => ['error', String(e)]); });",
        json!([base]),
    );
    eprintln!("e2e: transcode from the window {started}");
    assert_eq!(started[0], 200, "{started}");
    let x_start: f64 = started[1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no X-Start the window can read: {started}"));
    assert!((0.0..=2.0).contains(&x_start), "{started}");

    // Settings: the player's gear button shows the view; without a player, its own page.
    let has_button = d.js(
        "const b = document.querySelector('#settings-btn'); return !!b && !b.hidden;",
        json!([]),
    );
    if has_button == json!(true) {
        let gear = d.find("#settings-btn");
        d.cmd("POST", &format!("/element/{gear}/click"), Some(json!({})));
    } else {
        d.cmd(
            "POST",
            "/url",
            Some(json!({ "url": "tauri://localhost/desktop/index.html" })),
        );
    }
    d.wait_for("the settings form", |d| {
        let v = d.js("return !!document.querySelector('#bs-bucket') && document.querySelector('#bs-credentials-state').textContent", json!([]));
        v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
    });
    d.type_into("#bs-bucket", &bucket);
    d.type_into("#bs-endpoint", &s3.endpoint);
    d.type_into("#bs-region", &s3.region);
    d.type_into("#bs-access-key-id", &s3.key_id);
    d.type_into("#bs-secret", &s3.secret);
    d.click("#bs-test");
    let tested = d.wait_for("the connection test", |d| {
        let v = d.js("const m = document.querySelector('#bs-message'); return m.dataset.code ? [m.dataset.code, m.textContent] : null;", json!([]));
        v.as_array().cloned()
    });
    capture(&Value::Array(tested.clone()).to_string());
    assert_eq!(tested[0], "connected", "{tested:?}");
    d.click("#bs-save");
    let saved = d.wait_for("the save", |d| {
        let v = d.js("const m = document.querySelector('#bs-message'); return m.dataset.code && m.dataset.code !== 'connected' && m.dataset.kind !== 'busy' ? [m.dataset.code, m.textContent, document.querySelector('#bs-credentials-state').textContent, document.querySelector('#bs-secret').value] : null;", json!([]));
        v.as_array().cloned()
    });
    capture(&Value::Array(saved.clone()).to_string());
    assert_eq!(saved[0], "saved", "{saved:?}");
    assert!(
        saved[2].as_str().is_some_and(|s| s.contains("set")),
        "{saved:?}"
    );
    assert_eq!(saved[3], "", "the secret field is cleared after saving");

    // The bucket's item replaces the samples.
    let remote = d.wait_for("the bucket's items", |d| {
        let items = d.invoke("refresh_library", json!({}));
        let n = names(&items);
        (n == ["song"]).then_some(n)
    });
    eprintln!("e2e: bucket items {remote:?}");
    d.screenshot("settings");
    let settings = d.invoke("get_settings", json!({}));
    assert_eq!(settings["ok"]["credentials"], "set");
    assert_eq!(settings["ok"]["bucket"], bucket.as_str());
    let base = d.invoke("media_base", json!({}));
    let base = base["ok"].as_str().expect("media base").to_owned();
    capture(&support::http_get(&base, "/api/videos"));
    capture(&support::http_get(&base, "/api/health"));
    capture(&d.invoke("lan_status", json!({})).to_string());

    // Subsonic apps from the settings view: a password (containing the test secret, so the
    // leak grep also covers it) turns /rest on; "Turn off" turns it off again.
    let password = format!("{}-subsonic", s3.secret);
    let enc: String = password.bytes().map(|b| format!("{b:02x}")).collect();
    let ping = |base: &str| {
        let body = support::http_get(
            base,
            &format!("/rest/ping?u=owner&p=enc:{enc}&v=1.16.1&c=e2e&f=json"),
        );
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        v["subsonic-response"].clone()
    };
    assert_eq!(
        ping(&base)["error"]["code"],
        50,
        "off until a password is set"
    );
    // The card sits below the LAN card: in view first, or WebKit calls it not interactable.
    d.js(
        "document.querySelector('#bs-apps').scrollIntoView({block: 'center'}); return true;",
        json!([]),
    );
    d.type_into("#bs-subsonic-user", "owner");
    d.type_into("#bs-subsonic-password", &password);
    d.click("#bs-subsonic-on");
    let on = d.wait_for("Subsonic on", |d| {
        let v = d.js("const s = document.querySelector('#bs-subsonic-state'); return s.dataset.on === 'true' ? [s.textContent, document.querySelector('#bs-subsonic-password').value] : null;", json!([]));
        v.as_array().cloned()
    });
    capture(&Value::Array(on.clone()).to_string());
    assert_eq!(on[1], "", "the password field is cleared");
    let base = d.invoke("media_base", json!({}));
    let base = base["ok"].as_str().expect("media base").to_owned();
    assert_eq!(
        ping(&base)["status"],
        "ok",
        "signed in with the password set in the window"
    );
    // An API key made in the window: shown once, accepted by /rest, then removed.
    let with_key = |base: &str, key: &str| {
        let body = support::http_get(
            base,
            &format!("/rest/ping?apiKey={key}&v=1.16.1&c=e2e&f=json"),
        );
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        v["subsonic-response"].clone()
    };
    d.click("#bs-subsonic-key-new");
    let key = d.wait_for("an API key shown", |d| {
        let v = d.js(
            "const k = document.querySelector('#bs-subsonic-key'); \
             const on = document.querySelector('#bs-subsonic-key-state').dataset.on === 'true'; \
             return on && !k.hidden && k.value.length === 64 ? k.value : null;",
            json!([]),
        );
        v.as_str().map(str::to_owned)
    });
    let base = d.invoke("media_base", json!({}));
    let base = base["ok"].as_str().expect("media base").to_owned();
    assert_eq!(
        with_key(&base, &key)["status"],
        "ok",
        "signed in with the key"
    );
    d.click("#bs-subsonic-key-off");
    d.wait_for("the API key removed", |d| {
        let v = d.js(
            "return (document.querySelector('#bs-subsonic-key-state').dataset.on === 'false' \
             && document.querySelector('#bs-subsonic-key').hidden) || null;",
            json!([]),
        );
        v.as_bool()
    });
    let base = d.invoke("media_base", json!({}));
    let base = base["ok"].as_str().expect("media base").to_owned();
    assert_eq!(
        with_key(&base, &key)["error"]["code"],
        42,
        "no key any more"
    );
    d.click("#bs-subsonic-off");
    d.wait_for("Subsonic off", |d| {
        let v = d.js(
            "return document.querySelector('#bs-subsonic-state').dataset.on === 'false' || null;",
            json!([]),
        );
        v.as_bool()
    });
    let base = d.invoke("media_base", json!({}));
    let base = base["ok"].as_str().expect("media base").to_owned();
    assert_eq!(ping(&base)["error"]["code"], 50, "off again");
}
