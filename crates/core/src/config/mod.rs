//! The one typed configuration: defaults < TOML file < environment < command line, resolved once.
//!
//! [`resolve`] is a pure function of its four inputs (it reads no environment and no file), so
//! every precedence rule is a unit test. The binaries gather the inputs: the process
//! environment merged over a `.env` file, the file at `--config` or [`file::default_path`], and
//! their parsed flags.

pub mod file;
pub mod lan;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::{Credentials, Sensitive};
pub use file::{FileCache, FileConfig, FileS3};
pub use lan::{resolve_lan, FileLan, FileLimits, LanConfig, LanOverrides};

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
    S3(S3Config),
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
    /// Only keys under this prefix are listed; it is stripped from display folders.
    pub prefix: String,
    /// Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need.
    pub path_style: bool,
    /// Explicit credentials (environment, `.env`, keyring); `None` uses the SDK's default chain.
    pub credentials: Option<Credentials>,
}

/// Local folders served as the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConfig {
    /// The roots; each one's files are listed recursively.
    pub roots: Vec<PathBuf>,
}

/// Values given on the command line (all optional: absent means "not said here").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub bind: Option<IpAddr>,
    pub port: Option<u16>,
    pub media_dirs: Vec<PathBuf>,
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub prefix: Option<String>,
    pub refresh_secs: Option<u64>,
    pub cache_dir: Option<PathBuf>,
    pub cache_max_bytes: Option<u64>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--direct`.
    pub direct: bool,
}

/// Built-in defaults that depend on the machine (the user's Music and Videos folders, the sample folder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defaults {
    pub media_dirs: Vec<PathBuf>,
    /// The OS cache folder for the edge cache (`~/.cache/bucketstream/chunks`).
    pub cache_dir: Option<PathBuf>,
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
        let cache_dir = directories::ProjectDirs::from("", "", "bucketstream")
            .map(|dirs| dirs.cache_dir().join("chunks"));
        Defaults {
            media_dirs,
            cache_dir,
        }
    }
}

/// Looks up a variable, treating an empty value as absent.
fn var<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn parse_var<T: std::str::FromStr>(env: &HashMap<String, String>, name: &str) -> Result<Option<T>> {
    var(env, name)
        .map(|v| {
            v.parse()
                .map_err(|_| Error::Config(format!("{name}={v:?} is not a valid value")))
        })
        .transpose()
}

/// Resolves the configuration: `cli` over `env` over `file` over `defaults`.
///
/// The source is chosen by the highest layer that names one: `--bucket` or `--media-dir` on
/// the command line, else `BUCKET_NAME` / `BUCKETSTREAM_MEDIA_DIR`, else the file, else the
/// default folders. Naming both a bucket and a folder in the same layer is an error.
pub fn resolve(
    cli: &Overrides,
    env: &HashMap<String, String>,
    file: Option<&FileConfig>,
    defaults: &Defaults,
) -> Result<Config> {
    let empty = FileConfig::default();
    let file = file.unwrap_or(&empty);
    let fs3 = file.s3.clone().unwrap_or_default();

    let bind = match (
        cli.bind,
        var(env, "BUCKETSTREAM_BIND"),
        file.bind.as_deref(),
    ) {
        (Some(ip), _, _) => ip,
        (None, Some(text), _) | (None, None, Some(text)) => text
            .parse()
            .map_err(|_| Error::Config(format!("bind address {text:?} is not an IP address")))?,
        (None, None, None) => IpAddr::from([0, 0, 0, 0]),
    };
    let port = cli
        .port
        .or(parse_var(env, "BUCKETSTREAM_PORT")?)
        .or(file.port)
        .unwrap_or(DEFAULT_PORT);
    let refresh_secs = cli
        .refresh_secs
        .or(parse_var(env, "BUCKETSTREAM_REFRESH_SECS")?)
        .or(file.refresh_secs)
        .unwrap_or(DEFAULT_REFRESH_SECS);

    let env_dirs: Vec<PathBuf> = var(env, "BUCKETSTREAM_MEDIA_DIR")
        .map(|v| std::env::split_paths(v).collect())
        .unwrap_or_default();
    let env_bucket = var(env, "BUCKET_NAME").map(str::to_owned);
    let layers: [(&str, Option<String>, &[PathBuf]); 3] = [
        ("command line", cli.bucket.clone(), &cli.media_dirs),
        ("environment", env_bucket, &env_dirs),
        ("config file", fs3.bucket.clone(), &file.media_dirs),
    ];
    let mut chosen = None;
    for (layer, bucket, dirs) in layers {
        match (bucket, dirs.is_empty()) {
            (Some(_), false) => {
                return Err(Error::Config(format!(
                    "the {layer} names both a bucket and a media folder; choose one"
                )))
            }
            (Some(bucket), true) => {
                chosen = Some(Err(bucket));
                break;
            }
            (None, false) => {
                chosen = Some(Ok(dirs.to_vec()));
                break;
            }
            (None, true) => {}
        }
    }
    let source = match chosen {
        Some(Err(bucket)) => SourceConfig::S3(s3_config(bucket, cli, env, &fs3)?),
        Some(Ok(roots)) => SourceConfig::Local(LocalConfig { roots }),
        None if defaults.media_dirs.is_empty() => {
            return Err(Error::Config(
                "no library configured: pass --bucket or --media-dir".into(),
            ))
        }
        None => SourceConfig::Local(LocalConfig {
            roots: defaults.media_dirs.clone(),
        }),
    };
    let fcache = file.cache.clone().unwrap_or_default();
    let cache_off = cli.no_cache
        || parse_var::<bool>(env, "BUCKETSTREAM_NO_CACHE")?.unwrap_or(false)
        || fcache.enabled == Some(false);
    let cache_dir = cli
        .cache_dir
        .clone()
        .or_else(|| var(env, "BUCKETSTREAM_CACHE_DIR").map(PathBuf::from))
        .or(fcache.dir)
        .or_else(|| defaults.cache_dir.clone());
    let max_bytes = cli
        .cache_max_bytes
        .or(parse_var(env, "BUCKETSTREAM_CACHE_MAX_BYTES")?)
        .or(fcache.max_bytes)
        .unwrap_or(DEFAULT_CACHE_MAX_BYTES);
    Ok(Config {
        bind,
        port,
        refresh: (refresh_secs > 0).then(|| Duration::from_secs(refresh_secs)),
        source,
        cache: CacheConfig {
            enabled: !cache_off && cache_dir.is_some(),
            dir: cache_dir,
            max_bytes,
            direct: cli.direct
                || parse_var::<bool>(env, "BUCKETSTREAM_DIRECT")?.unwrap_or(false)
                || fcache.direct == Some(true),
        },
    })
}

fn s3_config(
    bucket: String,
    cli: &Overrides,
    env: &HashMap<String, String>,
    fs3: &FileS3,
) -> Result<S3Config> {
    if bucket.contains('/') || bucket.len() > 255 {
        return Err(Error::Config(format!("{bucket:?} is not a bucket name")));
    }
    let pick = |flag: &Option<String>, names: &[&str], file: &Option<String>| {
        flag.clone()
            .or_else(|| names.iter().find_map(|n| var(env, n).map(str::to_owned)))
            .or_else(|| file.clone())
    };
    let endpoint = pick(
        &cli.endpoint,
        &["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"],
        &fs3.endpoint,
    );
    if let Some(url) = &endpoint {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "endpoint {url:?} must start with http:// or https://"
            )));
        }
    }
    let region = pick(
        &cli.region,
        &["AWS_REGION", "AWS_DEFAULT_REGION"],
        &fs3.region,
    );
    let mut prefix = pick(&cli.prefix, &["BUCKETSTREAM_PREFIX"], &fs3.prefix).unwrap_or_default();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let credentials = match (
        var(env, "AWS_ACCESS_KEY_ID"),
        var(env, "AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => Some(Credentials {
            access_key_id: id.to_owned(),
            secret_access_key: Sensitive::new(secret.to_owned()),
            session_token: var(env, "AWS_SESSION_TOKEN").map(|t| Sensitive::new(t.to_owned())),
        }),
        _ => None,
    };
    Ok(S3Config {
        bucket,
        path_style: fs3.path_style.unwrap_or(endpoint.is_some()),
        region,
        endpoint,
        prefix,
        credentials,
    })
}

#[cfg(test)]
mod tests;
