//! Settings a person edits in the desktop app (or any front end): the S3 form, LAN switch, `.env` import.
//!
//! Pure functions over [`FileConfig`] (the connection test, which needs a source, is
//! [`crate::app::test_connection`]), so the Tauri commands stay one-line adapters and the LAN server could offer the same settings later. Secrets enter
//! here only as [`Sensitive`] values and leave only through a [`crate::secret::SecretStore`]:
//! [`SettingsView`], the only thing shown to a user, carries "set" / "not set", never a key.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::config::{
    layer, Config, Defaults, FileConfig, FileS3, Inputs, Layer, S3Config, SourceConfig,
};
use crate::error::{Error, Result};
use crate::secret::{Credentials, Sensitive};

/// The keyring account the desktop app keeps its one set of S3 credentials under.
pub const ACCOUNT: &str = "default";

/// The S3 form as the settings view submits it. Empty key fields mean "keep what is stored".
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct S3Form {
    /// The bucket's name.
    pub bucket: String,
    /// The region.
    pub region: Option<String>,
    /// An S3-compatible endpoint URL.
    pub endpoint: Option<String>,
    /// Only keys under this prefix are listed.
    pub prefix: Option<String>,
    /// Path-style addressing.
    pub path_style: Option<bool>,
    /// The access key id (empty: keep the stored one).
    pub access_key_id: Option<String>,
    /// The secret key (empty: keep the stored one).
    pub secret_access_key: Option<String>,
    /// A session token (empty: keep the stored one).
    pub session_token: Option<String>,
}

impl fmt::Debug for S3Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Form")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Trims and drops empty strings.
fn clean(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl S3Form {
    /// The non-secret part, as the config file stores it.
    pub fn file_s3(&self) -> FileS3 {
        FileS3 {
            bucket: Some(self.bucket.trim().to_owned()).filter(|b| !b.is_empty()),
            region: clean(&self.region),
            endpoint: clean(&self.endpoint),
            prefix: clean(&self.prefix),
            path_style: self.path_style,
            create_bucket: None,
            endpoints: None,
        }
    }

    /// The credentials typed in the form: both fields, or neither (keep the stored ones).
    pub fn credentials(&self) -> Result<Option<Credentials>> {
        match (clean(&self.access_key_id), clean(&self.secret_access_key)) {
            (Some(id), Some(secret)) => Ok(Some(Credentials {
                access_key_id: id,
                secret_access_key: Sensitive::new(secret),
                session_token: clean(&self.session_token).map(Sensitive::new),
            })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Error::Config("enter the secret access key too".into())),
            (None, Some(_)) => Err(Error::Config("enter the access key id too".into())),
        }
    }

    /// The S3 configuration this form describes, with `creds`, ignoring the environment
    /// (so "Test connection" tests exactly what is on screen).
    pub fn s3_config(&self, creds: Option<Credentials>) -> Result<S3Config> {
        let s3 = self.file_s3();
        if s3.bucket.is_none() {
            return Err(Error::Config("enter a bucket name".into()));
        }
        let file = FileConfig {
            s3: Some(s3),
            ..FileConfig::default()
        };
        let cfg = Inputs {
            file: Some(file),
            ..Inputs::default()
        }
        .config()?;
        match cfg.source {
            SourceConfig::S3(mut s3) => {
                s3.credentials = creds;
                Ok(s3)
            }
            SourceConfig::Local(_) => Err(Error::Config("enter a bucket name".into())),
        }
    }
}

/// Whether credentials are stored, as a user may see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeyringState {
    /// Credentials are in the OS keyring.
    Set,
    /// The keyring works and holds nothing for us.
    NotSet,
    /// No usable keyring; the message says why.
    Unavailable(String),
}

/// Everything the settings view shows. Contains no secret by construction.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SettingsView {
    /// The library in use: `"s3"` or `"local"`.
    pub source: &'static str,
    /// What the library is (bucket and endpoint, or folders).
    pub location: String,
    /// The configured bucket.
    pub bucket: Option<String>,
    /// The configured region.
    pub region: Option<String>,
    /// The configured endpoint.
    pub endpoint: Option<String>,
    /// The configured prefix.
    pub prefix: Option<String>,
    /// The configured path-style setting.
    pub path_style: Option<bool>,
    /// `"set"` or `"not set"`: the only thing ever said about the secret.
    pub credentials: &'static str,
    /// Where the library's credentials come from: `keyring`, `environment` or `default chain`.
    pub credentials_from: &'static str,
    /// Set when there is no usable keyring: what to do instead.
    pub keyring_unavailable: Option<String>,
    /// The LAN server listens on every interface (otherwise only on this computer).
    pub lan_enabled: bool,
    /// The configured LAN port.
    pub port: u16,
    /// Environment variables that override these settings (every variable of
    /// [`layer::ENV`] that is set).
    pub env_overrides: Vec<&'static str>,
    /// The config file path.
    pub config_file: String,
}

/// Whether `file` has the LAN server on: anything but a loopback bind.
pub fn lan_enabled(file: &FileConfig) -> bool {
    match file.bind.as_deref().map(str::parse::<IpAddr>) {
        Some(Ok(ip)) => !ip.is_loopback(),
        _ => true,
    }
}

/// `file` with the LAN switch and port set. Off binds loopback only, so the app's own
/// window still reaches its media server.
pub fn with_lan(file: &FileConfig, enabled: bool, port: Option<u16>) -> FileConfig {
    FileConfig {
        bind: Some(if enabled { "0.0.0.0" } else { "127.0.0.1" }.to_owned()),
        port: port.or(file.port),
        ..file.clone()
    }
}

/// `file` with the library switched to the form's bucket (local folders dropped).
/// The file's further endpoints (`s3.endpoints`, which the form does not show) are kept
/// while the form names the same endpoint, and dropped with it.
pub fn with_s3(file: &FileConfig, form: &S3Form) -> FileConfig {
    let mut s3 = form.file_s3();
    if let Some(old) = file.s3.as_ref().filter(|old| old.endpoint == s3.endpoint) {
        s3.endpoints = old.endpoints.clone();
    }
    FileConfig {
        s3: Some(s3),
        media_dirs: Vec::new(),
        ..file.clone()
    }
}

/// The settings view of `config` (what runs), `file` (what is saved) and the keyring.
pub fn view(
    config: &Config,
    location: String,
    file: &FileConfig,
    keyring: &KeyringState,
    env: &HashMap<String, String>,
    config_file: String,
) -> SettingsView {
    let s3 = file.s3.clone().unwrap_or_default();
    let has_env_creds = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .iter()
        .all(|k| env.get(*k).is_some_and(|v| !v.trim().is_empty()));
    let credentials_from = match (keyring, has_env_creds) {
        (KeyringState::Set, _) => "keyring",
        (_, true) => "environment",
        _ => "default chain",
    };
    SettingsView {
        source: match config.source {
            SourceConfig::S3(_) => "s3",
            SourceConfig::Local(_) => "local",
        },
        location,
        bucket: s3.bucket,
        region: s3.region,
        endpoint: s3.endpoint,
        prefix: s3.prefix,
        path_style: s3.path_style,
        credentials: if *keyring == KeyringState::Set {
            "set"
        } else {
            "not set"
        },
        credentials_from,
        keyring_unavailable: match keyring {
            KeyringState::Unavailable(why) => Some(format!(
                "{why}. Without a keyring, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in \
                 the environment or use an AWS profile (~/.aws/credentials)."
            )),
            _ => None,
        },
        lan_enabled: lan_enabled(file),
        port: config.port,
        env_overrides: layer::env_names()
            .filter(|k| env.get(*k).is_some_and(|v| !v.trim().is_empty()))
            .collect(),
        config_file,
    }
}

/// The desktop's inputs: the saved file and the environment as usual, with the keyring's
/// credentials (when there are some) as the top layer, in place of the environment's.
pub fn desktop_inputs(
    env: &HashMap<String, String>,
    file: Option<FileConfig>,
    defaults: &Defaults,
    stored: Option<Credentials>,
) -> Inputs {
    Inputs {
        args: Layer {
            credentials: stored,
            ..Layer::default()
        },
        env: env.clone(),
        file,
        defaults: defaults.clone(),
    }
}

/// What a seed-style `.env` holds: the bucket settings and the credentials.
pub struct EnvImport {
    /// Bucket, region, endpoint (file settings).
    pub s3: FileS3,
    /// The key pair, when the file has one.
    pub credentials: Option<Credentials>,
}

/// Reads a seed-style `.env` (`BUCKET_NAME`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`, `AWS_ENDPOINT_URL`).
pub fn import_env(vars: &HashMap<String, String>) -> Result<EnvImport> {
    let get = |k: &str| {
        vars.get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    // The setting's variables in the table's order (`AWS_REGION` before `AWS_DEFAULT_REGION`).
    let setting = |name: &str| {
        layer::ENV
            .iter()
            .filter(|v| v.setting == name)
            .find_map(|v| get(v.name))
    };
    let form = S3Form {
        bucket: setting("bucket")
            .ok_or_else(|| Error::Config("the .env file has no BUCKET_NAME".into()))?,
        region: setting("region"),
        endpoint: setting("endpoint"),
        prefix: setting("prefix"),
        path_style: None,
        access_key_id: get("AWS_ACCESS_KEY_ID"),
        secret_access_key: get("AWS_SECRET_ACCESS_KEY"),
        session_token: get("AWS_SESSION_TOKEN"),
    };
    // Validates the bucket name and endpoint the same way the app will.
    form.s3_config(None)?;
    Ok(EnvImport {
        s3: form.file_s3(),
        credentials: form.credentials()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> S3Form {
        S3Form {
            bucket: " media ".into(),
            endpoint: Some("http://127.0.0.1:3900".into()),
            region: Some("garage".into()),
            access_key_id: Some("GKabc".into()),
            secret_access_key: Some("s3cr3t-form".into()),
            ..S3Form::default()
        }
    }

    #[test]
    fn form_becomes_file_settings_without_secrets() {
        let f = form();
        let file = with_s3(&FileConfig::default(), &f);
        let text = toml::to_string(&file).expect("toml");
        assert!(
            text.contains("media") && !text.contains("s3cr3t") && !text.contains("GKabc"),
            "{text}"
        );
        assert!(!format!("{f:?}").contains("s3cr3t"));
        let s3 = f
            .s3_config(f.credentials().expect("creds"))
            .expect("config");
        assert_eq!(s3.bucket, "media");
        assert!(s3.path_style, "endpoint implies path style");
    }

    #[test]
    fn half_a_key_pair_is_refused() {
        let f = S3Form {
            secret_access_key: None,
            ..form()
        };
        assert_eq!(f.credentials().expect_err("half").code(), "config");
        assert!(S3Form::default().s3_config(None).is_err());
    }

    #[test]
    fn lan_switch_binds_loopback_when_off() {
        let off = with_lan(&FileConfig::default(), false, Some(9000));
        assert!(!lan_enabled(&off));
        assert_eq!(off.port, Some(9000));
        assert!(lan_enabled(&with_lan(&off, true, None)));
        assert!(lan_enabled(&FileConfig::default()));
    }

    #[test]
    fn env_import_and_keyring_precedence() {
        let vars: HashMap<String, String> = [
            ("BUCKET_NAME", "seed"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA1"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let imp = import_env(&vars).expect("import");
        assert_eq!(imp.s3.bucket.as_deref(), Some("seed"));
        let creds = imp.credentials.expect("creds");
        let file = FileConfig {
            s3: Some(imp.s3),
            ..FileConfig::default()
        };
        let stored = Credentials {
            access_key_id: "FROMKEYRING".into(),
            ..creds
        };
        let cfg = desktop_inputs(
            &vars,
            Some(file.clone()),
            &Defaults::default(),
            Some(stored),
        )
        .config()
        .expect("cfg");
        let SourceConfig::S3(s3) = cfg.source else {
            panic!("s3 expected")
        };
        assert_eq!(
            s3.credentials.map(|c| c.access_key_id).as_deref(),
            Some("FROMKEYRING")
        );
        let v = view(
            &cfg_local(),
            "x".into(),
            &file,
            &KeyringState::Set,
            &vars,
            "c".into(),
        );
        assert_eq!((v.credentials, v.credentials_from), ("set", "keyring"));
        assert!(v.env_overrides.contains(&"BUCKET_NAME"));
        assert!(v.env_overrides.contains(&"AWS_REGION"));
        assert!(import_env(&HashMap::new()).is_err());
        let only_default: HashMap<String, String> = [
            ("BUCKET_NAME", "seed"),
            ("AWS_DEFAULT_REGION", "eu-north-1"),
            ("AWS_ENDPOINT_URL_S3", "http://s3.local:3900"),
            ("AWS_ENDPOINT_URL", "http://other:1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let imp = import_env(&only_default).expect("import");
        assert_eq!(imp.s3.region.as_deref(), Some("eu-north-1"));
        assert_eq!(imp.s3.endpoint.as_deref(), Some("http://s3.local:3900"));
    }

    fn cfg_local() -> Config {
        Config {
            bind: [127, 0, 0, 1].into(),
            port: 1,
            refresh: None,
            source: SourceConfig::Local(crate::config::LocalConfig { roots: vec![] }),
            cache: crate::config::CacheConfig {
                enabled: false,
                dir: None,
                max_bytes: 0,
                direct: false,
            },
            library: crate::config::LibraryConfig::new("/data".into()),
        }
    }
}
