//! [`LibraryConfig`]: where the media library's database lives and how the background scan
//! reads tags, durations and art (issue #13).
//!
//! Its four settings (`data_dir`, `scan`, `scan_concurrency`, `probe_timeout_secs`) are
//! entries of the table in [`super::layer`] like every other, with a flag, a variable and a
//! top-level key of the config file; this module only turns their resolved values into the
//! typed configuration the scanner reads.

use std::path::PathBuf;
use std::time::Duration;

use super::Resolved;

/// Default number of objects the background scan reads at once.
pub const DEFAULT_SCAN_CONCURRENCY: usize = 16;
/// Default time limit, in seconds, for reading one object's tags and art.
pub const DEFAULT_PROBE_TIMEOUT_SECS: u64 = 20;

/// Default largest upload: 50 GiB.
pub const DEFAULT_UPLOAD_MAX_BYTES: u64 = 50 << 30;
/// Default time an unfinished upload is kept without a write: one day.
pub const DEFAULT_UPLOAD_EXPIRY_SECS: u64 = 86_400;

/// The media library's database and background scan, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryConfig {
    /// Folder of the library database (tags per object version, art). Default: the OS data
    /// folder (`~/.local/share/bucketstream` on Linux), the same for both binaries; on a
    /// machine without one (no home folder), `bucketstream` in the temporary folder.
    pub data_dir: PathBuf,
    /// Read tags, durations and art in the background. Default on (`--no-scan` turns it off).
    pub scan: bool,
    /// Objects read at once by the scan, 1 to 64. Default 16 (one at a time while media
    /// plays, see `bucketstream_library::scan`).
    pub scan_concurrency: usize,
    /// Time limit for reading one object (a hostile or stalled object is given up after it
    /// and recorded as failed), 1 s to 1 h. Default 20 s.
    pub probe_timeout: Duration,
    /// The largest upload `/api/uploads` accepts (`413` beyond). Default 50 GiB.
    pub upload_max_bytes: u64,
    /// An unfinished upload not written to for this long is aborted (its S3 multipart upload
    /// or its temporary file removed). Default one day.
    pub upload_expiry: Duration,
}

impl LibraryConfig {
    /// The defaults of every library setting, with the database in `data_dir` (for tests and
    /// embeddings that build a [`super::Config`] by hand).
    pub fn new(data_dir: PathBuf) -> LibraryConfig {
        LibraryConfig {
            data_dir,
            ..LibraryConfig::from_resolved(&Resolved::default())
        }
    }

    /// The library settings of `r` (the table has checked their ranges).
    pub(super) fn from_resolved(r: &Resolved) -> LibraryConfig {
        LibraryConfig {
            data_dir: r
                .data_dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("bucketstream")),
            scan: r.scan,
            scan_concurrency: r.scan_concurrency,
            probe_timeout: Duration::from_secs(r.probe_timeout_secs),
            upload_max_bytes: r.upload_max_bytes,
            upload_expiry: Duration::from_secs(r.upload_expiry_secs),
        }
    }
}

/// The library settings (issue #13) through every layer: default, file, environment, flag.
#[cfg(test)]
mod tests {

    use std::collections::HashMap;
    use std::path::Path;

    use clap::Parser;

    use super::*;
    use crate::config::file::parse;
    use crate::config::{Config, Defaults, Inputs, Layer};
    use crate::error::Result;

    fn defaults() -> Defaults {
        Defaults {
            media_dirs: vec![PathBuf::from("/home/u/Music")],
            cache_dir: None,
            data_dir: Some(PathBuf::from("/home/u/.local/share/bucketstream")),
        }
    }

    fn resolve(args: &[&str], env: &[(&str, &str)], file: &str) -> Result<Config> {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            layer: Layer,
        }
        let cli = Cli::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
            .expect("flags parse");
        Inputs {
            args: cli.layer,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
            file: Some(parse(file, Path::new("c.toml")).expect("file parses")),
            defaults: defaults(),
        }
        .config()
    }

    fn library(args: &[&str], env: &[(&str, &str)], file: &str) -> LibraryConfig {
        resolve(args, env, file).expect("resolves").library
    }

    #[test]
    fn nothing_said_is_the_documented_default() {
        let lib = library(&[], &[], "");
        assert_eq!(
            lib,
            LibraryConfig {
                data_dir: PathBuf::from("/home/u/.local/share/bucketstream"),
                scan: true,
                scan_concurrency: DEFAULT_SCAN_CONCURRENCY,
                probe_timeout: Duration::from_secs(20),
                upload_max_bytes: 50 << 30,
                upload_expiry: Duration::from_secs(86_400),
            }
        );
        assert_eq!(LibraryConfig::new("/d".into()).scan_concurrency, 16);
        // No data folder on the machine: the temporary folder, never an empty path.
        let bare = Inputs {
            defaults: Defaults {
                data_dir: None,
                ..defaults()
            },
            ..Inputs::default()
        }
        .config()
        .expect("resolves");
        assert_eq!(
            bare.library.data_dir,
            std::env::temp_dir().join("bucketstream")
        );
    }

    #[test]
    fn the_os_data_folder_is_the_default_of_both_binaries() {
        let machine = Defaults::for_this_machine(None);
        let want =
            directories::ProjectDirs::from("", "", "bucketstream").map(|d| d.data_dir().to_owned());
        assert_eq!(machine.data_dir, want);
        if let Some(dir) = &machine.data_dir {
            assert!(dir.ends_with("bucketstream"), "{dir:?}");
        }
    }

    #[test]
    fn data_dir_flag_over_env_over_file() {
        let file = "data_dir = \"/from/file\"\n";
        let env = [("BUCKETSTREAM_DATA_DIR", "/from/env")];
        let flag = ["--data-dir", "/from/flag"];
        assert_eq!(
            library(&[], &[], file).data_dir,
            PathBuf::from("/from/file")
        );
        assert_eq!(
            library(&[], &env, file).data_dir,
            PathBuf::from("/from/env")
        );
        assert_eq!(
            library(&flag, &env, file).data_dir,
            PathBuf::from("/from/flag")
        );
        // An empty variable is no variable.
        let blank = [("BUCKETSTREAM_DATA_DIR", " ")];
        assert_eq!(
            library(&[], &blank, file).data_dir,
            PathBuf::from("/from/file")
        );
    }

    #[test]
    fn scan_flag_over_env_over_file() {
        assert!(!library(&[], &[], "scan = false\n").scan);
        assert!(library(&[], &[("BUCKETSTREAM_SCAN", "true")], "scan = false\n").scan);
        assert!(!library(&[], &[("BUCKETSTREAM_SCAN", "false")], "scan = true\n").scan);
        // --no-scan wins over a variable and a file that turn it on.
        assert!(
            !library(
                &["--no-scan"],
                &[("BUCKETSTREAM_SCAN", "true")],
                "scan = true\n"
            )
            .scan
        );
        let err = resolve(&[], &[("BUCKETSTREAM_SCAN", "yes")], "").expect_err("not a bool");
        assert!(err.to_string().contains("BUCKETSTREAM_SCAN"), "{err}");
    }

    #[test]
    fn scan_concurrency_flag_over_env_over_file() {
        let file = "scan_concurrency = 8\n";
        let env = [("BUCKETSTREAM_SCAN_CONCURRENCY", "16")];
        assert_eq!(library(&[], &[], file).scan_concurrency, 8);
        assert_eq!(library(&[], &env, file).scan_concurrency, 16);
        assert_eq!(
            library(&["--scan-concurrency", "64"], &env, file).scan_concurrency,
            64
        );
        assert_eq!(
            library(&["--scan-concurrency", "1"], &[], "").scan_concurrency,
            1
        );
    }

    #[test]
    fn probe_timeout_flag_over_env_over_file() {
        let file = "probe_timeout_secs = 5\n";
        let env = [("BUCKETSTREAM_PROBE_TIMEOUT_SECS", "7")];
        assert_eq!(
            library(&[], &[], file).probe_timeout,
            Duration::from_secs(5)
        );
        assert_eq!(
            library(&[], &env, file).probe_timeout,
            Duration::from_secs(7)
        );
        assert_eq!(
            library(&["--probe-timeout-secs", "9"], &env, file).probe_timeout,
            Duration::from_secs(9)
        );
    }

    /// Out of range is refused with the setting and the layer that said it, and only the
    /// winning layer is checked (a flag may correct a bad file).
    #[test]
    fn out_of_range_values_name_the_setting_and_the_layer() {
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (
                &[],
                &[],
                "scan_concurrency = 0\n",
                "the config file sets scan_concurrency to 0; it must be 1 to 64",
            ),
            (
                &[],
                &[("BUCKETSTREAM_SCAN_CONCURRENCY", "65")],
                "",
                "the environment sets scan_concurrency to 65",
            ),
            (
                &["--scan-concurrency", "0"],
                &[],
                "",
                "the command line sets scan_concurrency to 0",
            ),
            (
                &[],
                &[],
                "probe_timeout_secs = 0\n",
                "probe_timeout_secs to 0; it must be 1 to 3600",
            ),
            (
                &["--probe-timeout-secs", "3601"],
                &[],
                "",
                "probe_timeout_secs to 3601",
            ),
            (
                &[],
                &[("BUCKETSTREAM_SCAN_CONCURRENCY", "four")],
                "",
                "BUCKETSTREAM_SCAN_CONCURRENCY=\"four\" is not a valid value",
            ),
        ];
        for (args, env, file, want) in cases {
            let err = resolve(args, env, file).expect_err(want);
            assert!(err.to_string().contains(want), "{args:?} {env:?}: {err}");
        }
        let fixed = library(&["--scan-concurrency", "2"], &[], "scan_concurrency = 0\n");
        assert_eq!(fixed.scan_concurrency, 2);
        assert!(parse("scan_concurrency = -1\n", Path::new("c.toml")).is_err());
        assert!(parse("scan = \"no\"\n", Path::new("c.toml")).is_err());
    }

    /// A library setting out of range does not stop the LAN half from loading, and the
    /// reverse (the desktop falls back per half).
    #[test]
    fn library_settings_belong_to_the_library_half() {
        let inputs = Inputs {
            env: [("BUCKETSTREAM_SCAN_CONCURRENCY", "0")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            defaults: defaults(),
            ..Inputs::default()
        };
        assert!(inputs.lan().is_ok());
        assert!(inputs.config().is_err());
    }
}
