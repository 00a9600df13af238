//! The one typed configuration: defaults < TOML file < environment < command line, resolved once.
//!
//! Every setting is one entry of the table in [`layer`] (doc, flag, variables, file key,
//! default; the `settings!` macro of [`declare`] generates the rest). Each source is read
//! into a [`Layer`]; [`Inputs`] holds the sources, and [`load`] derives the [`Config`]
//! (with its [`LibraryConfig`]) and the [`LanConfig`] from them in one step: per setting the
//! first layer that says something, else the default ([`Resolved`]), then the checks across
//! settings. That step is a pure function of its inputs (it reads no environment and no
//! file), so every precedence rule is a unit test. Both binaries gather the inputs the same way ([`crate::app`]): the
//! process environment merged over a `.env` file, the config file, their flags, and the
//! machine's default folders.
//!
//! `config` depends on nothing of the LAN server: [`IpNet`] and [`Limits`] live here and the
//! server imports them.

pub mod apps;
pub mod declare;
pub mod file;
pub mod lan;
pub mod layer;
pub mod library;
pub mod limits;
pub mod net;
pub mod settings;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::Credentials;
pub use file::{FileCache, FileConfig, FileS3};
pub use lan::{
    default_max_transcodes, FileLan, LanConfig, SubsonicAccount, TranscodeConfig,
    DEFAULT_PAGING_THRESHOLD, DEFAULT_SUBSONIC_USER, DEFAULT_TRANSCODE_CACHE_BYTES,
};
pub use layer::FileTranscode;
pub use layer::{Layer, Part, Resolved};
use layer::{Layers, LAYER_NAMES};
pub use library::{
    LibraryConfig, DEFAULT_PROBE_TIMEOUT_SECS, DEFAULT_SCAN_CONCURRENCY,
    DEFAULT_UPLOAD_EXPIRY_SECS, DEFAULT_UPLOAD_MAX_BYTES,
};
pub use limits::{FileLimits, Limits};
pub use net::{IpNet, IpNetError};

/// Default LAN port.
pub const DEFAULT_PORT: u16 = 8080;
/// Default seconds between background refreshes.
pub const DEFAULT_REFRESH_SECS: u64 = 60;

/// Everything the core needs, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address the LAN server binds (0.0.0.0: every interface, so the LAN can reach it).
    pub bind: IpAddr,
    /// LAN server port.
    pub port: u16,
    /// Background refresh period; `None` turns periodic refreshes off.
    pub refresh: Option<Duration>,
    /// Where the media come from.
    pub source: SourceConfig,
    /// The edge cache for S3 objects.
    pub cache: CacheConfig,
    /// The media library: its database and the background scan.
    pub library: LibraryConfig,
}

/// Default cap of the edge cache: 10 GiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 10 << 30;

/// The on-disk edge cache (used for S3 sources; local folders are served directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Off: every request goes to the source.
    pub enabled: bool,
    /// Folder of the chunk files; `None` when the machine has no cache folder (cache off).
    pub dir: Option<PathBuf>,
    /// Size cap in bytes (least recently used chunks are evicted beyond it).
    pub max_bytes: u64,
    /// Direct mode: answer media requests with a 307 to a short-lived presigned S3 URL, so
    /// clients fetch from the store themselves (for stores without egress fees). Off by default.
    pub direct: bool,
}

/// The library's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceConfig {
    /// An S3 bucket.
    S3(S3Config),
    /// Local folders.
    Local(LocalConfig),
}

/// An S3 (or S3-compatible) bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Region; `None` lets the SDK's chain decide (profile, `us-east-1` for most S3-compatibles).
    pub region: Option<String>,
    /// Custom endpoint for S3-compatible stores (Garage, MinIO, Ceph, R2, B2).
    pub endpoint: Option<String>,
    /// Further endpoints of the same store (the other nodes of a cluster), tried in this
    /// order when the one in use cannot be connected to; empty for a single endpoint.
    pub failover_endpoints: Vec<String>,
    /// Only keys under this prefix are listed; it is stripped from display folders.
    pub prefix: String,
    /// Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need.
    pub path_style: bool,
    /// Explicit credentials (environment, `.env`, keyring); `None` uses the SDK's default chain.
    pub credentials: Option<Credentials>,
    /// Create the bucket at start when it is missing (the headless server's `--create-bucket`).
    pub create_bucket: bool,
}

/// Local folders served as the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConfig {
    /// The roots; each one's files are listed recursively.
    pub roots: Vec<PathBuf>,
}

/// Built-in defaults that depend on the machine (the user's Music and Videos folders, the sample folder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defaults {
    /// The default local folders (the user's Music and Videos, the sample folder).
    pub media_dirs: Vec<PathBuf>,
    /// The OS cache folder for the edge cache (`~/.cache/bucketstream/chunks`).
    pub cache_dir: Option<PathBuf>,
    /// The OS data folder for the library database (`~/.local/share/bucketstream`).
    pub data_dir: Option<PathBuf>,
}

impl Defaults {
    /// The user's Music and Videos folders that exist, then `sample_dir` if it exists.
    pub fn for_this_machine(sample_dir: Option<PathBuf>) -> Defaults {
        let mut media_dirs = Vec::new();
        if let Some(user) = directories::UserDirs::new() {
            for dir in [user.audio_dir(), user.video_dir()].into_iter().flatten() {
                if dir.is_dir() && !media_dirs.iter().any(|d| d == dir) {
                    media_dirs.push(dir.to_owned());
                }
            }
        }
        if let Some(dir) = sample_dir.filter(|d| d.is_dir()) {
            media_dirs.push(dir);
        }
        let dirs = directories::ProjectDirs::from("", "", "bucketstream");
        Defaults {
            media_dirs,
            cache_dir: dirs.as_ref().map(|d| d.cache_dir().join("chunks")),
            data_dir: dirs.as_ref().map(|d| d.data_dir().to_owned()),
        }
    }
}

/// Everything configuration is made of, gathered by a binary (see [`crate::app`]).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The top layer: the command line (headless), or the keyring's credentials (desktop).
    pub args: Layer,
    /// The environment (process over `.env`).
    pub env: HashMap<String, String>,
    /// The parsed config file, when there is one.
    pub file: Option<FileConfig>,
    /// The machine's default folders.
    pub defaults: Defaults,
}

/// The resolved configuration: the library's and the LAN server's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// What the library serves and how.
    pub config: Config,
    /// Who the LAN server admits and its limits.
    pub lan: LanConfig,
}

/// Resolves both halves of the configuration from `inputs` (see [`Inputs::config`] and
/// [`Inputs::lan`]); the first error stops it.
pub fn load(inputs: &Inputs) -> Result<Loaded> {
    Ok(Loaded {
        config: inputs.config()?,
        lan: inputs.lan()?,
    })
}

impl Inputs {
    /// The library's configuration: per setting, the first layer that says something, else
    /// its default (the [`Resolved`] settings), then the checks across settings.
    ///
    /// The source is chosen by the highest layer that names one: `--bucket` or
    /// `--media-dir` on the command line, else `BUCKET_NAME` / `BUCKETSTREAM_MEDIA_DIR`,
    /// else the file, else the default folders. Naming both a bucket and a folder in the
    /// same layer is an error.
    pub fn config(&self) -> Result<Config> {
        let (layers, r) = layer::resolve(self, Part::Library)?;
        let mut chosen = None;
        for (layer, name) in layers.all.iter().zip(LAYER_NAMES) {
            match (&layer.bucket, layer.media_dirs.is_empty()) {
                (Some(_), false) => {
                    return Err(Error::Config(format!(
                        "the {name} names both a bucket and a media folder; choose one"
                    )))
                }
                (Some(bucket), true) => {
                    chosen = Some(Err(bucket.clone()));
                    break;
                }
                (None, false) => {
                    chosen = Some(Ok(layer.media_dirs.clone()));
                    break;
                }
                (None, true) => {}
            }
        }
        let source = match chosen {
            Some(Err(bucket)) => SourceConfig::S3(s3_config(bucket, &layers, &r)?),
            Some(Ok(roots)) => SourceConfig::Local(LocalConfig { roots }),
            None if r.media_dirs.is_empty() => {
                return Err(Error::Config(
                    "no library configured: pass --bucket or --media-dir".into(),
                ))
            }
            None => SourceConfig::Local(LocalConfig {
                roots: r.media_dirs.clone(),
            }),
        };
        Ok(Config {
            bind: r.bind,
            port: r.port,
            refresh: (r.refresh_secs > 0).then(|| Duration::from_secs(r.refresh_secs)),
            source,
            cache: CacheConfig {
                enabled: !r.no_cache && r.cache_dir.is_some(),
                dir: r.cache_dir.clone(),
                max_bytes: r.cache_max_bytes,
                direct: r.direct,
            },
            library: LibraryConfig::from_resolved(&r),
        })
    }

    /// Who the LAN server admits: per setting, the first layer that says something, over
    /// the safe defaults of [`LanConfig::default`]; the limits come from the file only.
    pub fn lan(&self) -> Result<LanConfig> {
        let (_, r) = layer::resolve(self, Part::Lan)?;
        let limits = self
            .file
            .as_ref()
            .and_then(|f| f.lan.as_ref())
            .and_then(|l| l.limits.as_ref());
        let password = self
            .env
            .get("BUCKETSTREAM_SUBSONIC_PASSWORD")
            .map(String::as_str);
        let api_key = self
            .env
            .get("BUCKETSTREAM_SUBSONIC_API_KEY")
            .map(String::as_str);
        lan::resolve(r, limits, password, api_key)
    }
}

fn s3_config(bucket: String, layers: &Layers, r: &Resolved) -> Result<S3Config> {
    if bucket.contains('/') || bucket.len() > 255 {
        return Err(Error::Config(format!("{bucket:?} is not a bucket name")));
    }
    let mut endpoints: Vec<String> = Vec::new();
    for url in r.endpoint.iter().chain(&r.endpoints) {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "endpoint {url:?} must start with http:// or https://"
            )));
        }
        if !endpoints.iter().any(|e| same_endpoint(e, url)) {
            endpoints.push(url.clone());
        }
    }
    let mut endpoints = endpoints.into_iter();
    let endpoint = endpoints.next();
    let mut prefix = r.prefix.clone();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let credentials: Option<Credentials> = layers.first(|l| l.credentials.clone());
    Ok(S3Config {
        bucket,
        path_style: r.path_style.unwrap_or(endpoint.is_some()),
        region: r.region.clone(),
        endpoint,
        failover_endpoints: endpoints.collect(),
        prefix,
        credentials,
        create_bucket: r.create_bucket,
    })
}

/// Whether two endpoint URLs name the same place (a trailing `/` aside).
fn same_endpoint(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[cfg(test)]
mod tests;
