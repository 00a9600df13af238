//! The glue both binaries (the headless server and the desktop app) share: logging, the
//! environment, the sample folder, the config file, the wording of a failed bind, and the
//! settings form's connection test.
//!
//! Kept in one place so the two front ends cannot drift apart again: they used to read
//! different sample folders and word a busy port differently. Everything that touches the
//! process (its environment, the working directory's `.env`, the executable's path) is
//! here, so [`crate::config`] stays a pure function of what this module gathers.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{self, file, Defaults, FileConfig, Inputs, Layer, S3Config, SourceConfig};
use crate::error::Result;
use crate::media;
use crate::source::Source;

/// Logs to stderr at `BUCKETSTREAM_LOG` (an `EnvFilter`, default `info`).
///
/// A closed stderr (a pipe whose reader left, a stopped terminal) must not stop the
/// process: by default the subscriber reports a failed write with `eprintln!`, which
/// panics when stderr is gone, so its internal errors are not logged.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BUCKETSTREAM_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .init();
}

/// The process environment over the `.env` file of the working directory (a real
/// variable wins over the file's).
pub fn environment() -> HashMap<String, String> {
    let mut env: HashMap<String, String> = HashMap::new();
    if let Ok(iter) = dotenvy::from_path_iter(".env") {
        env.extend(iter.flatten());
    }
    env.extend(std::env::vars());
    env
}

/// Where the sample folder may be, first found wins: installed beside the binary (the
/// desktop packages' `lib/` folders, the server's `share/`), then the checkout's.
fn sample_candidates(exe_dir: Option<&Path>) -> Vec<PathBuf> {
    let installed = exe_dir.map(|d| {
        [
            d.join("../lib/Bucketstream/samples"),
            d.join("../lib/bucketstream-desktop/samples"),
            d.join("../share/bucketstream/samples"),
        ]
    });
    let checkout = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples"));
    installed.into_iter().flatten().chain([checkout]).collect()
}

/// The sample folder shipped with the app (used when no other folder exists).
pub fn sample_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok();
    sample_candidates(exe.as_deref().and_then(Path::parent))
        .into_iter()
        .find(|dir| dir.is_dir())
}

/// The machine's defaults: Music, Videos, the sample folder, the OS cache folder.
pub fn machine_defaults() -> Defaults {
    Defaults::for_this_machine(sample_dir())
}

/// The config file at `path` (which must exist), or else at [`file::default_path`] (which
/// may not).
pub fn config_file(path: Option<&Path>) -> Result<Option<FileConfig>> {
    match path {
        Some(path) => file::load(path, true),
        None => match file::default_path() {
            Some(path) => file::load(&path, false),
            None => Ok(None),
        },
    }
}

/// The inputs of a headless run: `args` from the command line, the process environment,
/// the config file at `path` (see [`config_file`]) and the machine's defaults.
pub fn inputs(args: Layer, path: Option<&Path>) -> Result<Inputs> {
    Ok(Inputs {
        args,
        env: environment(),
        file: config_file(path)?,
        defaults: machine_defaults(),
    })
}

/// [`config::load`] of [`inputs`].
pub fn load(args: Layer, path: Option<&Path>) -> Result<config::Loaded> {
    config::load(&inputs(args, path)?)
}

/// Why a listener could not be bound, as both front ends word it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindProblem {
    /// Another process holds the port.
    InUse,
    /// A port below 1024 without the privilege.
    Denied,
    /// Anything else, as the OS said it.
    Other(String),
}

impl BindProblem {
    /// The problem `err` (from a `bind`) is.
    pub fn of(err: &std::io::Error) -> BindProblem {
        match err.kind() {
            std::io::ErrorKind::AddrInUse => BindProblem::InUse,
            std::io::ErrorKind::PermissionDenied => BindProblem::Denied,
            _ => BindProblem::Other(err.to_string()),
        }
    }
}

impl fmt::Display for BindProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindProblem::InUse => f.write_str("the port is already in use"),
            BindProblem::Denied => {
                f.write_str("permission denied (ports below 1024 need privileges)")
            }
            BindProblem::Other(reason) => f.write_str(reason),
        }
    }
}

/// What a successful connection test found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConnectionReport {
    /// Objects listed under the prefix.
    pub objects: usize,
    /// How many of them are playable media.
    pub media: usize,
}

/// Lists the bucket `s3` names once; the error says what to fix (bad credentials, no such
/// bucket, endpoint unreachable, access denied).
pub async fn test_connection(s3: S3Config) -> Result<ConnectionReport> {
    let source = Source::from_config(&SourceConfig::S3(s3)).await?;
    let objects = source.list().await?;
    Ok(ConnectionReport {
        objects: objects.len(),
        media: objects
            .iter()
            .filter(|o| media::classify(&o.key).is_some())
            .count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_looked_for_where_either_binary_looked() {
        let got = sample_candidates(Some(Path::new("/opt/bs/bin")));
        let want = [
            "/opt/bs/bin/../lib/Bucketstream/samples",
            "/opt/bs/bin/../lib/bucketstream-desktop/samples",
            "/opt/bs/bin/../share/bucketstream/samples",
        ];
        assert_eq!(got[..3], want.map(PathBuf::from));
        let checkout = got.last().expect("checkout");
        assert!(
            checkout.ends_with("crates/core/../../samples"),
            "{checkout:?}"
        );
        assert_eq!(sample_candidates(None).len(), 1);
    }

    #[test]
    fn bind_problems_are_worded_once() {
        use std::io::{Error, ErrorKind};
        let cases = [
            (ErrorKind::AddrInUse, "the port is already in use"),
            (
                ErrorKind::PermissionDenied,
                "permission denied (ports below 1024 need privileges)",
            ),
        ];
        for (kind, want) in cases {
            assert_eq!(BindProblem::of(&Error::from(kind)).to_string(), want);
        }
        let other = BindProblem::of(&Error::other("no such address"));
        assert_eq!(other.to_string(), "no such address");
    }
}
