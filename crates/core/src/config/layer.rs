//! [`Layer`]: what one source of configuration says, before any precedence is applied.
//!
//! Like ripgrep's low-level arguments, every source (the command line, the environment, the
//! config file, and for the desktop the keyring) is read into the same all-optional
//! struct, so each setting is declared once: its field and doc here, its flag in the
//! field's `#[arg]`, its variable in [`ENV`], its file key in [`Layer::from_file`]. The one
//! derivation step ([`super::Inputs::config`] and [`super::Inputs::lan`]) then takes, per setting, the first layer that
//! says something. Parsing and per-layer checks happen here; checks across settings
//! happen in the derivation.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use super::file::FileConfig;
use super::net::IpNet;
use crate::error::{Error, Result};
use crate::secret::{Credentials, Sensitive};

/// What one layer says; `None` (or an empty list of folders) means "not said here".
///
/// As `clap::Args` it is also the headless server's command line: the binary flattens it
/// into its own flags, so a flag is declared once, here.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct Layer {
    /// Port of the LAN server [default: 8080]
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to bind [default: 0.0.0.0]
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// Serve this local folder (repeatable) instead of a bucket
    #[arg(long = "media-dir", value_name = "DIR")]
    pub media_dirs: Vec<PathBuf>,
    /// S3 bucket to serve (env: BUCKET_NAME)
    #[arg(long)]
    pub bucket: Option<String>,
    /// S3-compatible endpoint URL (env: AWS_ENDPOINT_URL); implies path-style addressing
    #[arg(long)]
    pub endpoint: Option<String>,
    /// S3 region (env: AWS_REGION)
    #[arg(long)]
    pub region: Option<String>,
    /// Only serve keys under this prefix
    #[arg(long)]
    pub prefix: Option<String>,
    /// Path-style S3 addressing (file only; defaults to on when an endpoint is set).
    #[arg(skip)]
    pub path_style: Option<bool>,
    /// Seconds between library refreshes, 0 for never [default: 60]
    #[arg(long = "refresh-secs")]
    pub refresh_secs: Option<u64>,
    /// Edge cache folder for S3 objects [default: the OS cache folder's bucketstream/chunks]
    #[arg(long = "cache-dir", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Edge cache size cap in bytes [default: 10 GiB]
    #[arg(long = "cache-max-bytes", value_name = "BYTES")]
    pub cache_max_bytes: Option<u64>,
    /// Turn the edge cache off (every request goes to S3)
    #[arg(long = "no-cache", num_args = 0, default_missing_value = "true")]
    pub no_cache: Option<bool>,
    /// Answer media requests with a 307 to a 5-minute presigned S3 URL (clients fetch from the store)
    #[arg(long, num_args = 0, default_missing_value = "true")]
    pub direct: Option<bool>,
    /// Let every device on the LAN in without the access key (Host checks still apply)
    #[arg(long = "open-to-lan", num_args = 0, default_missing_value = "true")]
    pub open_to_lan: Option<bool>,
    /// Also accept this Host name (repeatable; IP literals, localhost and this machine's name always are)
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allowed_hosts: Option<Vec<String>>,
    /// Clients in this network need no access key (repeatable, ADDR[/PREFIX]) [default: loopback]
    #[arg(long = "trusted-network", value_name = "NET")]
    pub trusted_networks: Option<Vec<IpNet>>,
    /// Grant CORS to this origin, e.g. http://tv.home.arpa:8000 (repeatable) [default: none]
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Option<Vec<String>>,
    /// Do not advertise the server over mDNS/DNS-SD
    #[arg(long = "no-mdns", num_args = 0, default_missing_value = "false")]
    pub mdns: Option<bool>,
    /// Explicit S3 credentials (environment pair, or the desktop's keyring); never a flag.
    #[arg(skip)]
    pub credentials: Option<Credentials>,
}

/// Reads one variable's value into a layer.
type Setter = fn(&mut Layer, &str, &str) -> Result<()>;

/// Which half of the configuration a setting belongs to. Each half is read on its own, so
/// that a bad LAN setting cannot stop the library from loading (the desktop falls back to
/// the safe LAN defaults then) and a bad library setting cannot hide the LAN's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// [`super::Config`]: the library, the bind address and port, the cache.
    Library,
    /// [`super::LanConfig`]: who the LAN server admits.
    Lan,
}

/// Every environment variable that sets a setting, in priority order: when two name the
/// same setting (`AWS_ENDPOINT_URL_S3` before `AWS_ENDPOINT_URL`, `AWS_REGION` before
/// `AWS_DEFAULT_REGION`), the first one set wins. Credentials are read apart (a pair).
pub const ENV: &[(&str, Part, Setter)] = &[
    ("BUCKETSTREAM_BIND", Part::Library, |l, _, v| {
        l.bind = Some(parse_bind(v)?);
        Ok(())
    }),
    ("BUCKETSTREAM_PORT", Part::Library, |l, n, v| {
        set(&mut l.port, n, v)
    }),
    ("BUCKETSTREAM_REFRESH_SECS", Part::Library, |l, n, v| {
        set(&mut l.refresh_secs, n, v)
    }),
    ("BUCKETSTREAM_MEDIA_DIR", Part::Library, |l, _, v| {
        l.media_dirs = std::env::split_paths(v).collect();
        Ok(())
    }),
    ("BUCKET_NAME", Part::Library, |l, _, v| {
        text(&mut l.bucket, v)
    }),
    ("AWS_ENDPOINT_URL_S3", Part::Library, |l, _, v| {
        text(&mut l.endpoint, v)
    }),
    ("AWS_ENDPOINT_URL", Part::Library, |l, _, v| {
        text(&mut l.endpoint, v)
    }),
    ("AWS_REGION", Part::Library, |l, _, v| {
        text(&mut l.region, v)
    }),
    ("AWS_DEFAULT_REGION", Part::Library, |l, _, v| {
        text(&mut l.region, v)
    }),
    ("BUCKETSTREAM_PREFIX", Part::Library, |l, _, v| {
        text(&mut l.prefix, v)
    }),
    ("BUCKETSTREAM_CACHE_DIR", Part::Library, |l, _, v| {
        l.cache_dir = Some(PathBuf::from(v));
        Ok(())
    }),
    ("BUCKETSTREAM_CACHE_MAX_BYTES", Part::Library, |l, n, v| {
        set(&mut l.cache_max_bytes, n, v)
    }),
    ("BUCKETSTREAM_NO_CACHE", Part::Library, |l, n, v| {
        set(&mut l.no_cache, n, v)
    }),
    ("BUCKETSTREAM_DIRECT", Part::Library, |l, n, v| {
        set(&mut l.direct, n, v)
    }),
    ("BUCKETSTREAM_OPEN_TO_LAN", Part::Lan, |l, n, v| {
        set(&mut l.open_to_lan, n, v)
    }),
    ("BUCKETSTREAM_ALLOWED_HOSTS", Part::Lan, |l, _, v| {
        l.allowed_hosts = Some(list(v));
        Ok(())
    }),
    ("BUCKETSTREAM_TRUSTED_NETWORKS", Part::Lan, |l, n, v| {
        l.trusted_networks = Some(networks(&list(v), n)?);
        Ok(())
    }),
    ("BUCKETSTREAM_CORS_ORIGINS", Part::Lan, |l, _, v| {
        l.cors_origins = Some(list(v));
        Ok(())
    }),
    ("BUCKETSTREAM_MDNS", Part::Lan, |l, n, v| {
        set(&mut l.mdns, n, v)
    }),
];

/// The names of [`ENV`]: the variables that win over the config file.
pub fn env_names() -> impl Iterator<Item = &'static str> {
    ENV.iter().map(|(name, _, _)| *name)
}

/// Looks up a variable, treating an empty value as absent.
pub(super) fn var<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Parses `value` of variable `name` into `slot`, naming the variable when it does not parse.
fn set<T: FromStr>(slot: &mut Option<T>, name: &str, value: &str) -> Result<()> {
    let parsed = value
        .parse()
        .map_err(|_| Error::Config(format!("{name}={value:?} is not a valid value")))?;
    *slot = Some(parsed);
    Ok(())
}

/// Keeps the first variable set for a text setting (see [`ENV`]'s order).
fn text(slot: &mut Option<String>, value: &str) -> Result<()> {
    slot.get_or_insert_with(|| value.to_owned());
    Ok(())
}

/// A comma-separated list (blank items dropped).
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_bind(text: &str) -> Result<IpAddr> {
    text.parse()
        .map_err(|_| Error::Config(format!("bind address {text:?} is not an IP address")))
}

fn networks(texts: &[String], layer: &str) -> Result<Vec<IpNet>> {
    texts
        .iter()
        .map(|t| {
            t.parse()
                .map_err(|e| Error::Config(format!("{layer}: trusted network: {e}")))
        })
        .collect()
}

impl Layer {
    /// What the environment says about `part` (variables of [`ENV`], and for the library
    /// the credentials pair).
    pub fn from_env(env: &HashMap<String, String>, part: Part) -> Result<Layer> {
        let mut layer = Layer::default();
        for (name, of, setter) in ENV {
            if let (true, Some(value)) = (*of == part, var(env, name)) {
                setter(&mut layer, name, value)?;
            }
        }
        if part != Part::Library {
            return Ok(layer);
        }
        if let (Some(id), Some(secret)) = (
            var(env, "AWS_ACCESS_KEY_ID"),
            var(env, "AWS_SECRET_ACCESS_KEY"),
        ) {
            layer.credentials = Some(Credentials {
                access_key_id: id.to_owned(),
                secret_access_key: Sensitive::new(secret.to_owned()),
                session_token: var(env, "AWS_SESSION_TOKEN").map(|t| Sensitive::new(t.to_owned())),
            });
        }
        Ok(layer)
    }

    /// What the config file says about `part` (its `[lan.limits]` table is read by
    /// [`super::lan`]).
    pub fn from_file(file: &FileConfig, part: Part) -> Result<Layer> {
        let s3 = file.s3.clone().unwrap_or_default();
        let cache = file.cache.clone().unwrap_or_default();
        let lan = file.lan.clone().unwrap_or_default();
        let (bind, trusted_networks) = match part {
            Part::Library => (file.bind.as_deref().map(parse_bind).transpose()?, None),
            Part::Lan => (
                None,
                lan.trusted_networks
                    .map(|l| networks(&l, "config file [lan]"))
                    .transpose()?,
            ),
        };
        Ok(Layer {
            port: file.port,
            bind,
            media_dirs: file.media_dirs.clone(),
            bucket: s3.bucket,
            endpoint: s3.endpoint,
            region: s3.region,
            prefix: s3.prefix,
            path_style: s3.path_style,
            refresh_secs: file.refresh_secs,
            cache_dir: cache.dir,
            cache_max_bytes: cache.max_bytes,
            no_cache: cache.enabled.map(|on| !on),
            direct: cache.direct,
            open_to_lan: lan.open_to_lan,
            allowed_hosts: lan.allowed_hosts,
            trusted_networks,
            cors_origins: lan.cors_origins,
            mdns: lan.mdns,
            credentials: None,
        })
    }
}
