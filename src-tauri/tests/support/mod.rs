//! Test support: a mock-runtime app over a temporary settings folder, secret-store doubles, Garage helpers.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bucketstream_core::config::Defaults;
use bucketstream_core::secret::{Credentials, SecretError, SecretStore};
use bucketstream_desktop::{builder, context, Desktop, Options};
use bucketstream_lan::MemoryKeyStore;
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

/// The secret every test types; it must never come back.
pub const SECRET: &str = "SECRET-never-shown-4c1d2e";

/// An in-memory secret store: a test double standing in for the OS keyring.
#[derive(Clone, Default)]
pub struct MemStore(Arc<Mutex<HashMap<String, Credentials>>>);

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }
    /// The stored secret for `account`.
    pub fn secret_of(&self, account: &str) -> Option<String> {
        let map = self.0.lock().ok()?;
        map.get(account)
            .map(|c| c.secret_access_key.expose().clone())
    }
}

impl SecretStore for MemStore {
    fn load(&self, account: &str) -> Result<Option<Credentials>, SecretError> {
        let map = self
            .0
            .lock()
            .map_err(|e| SecretError::Store(e.to_string()))?;
        Ok(map.get(account).cloned())
    }
    fn save(&self, account: &str, creds: &Credentials) -> Result<(), SecretError> {
        let mut map = self
            .0
            .lock()
            .map_err(|e| SecretError::Store(e.to_string()))?;
        map.insert(account.to_owned(), creds.clone());
        Ok(())
    }
    fn forget(&self, account: &str) -> Result<(), SecretError> {
        let mut map = self
            .0
            .lock()
            .map_err(|e| SecretError::Store(e.to_string()))?;
        map.remove(account);
        Ok(())
    }
}

/// A machine with no keyring.
pub struct UnavailableStore;

impl SecretStore for UnavailableStore {
    fn load(&self, _: &str) -> Result<Option<Credentials>, SecretError> {
        Err(SecretError::Unavailable(
            "no Secret Service on the session bus".into(),
        ))
    }
    fn save(&self, _: &str, _: &Credentials) -> Result<(), SecretError> {
        Err(SecretError::Unavailable(
            "no Secret Service on the session bus".into(),
        ))
    }
    fn forget(&self, _: &str) -> Result<(), SecretError> {
        Err(SecretError::Unavailable(
            "no Secret Service on the session bus".into(),
        ))
    }
}

/// A mock-runtime app with the real commands, context and capabilities.
pub struct Harness {
    app: tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
    dir: tempfile::TempDir,
    replies: RefCell<Vec<String>>,
}

impl Harness {
    pub fn new(store: impl SecretStore + 'static) -> Harness {
        Harness::with_config(store, "")
    }

    /// Like [`Harness::new`], with `extra` appended to the settings file.
    pub fn with_config(store: impl SecretStore + 'static, extra: &str) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let media = dir.path().join("media");
        std::fs::create_dir_all(&media).expect("media dir");
        std::fs::write(media.join("tone.mp3"), vec![0u8; 4096]).expect("media file");
        let config_file = dir.path().join("config/bucketstream/config.toml");
        std::fs::create_dir_all(config_file.parent().expect("parent")).expect("config dir");
        std::fs::write(
            &config_file,
            format!("bind = \"127.0.0.1\"\nport = 0\n{extra}"),
        )
        .expect("config");
        let opts = Options {
            config_file,
            // Tests turn LAN sharing on (0.0.0.0): no mDNS multicast beyond loopback.
            env: HashMap::from([("BUCKETSTREAM_MDNS".to_owned(), "false".to_owned())]),
            defaults: Defaults {
                media_dirs: vec![media],
                ..Defaults::default()
            },
            secrets: Arc::new(store),
            lan_keys: Some(Arc::new(MemoryKeyStore::default())),
        };
        let desktop = tauri::async_runtime::block_on(Desktop::start(opts)).expect("desktop starts");
        let app = builder(mock_builder(), desktop)
            .build(context())
            .expect("app builds");
        let webview = match app.get_webview_window("main") {
            Some(w) => w,
            None => WebviewWindowBuilder::new(&app, "main", Default::default())
                .build()
                .expect("main window"),
        };
        Harness {
            app,
            webview,
            dir,
            replies: RefCell::new(Vec::new()),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("config/bucketstream/config.toml"))
            .unwrap_or_default()
    }

    /// Invokes `cmd` as a frame at `url`; every reply is kept for the leak check.
    pub fn raw(&self, cmd: &str, args: Value, url: &str) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: url.parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        let res = get_ipc_response(&self.webview, request)
            .map(|body| body.deserialize::<Value>().expect("json reply"));
        let text = match &res {
            Ok(v) | Err(v) => v.to_string(),
        };
        self.replies.borrow_mut().push(text);
        res
    }

    pub fn ok(&self, cmd: &str, args: Value) -> Value {
        match self.raw(cmd, args, "tauri://localhost") {
            Ok(v) => v,
            Err(e) => panic!("{cmd} failed: {e}"),
        }
    }

    pub fn err(&self, cmd: &str, args: Value) -> Value {
        match self.raw(cmd, args, "tauri://localhost") {
            Ok(v) => panic!("{cmd} succeeded unexpectedly: {v}"),
            Err(e) => e,
        }
    }

    /// No reply and no file of the settings folder contains [`SECRET`].
    pub fn assert_secret_never_leaked(&self) {
        for reply in self.replies.borrow().iter() {
            assert!(!reply.contains(SECRET), "secret in an IPC reply: {reply}");
        }
        for entry in walk(&self.dir.path().join("config")) {
            let bytes = std::fs::read(&entry).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "secret in {}",
                entry.display()
            );
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        tauri::async_runtime::block_on(self.app.state::<Desktop>().shutdown());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// `GET base+path` over a plain TCP connection; the body.
pub fn http_get(base: &str, path: &str) -> String {
    let full = http_get_full(base, path, "");
    let Some((head, body)) = full.split_once("\r\n\r\n") else {
        return String::new();
    };
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    }
}

/// The payload of a chunked body (`SIZE\r\nDATA\r\n`… `0\r\n\r\n`), as the streamed
/// `/api/videos` sends it.
fn dechunk(body: &str) -> String {
    let mut rest = body.as_bytes();
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&rest[..eol]);
        let n =
            usize::from_str_radix(size.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        rest = &rest[eol + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        rest = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The whole response (head and body) to a GET with `headers` (`Name: value\r\n` lines).
pub fn http_get_full(base: &str, path: &str, headers: &str) -> String {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).expect("connect to the media server");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n"
    )
    .expect("request");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("response");
    text
}

/// A Garage started by `tests/run.sh` (`scripts/garage.sh`).
pub struct Garage {
    pub endpoint: String,
    pub region: String,
    pub key_id: String,
    pub secret: String,
    /// A key with no right on the test buckets.
    pub denied: Option<(String, String)>,
    /// Garage's config file, for the `garage` CLI.
    pub cli_config: Option<String>,
}

impl Garage {
    /// From `tests/run.sh`'s variables, or from the Garage folder `scripts/test.sh` names in
    /// `BUCKETSTREAM_TEST_GARAGE` (its `env` file and `garage.toml`).
    pub fn from_env() -> Option<Garage> {
        let mut vars: HashMap<String, String> = std::env::vars().collect();
        let mut cli_config = vars.get("BUCKETSTREAM_TEST_GARAGE_CONFIG").cloned();
        if !vars.contains_key("BUCKETSTREAM_TEST_S3_ENDPOINT") {
            let dir = PathBuf::from(vars.get("BUCKETSTREAM_TEST_GARAGE")?);
            let text = std::fs::read_to_string(dir.join("env")).ok()?;
            for line in text.lines() {
                if let Some((k, v)) = line.split_once('=') {
                    vars.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
            cli_config = Some(dir.join("garage.toml").display().to_string());
        }
        let var = |k: &str| vars.get(k).filter(|v| !v.is_empty()).cloned();
        let mut garage = Garage {
            endpoint: var("BUCKETSTREAM_TEST_S3_ENDPOINT")?,
            region: var("AWS_REGION").unwrap_or_else(|| "garage".into()),
            key_id: var("AWS_ACCESS_KEY_ID")?,
            secret: var("AWS_SECRET_ACCESS_KEY")?,
            denied: var("BUCKETSTREAM_TEST_S3_DENIED_KEY_ID")
                .zip(var("BUCKETSTREAM_TEST_S3_DENIED_SECRET")),
            cli_config,
        };
        if garage.denied.is_none() {
            garage.denied = garage.create_key("bs-desktop-denied");
        }
        Some(garage)
    }

    /// A new key made with the `garage` CLI (no rights yet).
    fn create_key(&self, name: &str) -> Option<(String, String)> {
        let cfg = self.cli_config.as_ref()?;
        let out = std::process::Command::new("garage")
            .args(["-c", cfg, "key", "create", name])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |label: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_owned()))
        };
        field("Key ID:").zip(field("Secret key:"))
    }

    /// Gives the denied key write-only access to `bucket` (so listing is *denied*, not
    /// "no such bucket": Garage hides buckets a key has no right on). False without the CLI.
    pub fn allow_write_only(&self, bucket: &str) -> bool {
        let (Some(cfg), Some((id, _))) = (&self.cli_config, &self.denied) else {
            return false;
        };
        std::process::Command::new("garage")
            .args(["-c", cfg, "bucket", "allow", "--write", bucket, "--key", id])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Creates a fresh bucket holding one media object; its name.
    pub fn bucket_with_media(&self, stem: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let bucket = format!("{stem}-{}-{nanos}", std::process::id());
        let creds =
            aws_sdk_s3::config::Credentials::new(&self.key_id, &self.secret, None, None, "test");
        let conf = aws_sdk_s3::config::Builder::new()
            .behavior_version_latest()
            .region(aws_sdk_s3::config::Region::new(self.region.clone()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(creds)
            .force_path_style(true)
            .build();
        let client = aws_sdk_s3::Client::from_conf(conf);
        tauri::async_runtime::block_on(async {
            client
                .create_bucket()
                .bucket(&bucket)
                .send()
                .await
                .expect("create bucket");
            client
                .put_object()
                .bucket(&bucket)
                .key("albums/song.mp3")
                .body(vec![1u8; 2048].into())
                .send()
                .await
                .expect("put object");
        });
        bucket
    }
}
