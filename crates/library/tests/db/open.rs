//! Opening the database file: WAL and the schema's migrations (each run once, a failing one
//! rolled back), and the files it refuses: one written by a newer version (left untouched), a
//! damaged one (moved aside only by `open_or_reset`), a damaged header, and damage found after
//! the open. The records and listings themselves are tested in the parent module.

use bucketstream_library::db::schema;
use bucketstream_library::db::{Db, DbError, Record};

use crate::{full_record, plain, raw, SRC};

#[test]
fn wal_is_on_and_migrations_run_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.db");
    let db = Db::open(&path).expect("open");
    db.put_many(SRC, &[plain("a.mp3")]).expect("put");
    let conn = raw(&path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, schema::latest());
    assert_eq!(schema::latest() as usize, schema::MIGRATIONS.len());
    drop(conn);
    drop(db);
    // Opening again runs nothing (a second CREATE TABLE would fail) and keeps the data.
    let db = Db::open(&path).expect("reopen");
    assert_eq!(db.load(SRC).expect("load").len(), 1);
    let mut conn = raw(&path);
    assert_eq!(schema::migrate(&mut conn).expect("migrate"), 0);

    // A fresh file gets every migration once.
    let mut fresh = raw(&dir.path().join("fresh.db"));
    assert_eq!(
        schema::migrate(&mut fresh).expect("migrate"),
        schema::latest()
    );
    assert_eq!(schema::migrate(&mut fresh).expect("again"), 0);
    let indexes: i64 = fresh
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name LIKE 'records_%'",
            [],
            |r| r.get(0),
        )
        .expect("indexes");
    assert_eq!(indexes, 5, "artist, album artist, album, genre, art hash");
}

#[test]
fn a_newer_file_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("newer.db");
    {
        let conn = raw(&path);
        conn.execute_batch(
            "CREATE TABLE future (x); INSERT INTO future VALUES (1); PRAGMA user_version = 99;",
        )
        .expect("future file");
    }
    let before = std::fs::read(&path).expect("read");
    let err = Db::open(&path).expect_err("newer refused");
    assert!(matches!(err, DbError::TooNew { found: 99, .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("99"),
        "{message}"
    );
    let err = Db::open_or_reset(&path).expect_err("not reset either");
    assert!(matches!(err, DbError::TooNew { .. }), "{err:?}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "not one byte changed"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "nothing moved or created: {names:?}");
}

#[test]
fn a_damaged_file_is_refused_then_moved_aside_by_open_or_reset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("library.db");
    let garbage: Vec<u8> = b"this is not a database, it is a text file. ".repeat(200);
    std::fs::write(&path, &garbage).expect("write");

    let err = Db::open(&path).expect_err("refused");
    assert!(matches!(err, DbError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        garbage,
        "left as it is"
    );

    let db = Db::open_or_reset(&path).expect("reset");
    db.put_many(SRC, &[plain("a.mp3")]).expect("usable");
    assert!(db
        .get(SRC, "a.mp3", Some("\"a.mp3\""), 10)
        .expect("get")
        .is_some());
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().contains("library.db.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read(&aside[0]).expect("aside"),
        garbage,
        "the user's file is kept, renamed"
    );
}

#[test]
fn a_database_with_a_damaged_header_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.db");
    drop(Db::open(&path).expect("create"));
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[..16].copy_from_slice(b"NOT SQLITE AT AL");
    std::fs::write(&path, &bytes).expect("write");
    let err = Db::open(&path).expect_err("refused");
    assert!(matches!(err, DbError::Corrupt { .. }), "{err:?}");
}

#[test]
fn damage_found_later_is_reported_as_corrupt_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.db");
    {
        let db = Db::open(&path).expect("create");
        let many: Vec<Record> = (0..500).map(|i| full_record(&format!("{i}.mp3"))).collect();
        db.put_many(SRC, &many).expect("put");
    }
    // Page 1 (header and schema) intact, every later page garbage.
    let mut bytes = std::fs::read(&path).expect("read");
    assert!(bytes.len() > 64 * 1024, "several pages: {}", bytes.len());
    for b in &mut bytes[4096..] {
        *b = 0xa5;
    }
    std::fs::write(&path, &bytes).expect("write");
    let err = Db::open(&path)
        .and_then(|db| db.load(SRC))
        .expect_err("damage found");
    assert!(matches!(err, DbError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_new_migration_runs_once_and_a_failing_one_rolls_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut conn = raw(&dir.path().join("m.db"));
    let one = "CREATE TABLE one (x);";
    let two = "CREATE TABLE two (x); INSERT INTO two VALUES (2);";
    let bad = "CREATE TABLE three (x); INSERT INTO nowhere VALUES (1);";
    let version = |c: &rusqlite::Connection| -> u32 {
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version")
    };
    assert_eq!(schema::run(&mut conn, &[one]).expect("first"), 1);
    assert_eq!(
        schema::run(&mut conn, &[one, two]).expect("appended"),
        1,
        "only the new one"
    );
    assert_eq!(version(&conn), 2);
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM two", [], |r| r.get(0))
        .expect("two");
    assert_eq!(rows, 1, "ran once");
    let err = schema::run(&mut conn, &[one, two, bad]).expect_err("bad migration");
    assert!(
        matches!(err, DbError::Migration { version: 3, .. }),
        "{err:?}"
    );
    assert_eq!(version(&conn), 2, "version unchanged");
    let three: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'three'",
            [],
            |r| r.get(0),
        )
        .expect("schema");
    assert_eq!(three, 0, "the failed migration's table was rolled back");
}
