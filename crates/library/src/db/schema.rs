//! The database schema, as an ordered list of migrations counted by `PRAGMA user_version`.
//!
//! Adding a migration is one line: append its SQL to [`MIGRATIONS`]. Migration `n` (1-based)
//! runs once, in its own transaction, on a file whose `user_version` is `n - 1`, and sets it
//! to `n` in that same transaction; so a crash mid-migration leaves the file as it was. A file
//! whose `user_version` is above `MIGRATIONS.len()` was written by a newer Bucketstream and is
//! refused untouched (see [`super::Db::open`]).

use rusqlite::{Connection, TransactionBehavior};

use super::DbError;

/// Every migration, oldest first. Never edit a released one: append a new one.
pub const MIGRATIONS: &[&str] = &[
    include_str!("sql/001_init.sql"),
    include_str!("sql/002_listing_ids.sql"),
    include_str!("sql/003_user.sql"),
    include_str!("sql/004_ratings.sql"),
];

/// The schema version this build writes (the number of migrations).
pub fn latest() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// The file's `user_version`.
pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
}

/// Runs the migrations of [`MIGRATIONS`] the file has not had yet; returns how many ran.
pub fn migrate(conn: &mut Connection) -> Result<u32, DbError> {
    run(conn, MIGRATIONS)
}

/// Runs those of `migrations` the file has not had yet, each in its own transaction; returns
/// how many ran. On an error, that migration is rolled back and the later ones do not run.
pub fn run(conn: &mut Connection, migrations: &[&str]) -> Result<u32, DbError> {
    let mut ran = 0;
    for (index, sql) in migrations.iter().enumerate() {
        let target = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| DbError::Migration {
                version: target,
                source,
            })?;
        // Read inside the write transaction: two processes opening the file at once do not
        // both run the same migration.
        let current = version(&tx).map_err(|source| DbError::Migration {
            version: target,
            source,
        })?;
        if current >= target {
            continue;
        }
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", i64::from(target)))
            .and_then(|()| tx.commit())
            .map_err(|source| DbError::Migration {
                version: target,
                source,
            })?;
        ran += 1;
    }
    Ok(ran)
}
