//! The table of every setting, and [`Layer`]: what one source of configuration says before
//! any precedence is applied.
//!
//! Like ripgrep's low-level arguments, every source (the command line, the environment, the
//! config file, and for the desktop the keyring) is read into the same all-optional
//! [`Layer`]. Each setting is one entry of the `settings!` table below (see
//! [`super::declare`]): its doc (the flag's help), its flag, its variables, its file key
//! and its default. The one derivation step ([`super::Inputs::config`] and
//! [`super::Inputs::lan`]) reads the [`Resolved`] settings (the first layer that says
//! something, else the default) and checks what spans several settings.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;

use super::declare::{
    bind_from_env, bind_from_file, inverted, list, networks_from_env, networks_from_file, parsed,
    path, paths, same, settings, text, var, EnvVar, Said, Setting,
};
use super::limits::FileLimits;
use super::net::IpNet;
use super::{
    Defaults, DEFAULT_CACHE_MAX_BYTES, DEFAULT_PORT, DEFAULT_PROBE_TIMEOUT_SECS,
    DEFAULT_REFRESH_SECS, DEFAULT_SCAN_CONCURRENCY, DEFAULT_SUBSONIC_USER,
    DEFAULT_UPLOAD_EXPIRY_SECS, DEFAULT_UPLOAD_MAX_BYTES,
};
use crate::error::Result;
use crate::secret::{Credentials, Sensitive};

settings! {
    /// The config file as written by a person or by the desktop app's settings view.
    top FileConfig {
        /// Port of the LAN server [default: 8080]
        port: Option<u16> => u16 = |_| DEFAULT_PORT,
            Library first, file port: Option<u16> => same,
            env ["BUCKETSTREAM_PORT"] => parsed, arg (long);
        /// Address to bind [default: 0.0.0.0]
        bind: Option<IpAddr> => IpAddr = |_| IpAddr::from([0, 0, 0, 0]),
            Library first, file bind: Option<String> => bind_from_file,
            env ["BUCKETSTREAM_BIND"] => bind_from_env, arg (long);
        /// Serve this local folder (repeatable) instead of a bucket
        media_dirs: Vec<PathBuf> => Vec<PathBuf> = |d| d.media_dirs.clone(),
            Library first,
            file media_dirs: Vec<PathBuf> [serde(default, skip_serializing_if = "Vec::is_empty")]
                => same,
            env ["BUCKETSTREAM_MEDIA_DIR"] => paths,
            arg (long = "media-dir", value_name = "DIR");
        /// Seconds between library refreshes, 0 for never [default: 60]
        refresh_secs: Option<u64> => u64 = |_| DEFAULT_REFRESH_SECS,
            Library first, file refresh_secs: Option<u64> => same,
            env ["BUCKETSTREAM_REFRESH_SECS"] => parsed, arg (long = "refresh-secs");
        /// Folder of the library database (tags, durations, art) [default: the OS data folder's bucketstream]
        data_dir: Option<PathBuf> => Option<PathBuf> = |d| d.data_dir.clone(),
            Library first, file data_dir: Option<PathBuf> => same,
            env ["BUCKETSTREAM_DATA_DIR"] => path, arg (long = "data-dir", value_name = "DIR");
        /// Do not read tags, durations and art in the background [default: scan on]
        scan: Option<bool> => bool = |_| true,
            Library first, file scan: Option<bool> => same,
            env ["BUCKETSTREAM_SCAN"] => parsed,
            arg (long = "no-scan", num_args = 0, default_missing_value = "false");
        /// Objects the background scan reads at once, 1 to 64 [default: 16]
        scan_concurrency: Option<usize> => usize = |_| DEFAULT_SCAN_CONCURRENCY,
            Library first, file scan_concurrency: Option<usize> => same,
            env ["BUCKETSTREAM_SCAN_CONCURRENCY"] => parsed,
            arg (long = "scan-concurrency", value_name = "N"), range 1..=64;
        /// Seconds the scan may spend reading one object, 1 to 3600 [default: 20]
        probe_timeout_secs: Option<u64> => u64 = |_| DEFAULT_PROBE_TIMEOUT_SECS,
            Library first, file probe_timeout_secs: Option<u64> => same,
            env ["BUCKETSTREAM_PROBE_TIMEOUT_SECS"] => parsed,
            arg (long = "probe-timeout-secs", value_name = "SECS"), range 1..=3600;
        /// Largest file accepted by /api/uploads, in bytes (413 beyond) [default: 50 GiB]
        upload_max_bytes: Option<u64> => u64 = |_| DEFAULT_UPLOAD_MAX_BYTES,
            Library first, file upload_max_bytes: Option<u64> => same,
            env ["BUCKETSTREAM_UPLOAD_MAX_BYTES"] => parsed,
            arg (long = "upload-max-bytes", value_name = "BYTES");
        /// Seconds an unfinished upload is kept without a write, then aborted, 1 to 2592000 [default: 86400]
        upload_expiry_secs: Option<u64> => u64 = |_| DEFAULT_UPLOAD_EXPIRY_SECS,
            Library first, file upload_expiry_secs: Option<u64> => same,
            env ["BUCKETSTREAM_UPLOAD_EXPIRY_SECS"] => parsed,
            arg (long = "upload-expiry-secs", value_name = "SECS"), range 1..=2_592_000;
    }
    /// The `[s3]` table: everything about the bucket except credentials.
    table s3: FileS3 {
        /// S3 bucket to serve (env: BUCKET_NAME)
        bucket: Option<String> => Option<String> = |_| None,
            Library first, file bucket: Option<String> => same,
            env ["BUCKET_NAME"] => text, arg (long);
        /// S3-compatible endpoint URL (env: AWS_ENDPOINT_URL); implies path-style addressing
        endpoint: Option<String> => Option<String> = |_| None,
            Library first, file endpoint: Option<String> => same,
            env ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] => text, arg (long);
        /// More endpoints of the same store (cluster nodes), tried in turn when one is unreachable
        endpoints: Option<Vec<String>> => Vec<String> = |_| Vec::new(),
            Library first, file endpoints: Option<Vec<String>> => same,
            env ["BUCKETSTREAM_S3_ENDPOINTS"] => list,
            arg (long, value_name = "URL", value_delimiter = ',');
        /// S3 region (env: AWS_REGION)
        region: Option<String> => Option<String> = |_| None,
            Library first, file region: Option<String> => same,
            env ["AWS_REGION", "AWS_DEFAULT_REGION"] => text, arg (long);
        /// Only serve keys under this prefix
        prefix: Option<String> => String = |_| String::new(),
            Library first, file prefix: Option<String> => same,
            env ["BUCKETSTREAM_PREFIX"] => text, arg (long);
        /// Create the bucket at start when it does not exist (HeadBucket 404)
        create_bucket: Option<bool> => bool = |_| false,
            Library first, file create_bucket: Option<bool> => same,
            env ["BUCKETSTREAM_CREATE_BUCKET"] => parsed,
            arg (long = "create-bucket", num_args = 0, default_missing_value = "true");
        /// Path-style S3 addressing (file only; defaults to on when an endpoint is set).
        path_style: Option<bool> => Option<bool> = |_| None,
            Library first, file path_style: Option<bool> => same,
            env [] => text, arg (skip);
    }
    /// The `[cache]` table: the edge cache.
    table cache: FileCache {
        /// Edge cache folder for S3 objects [default: the OS cache folder's bucketstream/chunks]
        cache_dir: Option<PathBuf> => Option<PathBuf> = |d| d.cache_dir.clone(),
            Library first, file dir: Option<PathBuf> => same,
            env ["BUCKETSTREAM_CACHE_DIR"] => path,
            arg (long = "cache-dir", value_name = "DIR");
        /// Edge cache size cap in bytes [default: 10 GiB]
        cache_max_bytes: Option<u64> => u64 = |_| DEFAULT_CACHE_MAX_BYTES,
            Library first, file max_bytes: Option<u64> => same,
            env ["BUCKETSTREAM_CACHE_MAX_BYTES"] => parsed,
            arg (long = "cache-max-bytes", value_name = "BYTES");
        /// Turn the edge cache off (every request goes to S3)
        no_cache: Option<bool> => bool = |_| false,
            Library any, file enabled: Option<bool> => inverted,
            env ["BUCKETSTREAM_NO_CACHE"] => parsed,
            arg (long = "no-cache", num_args = 0, default_missing_value = "true");
        /// Answer media requests with a 307 to a 5-minute presigned S3 URL (clients fetch from the store)
        direct: Option<bool> => bool = |_| false,
            Library any, file direct: Option<bool> => same,
            env ["BUCKETSTREAM_DIRECT"] => parsed,
            arg (long, num_args = 0, default_missing_value = "true");
    }
    /// The `[lan]` table: who the LAN server admits and its limits (see [`super::lan`]).
    table lan: FileLan {
        /// Let every device on the LAN in without the access key (Host checks still apply)
        open_to_lan: Option<bool> => bool = |_| false,
            Lan first, file open_to_lan: Option<bool> => same,
            env ["BUCKETSTREAM_OPEN_TO_LAN"] => parsed,
            arg (long = "open-to-lan", num_args = 0, default_missing_value = "true");
        /// Also accept this Host name (repeatable; IP literals, localhost and this machine's name always are)
        allowed_hosts: Option<Vec<String>> => Vec<String> = |_| Vec::new(),
            Lan first, file allowed_hosts: Option<Vec<String>> => same,
            env ["BUCKETSTREAM_ALLOWED_HOSTS"] => list,
            arg (long = "allow-host", value_name = "NAME");
        /// Clients in this network need no access key (repeatable, ADDR[/PREFIX]) [default: loopback]
        trusted_networks: Option<Vec<IpNet>> => Vec<IpNet> = |_| IpNet::loopback(),
            Lan first, file trusted_networks: Option<Vec<String>> => networks_from_file,
            env ["BUCKETSTREAM_TRUSTED_NETWORKS"] => networks_from_env,
            arg (long = "trusted-network", value_name = "NET");
        /// Grant CORS to this origin, e.g. http://tv.home.arpa:8000 (repeatable) [default: none]
        cors_origins: Option<Vec<String>> => Vec<String> = |_| Vec::new(),
            Lan first, file cors_origins: Option<Vec<String>> => same,
            env ["BUCKETSTREAM_CORS_ORIGINS"] => list,
            arg (long = "cors-origin", value_name = "ORIGIN");
        /// Do not advertise the server over mDNS/DNS-SD
        mdns: Option<bool> => bool = |_| true,
            Lan first, file mdns: Option<bool> => same,
            env ["BUCKETSTREAM_MDNS"] => parsed,
            arg (long = "no-mdns", num_args = 0, default_missing_value = "false");
        /// Let paired LAN devices upload to the library (the owner always may) [default: off]
        lan_uploads: Option<bool> => bool = |_| false,
            Lan first, file uploads: Option<bool> => same,
            env ["BUCKETSTREAM_LAN_UPLOADS"] => parsed,
            arg (long = "lan-uploads", num_args = 0, default_missing_value = "true");
        /// Serve the library to DLNA/UPnP TVs and players in the trusted networks [default: off]
        dlna: Option<bool> => bool = |_| false,
            Lan first, file dlna: Option<bool> => same,
            env ["BUCKETSTREAM_DLNA"] => parsed,
            arg (long = "dlna", num_args = 0, default_missing_value = "true");
        /// User name for Subsonic apps on phones and desktops (/rest) [default: bucketstream]
        subsonic_user: Option<String> => String = |_| DEFAULT_SUBSONIC_USER.to_owned(),
            Lan first, file subsonic_user: Option<String> => same,
            env ["BUCKETSTREAM_SUBSONIC_USER"] => text,
            arg (long = "subsonic-user", value_name = "NAME");
        /// File whose first line is the Subsonic password; /rest is off without one (or set BUCKETSTREAM_SUBSONIC_PASSWORD)
        subsonic_password_file: Option<PathBuf> => Option<PathBuf> = |_| None,
            Lan first, file subsonic_password_file: Option<PathBuf> => same,
            env ["BUCKETSTREAM_SUBSONIC_PASSWORD_FILE"] => path,
            arg (long = "subsonic-password-file", value_name = "FILE");
        /// Libraries larger than this many items are paged and searched on the server by the player, 0 = always [default: 5000]
        paging_threshold: Option<usize> => usize = |_| super::lan::DEFAULT_PAGING_THRESHOLD,
            Lan first, file paging_threshold: Option<usize> => same,
            env ["BUCKETSTREAM_PAGING_THRESHOLD"] => parsed,
            arg (long = "paging-threshold", value_name = "N");
        extra
            /// Resource bounds (see [`super::limits`]; no flag or variable).
            limits: Option<FileLimits>;
    }
    /// The `[transcode]` table: remux and transcode with ffmpeg (see [`super::lan`]).
    table transcode: FileTranscode {
        /// The ffmpeg program that remuxes and transcodes for browsers [default: ffmpeg on PATH]
        transcode_ffmpeg: Option<PathBuf> => PathBuf = |_| PathBuf::from("ffmpeg"),
            Lan first, file ffmpeg: Option<PathBuf> => same,
            env ["BUCKETSTREAM_FFMPEG"] => path,
            arg (long = "ffmpeg", value_name = "PATH");
        /// Most ffmpeg processes at once; more streams get 503 transcode_busy [default: half the cores, at least 1]
        transcode_max_concurrent: Option<usize> => usize = |_| super::lan::default_max_transcodes(),
            Lan first, file max_concurrent: Option<usize> => same,
            env ["BUCKETSTREAM_TRANSCODE_MAX_CONCURRENT"] => parsed,
            arg (long = "transcode-max-concurrent", value_name = "N"), range 1..=64;
        /// Folder of transcoded outputs, kept across restarts [default: the OS cache folder's bucketstream/transcode]
        transcode_cache_dir: Option<PathBuf> => Option<PathBuf> =
            |d| d.cache_dir.as_ref().and_then(|c| c.parent()).map(|p| p.join("transcode")),
            Lan first, file cache_dir: Option<PathBuf> => same,
            env ["BUCKETSTREAM_TRANSCODE_CACHE_DIR"] => path,
            arg (long = "transcode-cache-dir", value_name = "DIR");
        /// Transcode cache size cap in bytes, least recently used out first [default: 2 GiB]
        transcode_cache_max_bytes: Option<u64> => u64 = |_| super::lan::DEFAULT_TRANSCODE_CACHE_BYTES,
            Lan first, file cache_max_bytes: Option<u64> => same,
            env ["BUCKETSTREAM_TRANSCODE_CACHE_MAX_BYTES"] => parsed,
            arg (long = "transcode-cache-max-bytes", value_name = "BYTES");
    }
}

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

/// The names of [`ENV`]: the variables that win over the config file.
pub fn env_names() -> impl Iterator<Item = &'static str> {
    ENV.iter().map(|v| v.name)
}

impl Layer {
    /// What the environment says about `part` (variables of [`ENV`], and for the library
    /// the credentials pair).
    pub fn from_env(env: &HashMap<String, String>, part: Part) -> Result<Layer> {
        let mut layer = Layer::default();
        for v in ENV {
            if let (true, Some(value)) = (v.part == part, var(env, v.name)) {
                (v.set)(&mut layer, v.name, value)?;
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
}

/// Where each layer comes from, for errors, highest first.
pub(super) const LAYER_NAMES: [&str; 3] = ["command line", "environment", "config file"];

/// The three layers in precedence order, highest first.
pub struct Layers {
    pub(super) all: [Layer; 3],
}

impl Layers {
    /// The layers of `inputs`, parsed for `part` only.
    pub(super) fn read(inputs: &super::Inputs, part: Part) -> Result<Layers> {
        let file = match &inputs.file {
            Some(file) => Layer::from_file(file, part)?,
            None => Layer::default(),
        };
        Ok(Layers {
            all: [
                inputs.args.clone(),
                Layer::from_env(&inputs.env, part)?,
                file,
            ],
        })
    }

    /// The first layer's value for a setting.
    pub(super) fn first<T>(&self, get: impl Fn(&Layer) -> Option<T>) -> Option<T> {
        self.all.iter().find_map(get)
    }

    /// The first layer's value for a setting, with that layer's name.
    pub(super) fn first_named<T>(
        &self,
        get: impl Fn(&Layer) -> Option<T>,
    ) -> Option<(T, &'static str)> {
        self.all
            .iter()
            .zip(LAYER_NAMES)
            .find_map(|(l, name)| get(l).map(|v| (v, name)))
    }

    /// Whether any layer turns a switch on.
    pub(super) fn any(&self, get: impl Fn(&Layer) -> Option<bool>) -> bool {
        self.all.iter().any(|l| get(l) == Some(true))
    }
}

/// The resolved settings of `inputs` for `part`.
pub(super) fn resolve(inputs: &super::Inputs, part: Part) -> Result<(Layers, Resolved)> {
    let layers = Layers::read(inputs, part)?;
    let resolved = Resolved::from_layers(&layers, &inputs.defaults, part)?;
    Ok((layers, resolved))
}

impl Default for Resolved {
    /// Every setting at its default on a machine with no default folders.
    fn default() -> Resolved {
        Resolved::defaults(&Defaults::default())
    }
}

/// Walks the table of settings: every setting documented, every variable and file key
/// unique and real, every flag a setting, and the README's tables naming them all.
#[cfg(test)]
mod tests {

    use std::collections::HashSet;
    use std::path::Path;

    use super::*;
    use crate::config::file::parse;

    #[test]
    fn every_setting_has_a_doc_and_its_variables_are_unique() {
        assert!(SETTINGS.len() >= 22, "{}", SETTINGS.len());
        let mut names = HashSet::new();
        let mut vars = HashSet::new();
        let mut keys = HashSet::new();
        for s in SETTINGS {
            assert!(names.insert(s.name), "setting {} declared twice", s.name);
            let doc = s.doc.trim();
            assert!(
                doc.len() > 10 && !doc.contains('\n'),
                "{}: doc {doc:?}",
                s.name
            );
            assert!(keys.insert(s.file_key), "file key {} twice", s.file_key);
            for var in s.env {
                assert!(vars.insert(*var), "variable {var} twice");
                assert!(
                    var.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                    "{var}"
                );
            }
        }
        // ENV is the table's variables, each pointing back at its setting and half.
        assert_eq!(ENV.len(), vars.len());
        for v in ENV {
            let s = SETTINGS
                .iter()
                .find(|s| s.name == v.setting)
                .expect("setting");
            assert!(s.env.contains(&v.name) && s.part == v.part, "{}", v.name);
        }
        assert!(env_names().any(|n| n == "BUCKETSTREAM_SCAN_CONCURRENCY"));
    }

    /// Each file key is a key of the generated serde structs and nothing else is: the
    /// "unknown field" error of each table lists exactly the table's keys.
    #[test]
    fn every_file_key_is_a_key_of_the_file_and_nothing_else_is() {
        let tables = ["", "s3", "cache", "lan", "transcode"];
        let mut listed = Vec::new();
        for table in tables {
            let text = match table {
                "" => "no_such_key = 1\n".to_owned(),
                t => format!("[{t}]\nno_such_key = 1\n"),
            };
            let err = parse(&text, Path::new("c.toml")).expect_err("unknown key");
            let msg = err.to_string();
            let expected = msg.split("expected one of").nth(1).expect("key list");
            let expected = expected.split(" (line").next().unwrap_or(expected);
            for key in expected.split(',').map(|k| k.trim().trim_matches('`')) {
                listed.push(match table {
                    "" => key.to_owned(),
                    t => format!("{t}.{key}"),
                });
            }
        }
        let declared: HashSet<&str> = SETTINGS.iter().map(|s| s.file_key).collect();
        let not_settings = ["s3", "cache", "lan", "lan.limits", "transcode"];
        for key in &listed {
            assert!(
                declared.contains(key.as_str()) || not_settings.contains(&key.as_str()),
                "file key {key} is not in the table"
            );
        }
        for key in &declared {
            assert!(
                listed.iter().any(|k| k == key),
                "{key} is not read from the file"
            );
        }
    }

    /// Every setting with a flag has it under its own name; the only settings without one are
    /// the file-only ones.
    #[test]
    fn every_flag_is_a_setting_with_its_help() {
        use clap::Args;
        let cmd = Layer::augment_args(clap::Command::new("x"));
        let mut flagged = HashSet::new();
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            let s = SETTINGS.iter().find(|s| s.name == id).expect(id);
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert_eq!(help, s.doc.trim(), "{id}");
            assert!(arg.get_long().is_some(), "{id} has no long flag");
            flagged.insert(id.to_owned());
        }
        let unflagged: Vec<&str> = SETTINGS
            .iter()
            .map(|s| s.name)
            .filter(|n| !flagged.contains(*n))
            .collect();
        assert_eq!(unflagged, ["path_style"]);
    }

    /// Whether a row of a Markdown table in `readme` names `word` in backticks (alone, or as
    /// `word=value` / `word = value`).
    fn in_a_table_row(readme: &str, word: &str) -> bool {
        readme
            .lines()
            .filter(|l| l.trim_start().starts_with('|'))
            .any(|l| {
                [
                    format!("`{word}`"),
                    format!("`{word}="),
                    format!("`{word} ="),
                ]
                .iter()
                .any(|w| l.contains(w.as_str()))
            })
    }

    /// The file keys and variables a README's tables do not name.
    fn missing_from(readme: &str) -> Vec<&'static str> {
        SETTINGS
            .iter()
            .flat_map(|s| std::iter::once(s.file_key).chain(s.env.iter().copied()))
            .filter(|w| !in_a_table_row(readme, w))
            .collect()
    }

    #[test]
    fn readme_check_finds_what_is_missing() {
        let row = "| `--port` | `BUCKETSTREAM_PORT` | `port` | 8080 | port |\n  | `--no-cache` | `BUCKETSTREAM_NO_CACHE=true` | `cache.enabled = false` | on | x |\n";
        let missing = missing_from(row);
        assert!(!missing.contains(&"port") && !missing.contains(&"BUCKETSTREAM_PORT"));
        assert!(!missing.contains(&"cache.enabled") && !missing.contains(&"BUCKETSTREAM_NO_CACHE"));
        assert!(missing.contains(&"scan_concurrency") && missing.contains(&"AWS_DEFAULT_REGION"));
        // Outside a table row a name does not count.
        assert!(missing_from("`port` `BUCKETSTREAM_PORT`\n").contains(&"port"));
    }

    /// The README's configuration tables name every file key and variable.
    /// `BUCKETSTREAM_README` points the test at another copy (to check a README change).
    #[test]
    fn readme_names_every_file_key_and_variable() {
        let path = std::env::var_os("BUCKETSTREAM_README")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"));
        let readme = std::fs::read_to_string(&path).expect("README");
        let missing = missing_from(&readme);
        assert!(
            missing.is_empty(),
            "{} does not name {missing:?}",
            path.display()
        );
    }
}
