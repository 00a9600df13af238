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
pub const DEFAULT_SCAN_CONCURRENCY: usize = 4;
/// Default time limit, in seconds, for reading one object's tags and art.
pub const DEFAULT_PROBE_TIMEOUT_SECS: u64 = 20;

/// The media library's database and background scan, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryConfig {
    /// Folder of the library database (tags per object version, art). Default: the OS data
    /// folder (`~/.local/share/bucketstream` on Linux), the same for both binaries; on a
    /// machine without one (no home folder), `bucketstream` in the temporary folder.
    pub data_dir: PathBuf,
    /// Read tags, durations and art in the background. Default on (`--no-scan` turns it off).
    pub scan: bool,
    /// Objects read at once by the scan, 1 to 64. Default 4.
    pub scan_concurrency: usize,
    /// Time limit for reading one object (a hostile or stalled object is given up after it
    /// and recorded as failed), 1 s to 1 h. Default 20 s.
    pub probe_timeout: Duration,
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
        }
    }
}

#[cfg(test)]
mod tests;
