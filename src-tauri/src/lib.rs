//! Bucketstream's desktop app: a Tauri 2 window over the core, with the LAN server in-process.
//!
//! [`run`] gathers the environment, builds [`Desktop`] (library + media server + keyring)
//! once on Tauri's async runtime, `.manage()`s it and opens the window on `ui/`. The same
//! [`Desktop`] serves the Tauri commands ([`commands`]) and the LAN server ([`lan`]).
//! [`builder`] and [`context`] are public so tests can drive the real command set on
//! Tauri's mock runtime.

pub mod commands;
pub mod error;
pub mod lan;
pub mod memory_tuning;
pub mod paging;
pub mod rendering;
pub mod state;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bucketstream_core::app;
use bucketstream_core::config::file;
use bucketstream_keyring::{KeyringStore, LanKeyStore};
use bucketstream_lan::{FileKeyStore, KeyStore};
use tauri::{Manager, Runtime};

pub use error::{DesktopError, IpcError};
pub use state::{Desktop, Options};

/// When `run` started (for the "page loaded" timing in the log).
static STARTED: OnceLock<Instant> = OnceLock::new();

/// The Tauri context generated from `tauri.conf.json` (the UI, icons, capabilities).
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// `builder` with the app's state and every command registered.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>, desktop: Desktop) -> tauri::Builder<R> {
    builder
        .manage(desktop)
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                let ms = STARTED.get().map(|t| t.elapsed().as_millis());
                tracing::info!(window = webview.label(), url = %payload.url(), since_start_ms = ?ms, "page loaded");
            }
        })
        .invoke_handler(tauri::generate_handler![
        commands::list_library,
        commands::refresh_library,
        commands::media_base,
        commands::get_settings,
        commands::save_settings,
        commands::test_connection,
        commands::forget_credentials,
        commands::import_env,
        commands::lan_status,
        commands::set_lan,
        commands::set_subsonic,
        commands::new_subsonic_api_key,
        commands::forget_subsonic_api_key,
        commands::set_dlna,
        commands::create_bucket,
        commands::delete_item,
        commands::move_item,
        paging::library_state,
        paging::query_library,
        paging::library_folders,
    ])
}

/// The options of a real run: the OS keyring, the OS config folder (or `BUCKETSTREAM_CONFIG`).
pub fn options_from_process() -> Result<Options, DesktopError> {
    let env = app::environment();
    let config_file = env
        .get("BUCKETSTREAM_CONFIG")
        .map(PathBuf::from)
        .or_else(file::default_path)
        .ok_or_else(|| {
            DesktopError::Core(bucketstream_core::Error::Config(
                "no home folder: set BUCKETSTREAM_CONFIG to a settings file path".into(),
            ))
        })?;
    let keyring = KeyringStore::default();
    // The LAN key is less sensitive than S3 credentials (it only pairs browsers): without a
    // keyring it goes to a 0600 file in the config folder instead of changing every run.
    let lan_keys: Option<Arc<dyn KeyStore>> = match keyring.probe() {
        Ok(()) => Some(Arc::new(LanKeyStore(keyring.clone()))),
        Err(err) => {
            tracing::warn!(%err, "LAN access key kept in a file instead of the keyring");
            FileKeyStore::default_path()
                .map(|p| Arc::new(FileKeyStore::new(p)) as Arc<dyn KeyStore>)
        }
    };
    Ok(Options {
        config_file,
        defaults: app::machine_defaults(),
        env,
        secrets: Arc::new(keyring),
        lan_keys,
    })
}

/// Runs the app until its window closes.
pub fn run() -> Result<(), DesktopError> {
    STARTED.get_or_init(Instant::now);
    let opts = options_from_process()?;
    let desktop = tauri::async_runtime::block_on(Desktop::start(opts))?;
    let app = builder(tauri::Builder::default(), desktop)
        .build(context())
        .map_err(|e| DesktopError::Task(format!("cannot open the window: {e}")))?;
    memory_tuning::schedule_trim();
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            let desktop = handle.state::<Desktop>();
            tauri::async_runtime::block_on(desktop.shutdown());
        }
    });
    Ok(())
}
