//! [`Desktop`]: the app state built once before the Tauri builder, shared by commands and the LAN server.
//!
//! It owns the current [`Library`], the in-process server ([`Lan`]), the secret store and
//! where the settings file lives. Each public method is what one Tauri command does; the
//! commands only convert arguments and errors. A settings change rewrites the TOML file (no
//! secrets), stores credentials in the keyring, then rebuilds the library and restarts the
//! server in place.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use bucketstream_core::app::{self, ConnectionReport};
use bucketstream_core::config::apps::{self, SUBSONIC_ACCOUNT, SUBSONIC_API_KEY_ACCOUNT};
use bucketstream_core::config::settings::{
    self, desktop_inputs, KeyringState, S3Form, SettingsView, ACCOUNT,
};
use bucketstream_core::config::{file, Config, Defaults, FileConfig, LanConfig, SourceConfig};
use bucketstream_core::secret::{Credentials, SecretError, SecretStore};
use bucketstream_core::Library;
use bucketstream_lan::KeyStore;
use bucketstream_library::MediaLibrary;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::DesktopError;
use crate::lan::{Lan, LanStatus};

/// Everything [`Desktop::start`] needs from the outside world.
pub struct Options {
    /// The TOML settings file.
    pub config_file: PathBuf,
    /// The environment (process over `.env`), for the usual precedence rules.
    pub env: HashMap<String, String>,
    /// Default folders (Music, Videos, the samples).
    pub defaults: Defaults,
    /// Where credentials live: the OS keyring in the app.
    pub secrets: Arc<dyn SecretStore>,
    /// Where the LAN access key lives (keyring, else a 0600 file; `None`: memory only).
    pub lan_keys: Option<Arc<dyn KeyStore>>,
}

/// Where a `.env` to import comes from: a path, or the text a file picker read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EnvSource {
    /// A path on this computer.
    pub path: Option<String>,
    /// The file's content (from `<input type=file>`).
    pub text: Option<String>,
    /// The file's name, for the message.
    pub name: Option<String>,
}

/// The outcome of an import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The settings now in force.
    pub settings: SettingsView,
    /// Whether credentials were moved into the keyring.
    pub moved_credentials: bool,
    /// What to tell the user (the file can now be deleted).
    pub message: String,
}

/// The app state.
pub struct Desktop {
    opts: Options,
    /// The library in use (swapped by settings changes).
    library: RwLock<Arc<Library>>,
    /// The in-process server (serialises restarts).
    lan: Mutex<Lan>,
    /// `lan.paging_threshold` of the settings in force (the player asks with `library_state`).
    paging_threshold: AtomicUsize,
}

impl Desktop {
    /// Builds the library from the saved settings and starts the server. A broken settings
    /// file or keyring does not stop the app: it falls back to the default folders.
    pub async fn start(opts: Options) -> Result<Desktop, DesktopError> {
        let (config, _, lan) = match load(&opts).await {
            Ok(loaded) => loaded,
            Err(err) => {
                tracing::error!(%err, "settings unusable; opening the default library");
                let cfg = desktop_inputs(&opts.env, None, &opts.defaults, None).config()?;
                (cfg, KeyringState::NotSet, LanConfig::default())
            }
        };
        let desktop = Desktop {
            library: RwLock::new(Library::new(config.clone()).await?),
            lan: Mutex::new(Lan::new(opts.lan_keys.clone())),
            paging_threshold: AtomicUsize::new(lan.paging_threshold),
            opts,
        };
        let library = desktop.library();
        serve(&mut *desktop.lan.lock().await, library, &config, lan).await?;
        Ok(desktop)
    }

    /// The library in use.
    pub fn library(&self) -> Arc<Library> {
        match self.library.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Above this many items the player pages on the server (`lan.paging_threshold`).
    pub fn paging_threshold(&self) -> usize {
        self.paging_threshold.load(Ordering::Relaxed)
    }

    /// Re-reads the settings, rebuilds the library and restarts the server.
    async fn reload(&self) -> Result<(), DesktopError> {
        let (config, _, lan_config) = load(&self.opts).await?;
        self.paging_threshold
            .store(lan_config.paging_threshold, Ordering::Relaxed);
        let library = Library::new(config.clone()).await?;
        // One restart at a time: the lock is held from stop to start.
        let mut lan = self.lan.lock().await;
        lan.stop().await;
        match self.library.write() {
            Ok(mut guard) => *guard = library.clone(),
            Err(poisoned) => *poisoned.into_inner() = library.clone(),
        }
        serve(&mut lan, library, &config, lan_config).await
    }

    /// `http://127.0.0.1:PORT` of the running server.
    pub async fn media_base(&self) -> Result<String, DesktopError> {
        self.lan
            .lock()
            .await
            .media_base()
            .ok_or_else(|| DesktopError::Task("the media server is not running".into()))
    }

    /// The settings view (no secret in it).
    pub async fn settings(&self) -> Result<SettingsView, DesktopError> {
        let file = read_file(&self.opts.config_file)?;
        let keyring = match self.secret(|s| s.load(ACCOUNT)).await {
            Ok(Some(_)) => KeyringState::Set,
            Ok(None) => KeyringState::NotSet,
            Err(err) => KeyringState::Unavailable(err.to_string()),
        };
        let library = self.library();
        Ok(settings::view(
            library.config(),
            library.health().location,
            &file,
            &keyring,
            &self.opts.env,
            self.opts.config_file.display().to_string(),
        ))
    }

    /// Saves the S3 form: credentials (when typed) to the keyring, the rest to the file;
    /// then switches the library to the bucket.
    pub async fn save_settings(&self, form: S3Form) -> Result<SettingsView, DesktopError> {
        form.s3_config(None)?;
        if let Some(creds) = form.credentials()? {
            self.secret(move |s| s.save(ACCOUNT, &creds)).await?;
        }
        let file = settings::with_s3(&read_file(&self.opts.config_file)?, &form);
        file::save(&self.opts.config_file, &file)?;
        self.reload().await?;
        self.settings().await
    }

    /// Lists the bucket the form names, with the typed credentials or else the stored ones.
    pub async fn test_connection(&self, form: S3Form) -> Result<ConnectionReport, DesktopError> {
        let creds = match form.credentials()? {
            Some(creds) => Some(creds),
            None => self.stored_or_env().await?,
        };
        Ok(app::test_connection(form.s3_config(creds)?).await?)
    }

    /// Creates the bucket the form names at the form's endpoint, with the typed credentials
    /// or else the stored ones ([`bucketstream_core::library::manage::create_bucket_at`]).
    pub async fn create_bucket(
        &self,
        form: S3Form,
    ) -> Result<crate::commands::BucketCreated, DesktopError> {
        let creds = match form.credentials()? {
            Some(creds) => Some(creds),
            None => self.stored_or_env().await?,
        };
        let config = form.s3_config(creds)?;
        let created =
            bucketstream_core::library::manage::create_bucket_at(&config, &config.bucket).await?;
        Ok(crate::commands::BucketCreated {
            name: config.bucket,
            created: created == bucketstream_core::source::manage::s3::Created::New,
        })
    }

    /// Removes the stored credentials and rebuilds the library without them.
    pub async fn forget_credentials(&self) -> Result<SettingsView, DesktopError> {
        self.secret(|s| s.forget(ACCOUNT)).await?;
        self.reload().await?;
        self.settings().await
    }

    /// Imports a seed-style `.env`: bucket settings to the file, the key pair to the keyring.
    pub async fn import_env(&self, source: EnvSource) -> Result<ImportReport, DesktopError> {
        let (vars, shown) = read_env_source(&source)?;
        let imported = settings::import_env(&vars)?;
        let moved = imported.credentials.is_some();
        if let Some(creds) = imported.credentials {
            self.secret(move |s| s.save(ACCOUNT, &creds)).await?;
        }
        let mut file = read_file(&self.opts.config_file)?;
        file.s3 = Some(imported.s3);
        file.media_dirs.clear();
        file::save(&self.opts.config_file, &file)?;
        self.reload().await?;
        let message = if moved {
            format!("The credentials are now in the OS keyring; you can delete {shown}.")
        } else {
            format!("Imported the bucket settings from {shown}; it held no credentials.")
        };
        Ok(ImportReport {
            settings: self.settings().await?,
            moved_credentials: moved,
            message,
        })
    }

    /// The LAN server's status.
    pub async fn lan_status(&self) -> Result<LanStatus, DesktopError> {
        self.lan
            .lock()
            .await
            .status()
            .ok_or_else(|| DesktopError::Task("the media server is not running".into()))
    }

    /// Turns LAN sharing on or off (and sets the port), restarting the server in place.
    pub async fn set_lan(
        &self,
        enabled: bool,
        port: Option<u16>,
    ) -> Result<LanStatus, DesktopError> {
        let file = settings::with_lan(&read_file(&self.opts.config_file)?, enabled, port);
        file::save(&self.opts.config_file, &file)?;
        self.reload().await?;
        self.lan_status().await
    }

    /// Turns the Subsonic API on with `user` and `password`, kept in the OS keyring, or off
    /// (`password` `None`: the stored sign-in is forgotten); restarts the server in place.
    pub async fn set_subsonic(
        &self,
        user: String,
        password: Option<String>,
    ) -> Result<LanStatus, DesktopError> {
        match password {
            Some(password) => {
                let creds = apps::subsonic_credentials(&user, &password)?;
                self.secret(move |s| s.save(SUBSONIC_ACCOUNT, &creds))
                    .await?;
            }
            None => self.secret(|s| s.forget(SUBSONIC_ACCOUNT)).await?,
        }
        self.reload().await?;
        self.lan_status().await
    }

    /// Makes a new Subsonic API key, keeps it in the OS keyring (replacing any earlier one) and
    /// restarts the server with it; the key, for the owner to copy into an app once. Refused
    /// while the API is off (a key needs the sign-in).
    pub async fn new_subsonic_api_key(&self) -> Result<String, DesktopError> {
        if self.lan_status().await?.subsonic_user.is_none() {
            return Err(DesktopError::Core(bucketstream_core::Error::Config(
                "turn the Subsonic API on (set a password) before making an API key".into(),
            )));
        }
        let key = apps::new_subsonic_api_key()?;
        let shown = key.secret_access_key.expose().clone();
        self.secret(move |s| s.save(SUBSONIC_API_KEY_ACCOUNT, &key))
            .await?;
        self.reload().await?;
        Ok(shown)
    }

    /// Forgets the Subsonic API key (apps that used it must sign in with the password again);
    /// restarts the server in place.
    pub async fn forget_subsonic_api_key(&self) -> Result<LanStatus, DesktopError> {
        self.secret(|s| s.forget(SUBSONIC_API_KEY_ACCOUNT)).await?;
        self.reload().await?;
        self.lan_status().await
    }

    /// Turns the DLNA media server on or off (`[lan] dlna` in the settings file); restarts the
    /// server in place.
    pub async fn set_dlna(&self, on: bool) -> Result<LanStatus, DesktopError> {
        let file = apps::with_dlna(&read_file(&self.opts.config_file)?, on);
        file::save(&self.opts.config_file, &file)?;
        self.reload().await?;
        self.lan_status().await
    }

    /// Stops the server (on exit).
    pub async fn shutdown(&self) {
        self.lan.lock().await.stop().await;
    }

    /// Runs a blocking keyring call off the async runtime.
    async fn secret<T, F>(&self, call: F) -> Result<T, DesktopError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn SecretStore) -> Result<T, SecretError> + Send + 'static,
    {
        let store = self.opts.secrets.clone();
        Ok(tokio::task::spawn_blocking(move || call(store.as_ref())).await??)
    }

    /// The keyring's credentials, or (with no keyring) none, leaving the SDK chain to decide.
    async fn stored_or_env(&self) -> Result<Option<Credentials>, DesktopError> {
        match self.secret(|s| s.load(ACCOUNT)).await {
            Ok(found) => Ok(found),
            Err(DesktopError::Secret(SecretError::Unavailable(_))) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// Runs the server for `library` with its media library; a local library is listed first
/// (milliseconds) so the window's first `list_library` is complete and current, a bucket is
/// served from its last listing (if kept) and listed in the background.
async fn serve(
    lan: &mut Lan,
    library: Arc<Library>,
    config: &Config,
    settings: LanConfig,
) -> Result<(), DesktopError> {
    // Tags and art from the database, and the last listing: the window shows the whole
    // library at once, then the listing reconciles it.
    let (media, _seeded) = MediaLibrary::start(&library).await;
    if matches!(config.source, SourceConfig::Local(_)) {
        if let Err(err) = library.refresh().await {
            tracing::warn!(%err, "first listing failed");
        }
    }
    lan.start(
        library,
        media,
        SocketAddr::new(config.bind, config.port),
        settings,
    )
    .await
}

/// The saved settings file, or the empty one when there is none yet.
fn read_file(path: &Path) -> Result<FileConfig, DesktopError> {
    Ok(file::load(path, false)?.unwrap_or_default())
}

/// Resolves the configuration (and the LAN settings) from one read of the file and the
/// environment, then the keyring's credentials.
async fn load(opts: &Options) -> Result<(Config, KeyringState, LanConfig), DesktopError> {
    let file = read_file(&opts.config_file)?;
    let store = opts.secrets.clone();
    let (stored, state) = match tokio::task::spawn_blocking(move || store.load(ACCOUNT)).await? {
        Ok(Some(creds)) => (Some(creds), KeyringState::Set),
        Ok(None) => (None, KeyringState::NotSet),
        Err(err) => {
            tracing::warn!(%err, "keyring not usable; using the environment / AWS profile chain");
            (None, KeyringState::Unavailable(err.to_string()))
        }
    };
    // The same derivation as the headless server's, with the keyring as the top layer.
    // Unusable LAN settings fall back to the safe defaults (key required, loopback
    // trusted) with a warning rather than keep the window from opening.
    let inputs = desktop_inputs(&opts.env, Some(file), &opts.defaults, stored);
    let config = inputs.config()?;
    let lan = inputs.lan().unwrap_or_else(|err| {
        tracing::warn!(%err, "LAN settings unusable; using the safe defaults");
        LanConfig::default()
    });
    // The Subsonic sign-in and API key the owner set in the window, from the keyring.
    let store = opts.secrets.clone();
    let stored = tokio::task::spawn_blocking(move || {
        Ok::<_, bucketstream_core::secret::SecretError>((
            store.load(SUBSONIC_ACCOUNT)?,
            store.load(SUBSONIC_API_KEY_ACCOUNT)?,
        ))
    })
    .await?;
    let (subsonic, api_key) = match stored {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(%err, "keyring not usable; the Subsonic API follows the environment");
            (None, None)
        }
    };
    Ok((
        config,
        state,
        apps::with_stored_subsonic(lan, subsonic.as_ref(), api_key.as_ref()),
    ))
}

/// The variables of a `.env` and the name to show for it.
fn read_env_source(source: &EnvSource) -> Result<(HashMap<String, String>, String), DesktopError> {
    let (text, shown) = match (&source.text, &source.path) {
        (Some(text), _) => (
            text.clone(),
            source
                .name
                .clone()
                .unwrap_or_else(|| "the .env file".into()),
        ),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| DesktopError::EnvFile {
                path: PathBuf::from(path),
                reason: e.to_string(),
            })?;
            (text, path.clone())
        }
        (None, None) => {
            return Err(DesktopError::EnvFile {
                path: PathBuf::new(),
                reason: "no file given".into(),
            })
        }
    };
    let mut vars = HashMap::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        let (key, value) = item.map_err(|e| DesktopError::EnvFile {
            path: PathBuf::from(&shown),
            // dotenvy's parse error quotes the line, which may hold a secret: say less.
            reason: match e {
                dotenvy::Error::LineParse(..) => "a line is not KEY=VALUE".into(),
                other => other.to_string(),
            },
        })?;
        vars.insert(key, value);
    }
    Ok((vars, shown))
}
