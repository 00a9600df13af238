//! The library database: what was read from each object version, the art store and the last
//! listing of each source, in one SQLite file (WAL mode) in the OS data folder.
//!
//! [`Db`] is a `rusqlite::Connection` behind a `std::sync::Mutex`: every call blocks (the
//! server runs them in `spawn_blocking`). The file's schema is migrated on open
//! ([`schema::MIGRATIONS`]); a file from a newer version, or one that is not a database, is
//! refused with an error naming it and left as it is ([`Db::open_or_reset`] moves a damaged
//! one aside instead). User data is never deleted silently.

mod art_store;
mod listing;
pub mod packed;
mod records;
pub mod schema;
mod user;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OptionalExtension};

pub use listing::PackBytes;
pub use records::Record;
pub use user::{Bookmark, Playlist, PlaylistEdit, Plays, StarKind, MAX_RATING};

use crate::art::ArtError;

/// How long a call waits for another connection's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The size the WAL file is cut back to after a checkpoint, in bytes.
pub const WAL_SIZE_LIMIT: i64 = 32 * 1024 * 1024;

/// SQLite's page cache, in KiB.
pub const PAGE_CACHE_KIB: i64 = 32 * 1024;

/// Why the database could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The file could not be opened or created.
    #[error("cannot open the library database {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file is not a SQLite database, or is damaged. It was left as it is.
    #[error("the library database {} is damaged or not a database ({source}); it was left as it is: move it aside, or start with Db::open_or_reset", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file was written by a newer Bucketstream. It was left as it is.
    #[error("the library database {} has schema version {found}, newer than this build's {known}: it was left as it is (use a newer Bucketstream or another data folder)", path.display())]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The file's `user_version`.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
    /// A schema migration failed (and was rolled back).
    #[error("library database migration {version} failed: {source}")]
    Migration {
        /// The migration's number (1-based).
        version: u32,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A query failed.
    #[error("library database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Moving a damaged file aside, or creating its folder, failed.
    #[error("library database file {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A picture was refused.
    #[error(transparent)]
    Art(#[from] ArtError),
}

/// The library database. Cheap to share behind an `Arc`; every method blocks.
pub struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn is_corruption(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

impl Db {
    /// Opens or creates the database at `path` (and its folder): WAL mode, `synchronous =
    /// NORMAL`, a busy timeout, foreign keys; runs the migrations it has not had. A file from
    /// a newer version ([`DbError::TooNew`]) or not a database ([`DbError::Corrupt`]) is
    /// refused and not written to.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let path = path.to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| DbError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let open_error = |source: rusqlite::Error| {
            if is_corruption(&source) {
                DbError::Corrupt {
                    path: path.clone(),
                    source,
                }
            } else {
                DbError::Open {
                    path: path.clone(),
                    source,
                }
            }
        };
        let mut conn = Connection::open(&path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // Reading the version reads the header: a file that is not a database fails here,
        // before anything is written to it.
        let found = schema::version(&conn).map_err(open_error)?;
        let known = schema::latest();
        if found > known {
            return Err(DbError::TooNew { path, found, known });
        }
        // Also a read of the whole schema: a damaged first page fails here.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .map_err(open_error)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "library database is not in WAL mode");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .and_then(|()| conn.pragma_update(None, "foreign_keys", true))
            // A scan's big transactions grow the WAL file; it is cut back to this after each
            // checkpoint instead of keeping its largest size for ever.
            .and_then(|()| conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT))
            // A page cache that holds the indexes a scan's inserts land in (the default 2 MiB
            // thrashes on 100,000 records).
            .and_then(|()| conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB))
            .map_err(open_error)?;
        let ran = schema::migrate(&mut conn).map_err(|e| match e {
            DbError::Migration { source, .. } if is_corruption(&source) => DbError::Corrupt {
                path: path.clone(),
                source,
            },
            other => other,
        })?;
        if ran > 0 {
            tracing::info!(path = %path.display(), ran, version = known, "library database migrated");
        }
        Ok(Db {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// Like [`Db::open`], but a file that is damaged or not a database is renamed to
    /// `<path>.corrupt-<unix seconds>` (with its `-wal` and `-shm` files) and a fresh one is
    /// created; this is logged as an error naming both files. A newer file is still refused.
    pub fn open_or_reset(path: &Path) -> Result<Db, DbError> {
        match Db::open(path) {
            Err(DbError::Corrupt { source, .. }) => {
                let stamp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let aside = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
                std::fs::rename(path, &aside).map_err(|e| DbError::Io {
                    path: path.to_path_buf(),
                    source: e,
                })?;
                for suffix in ["-wal", "-shm"] {
                    let side = PathBuf::from(format!("{}{suffix}", path.display()));
                    if side.exists() {
                        let to = PathBuf::from(format!("{}{suffix}", aside.display()));
                        if let Err(e) = std::fs::rename(&side, &to) {
                            tracing::warn!(file = %side.display(), error = %e, "could not move aside");
                        }
                    }
                }
                tracing::error!(
                    path = %path.display(),
                    moved_to = %aside.display(),
                    error = %source,
                    "the library database was damaged: moved aside, starting a new one (tags and art will be read again; play counts, stars, playlists and bookmarks are in the file moved aside)"
                );
                Db::open(path)
            }
            other => other,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection; damage found on the way is reported as [`DbError::Corrupt`].
    /// Gives back the page cache a pass over the whole library filled (up to
    /// `PAGE_CACHE_KIB`): an idle server need not keep it (the scan's start then trims the
    /// heap, see `scan::seed`). Failures cost only memory.
    fn release_cache(conn: &Connection) {
        if let Err(err) = conn.execute_batch("PRAGMA shrink_memory") {
            tracing::debug!(error = %err, "could not shrink the database's page cache");
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, DbError>) -> Result<T, DbError> {
        // A panic while the lock was held dropped any open transaction (rolled back): the
        // connection is still sound.
        let mut conn: MutexGuard<'_, Connection> =
            self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut conn).map_err(|e| match e {
            DbError::Sqlite(source) if is_corruption(&source) => DbError::Corrupt {
                path: self.path.clone(),
                source,
            },
            other => other,
        })
    }
}

/// The id of source `identity`, if it has one.
fn source_id(conn: &Connection, identity: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM sources WHERE identity = ?1")?
        .query_row([identity], |row| row.get(0))
        .optional()
}

/// The id of source `identity`, created when new.
fn ensure_source(conn: &Connection, identity: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("INSERT OR IGNORE INTO sources (identity) VALUES (?1)")?
        .execute([identity])?;
    conn.prepare_cached("SELECT id FROM sources WHERE identity = ?1")?
        .query_row([identity], |row| row.get(0))
}

/// `value` as SQLite's signed integer (sizes and counts never reach 2^63; saturates).
fn sql_u64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Column `index` as `u64` (rusqlite has no infallible unsigned 64-bit conversion).
fn get_u64(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(index)?;
    u64::try_from(value).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Integer,
            Box::new(e),
        )
    })
}

/// Column `index` as `Option<u64>`.
fn get_opt_u64(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<u64>> {
    let value: Option<i64> = row.get(index)?;
    value
        .map(|v| {
            u64::try_from(v).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    index,
                    rusqlite::types::Type::Integer,
                    Box::new(e),
                )
            })
        })
        .transpose()
}
