//! What was read from one object version ([`Record`]), stored per (source, key) and matched on
//! (ETag, size): an unchanged object is never read again, a changed one is a miss.

use std::collections::{HashMap, HashSet};

use bucketstream_core::catalog::ItemMeta;
use rusqlite::{params, Row};

use super::{ensure_source, get_opt_u64, get_u64, source_id, sql_u64, Db, DbError};

/// The record of one object version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// The object key, as the source lists it.
    pub key: String,
    /// The entity tag the object had when it was read (quoted, as listed).
    pub etag: Option<String>,
    /// The size the object had when it was read.
    pub size: u64,
    /// What was read (tags, duration, picture size, and `art`: the server path of the
    /// picture, `/art/{art_hash}`, stored as given).
    pub meta: ItemMeta,
    /// The stored picture's content hash ([`Db::art`]), when it has one.
    pub art_hash: Option<String>,
    /// Why the object could not be read, when it could not (it stays in the library).
    pub error: Option<String>,
    /// Bytes fetched from the store to read it.
    pub fetched_bytes: u64,
}

/// The columns, in the order [`from_row`] reads them and [`Db::put_many`] writes them.
const COLUMNS: &str = "key, etag, size, title, artist, album, album_artist, track, disc, year, \
    genre, duration_ms, width, height, art, bitrate_kbps, sample_rate, channels, video_codec, \
    audio_codec, art_hash, error, fetched_bytes";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        key: row.get(0)?,
        etag: row.get(1)?,
        size: get_u64(row, 2)?,
        meta: ItemMeta {
            title: row.get(3)?,
            artist: row.get(4)?,
            album: row.get(5)?,
            album_artist: row.get(6)?,
            track: row.get(7)?,
            disc: row.get(8)?,
            year: row.get(9)?,
            genre: row.get(10)?,
            duration_ms: get_opt_u64(row, 11)?,
            width: row.get(12)?,
            height: row.get(13)?,
            art: row.get(14)?,
            bitrate_kbps: row.get(15)?,
            sample_rate: row.get(16)?,
            channels: row.get(17)?,
            video_codec: row.get(18)?,
            audio_codec: row.get(19)?,
        },
        art_hash: row.get(20)?,
        error: row.get(21)?,
        fetched_bytes: get_u64(row, 22)?,
    })
}

impl Db {
    /// The record of `key` in `source` if it was read at this `etag` and `size`; `None` when
    /// it never was, or the object changed since.
    pub fn get(
        &self,
        source: &str,
        key: &str,
        etag: Option<&str>,
        size: u64,
    ) -> Result<Option<Record>, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(None);
            };
            let sql = format!("SELECT {COLUMNS} FROM records WHERE source_id = ?1 AND key = ?2");
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![sid, key])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let record = from_row(row)?;
            Ok((record.etag.as_deref() == etag && record.size == size).then_some(record))
        })
    }

    /// Every record of `source`, by key (each with the ETag and size it was read at).
    pub fn load(&self, source: &str) -> Result<HashMap<String, Record>, DbError> {
        // The count is only a capacity hint (bounded: a damaged file cannot over-allocate).
        let hint = self.count(source)?.min(1 << 24);
        let mut out = HashMap::with_capacity(usize::try_from(hint).unwrap_or(0));
        self.for_each_record(source, |record| {
            out.insert(record.key.clone(), record);
        })?;
        Ok(out)
    }

    /// How many records `source` has.
    pub fn count(&self, source: &str) -> Result<u64, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(0);
            };
            let count: i64 = conn
                .prepare_cached("SELECT count(*) FROM records WHERE source_id = ?1")?
                .query_row([sid], |row| row.get(0))?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

    /// Hands every record of `source` to `each`, one at a time, for a caller that keeps less
    /// than the whole map (1,000,000 records are a few hundred MiB as a map). Returns how
    /// many were handed over.
    pub fn for_each_record(
        &self,
        source: &str,
        mut each: impl FnMut(Record),
    ) -> Result<u64, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(0);
            };
            let sql = format!("SELECT {COLUMNS} FROM records WHERE source_id = ?1");
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query([sid])?;
            let mut handed = 0u64;
            while let Some(row) = rows.next()? {
                each(from_row(row)?);
                handed += 1;
            }
            drop(rows);
            Db::release_cache(conn);
            Ok(handed)
        })
    }

    /// Stores `records` of `source`, each replacing the record of its key; all in one
    /// transaction (all or none).
    pub fn put_many(&self, source: &str, records: &[Record]) -> Result<(), DbError> {
        if records.is_empty() {
            return Ok(());
        }
        self.with(|conn| {
            let tx = conn.transaction()?;
            let sid = ensure_source(&tx, source)?;
            {
                let sql = format!(
                    "INSERT OR REPLACE INTO records (source_id, {COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                     ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)"
                );
                let mut stmt = tx.prepare_cached(&sql)?;
                for r in records {
                    let m = &r.meta;
                    stmt.execute(params![
                        sid,
                        r.key,
                        r.etag,
                        sql_u64(r.size),
                        m.title,
                        m.artist,
                        m.album,
                        m.album_artist,
                        m.track,
                        m.disc,
                        m.year,
                        m.genre,
                        m.duration_ms.map(sql_u64),
                        m.width,
                        m.height,
                        m.art,
                        m.bitrate_kbps,
                        m.sample_rate,
                        m.channels,
                        m.video_codec,
                        m.audio_codec,
                        r.art_hash,
                        r.error,
                        sql_u64(r.fetched_bytes),
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Drops the records of `source` whose keys are not in `keys` (objects no longer listed);
    /// returns how many were dropped.
    pub fn retain(&self, source: &str, keys: &HashSet<&str>) -> Result<u64, DbError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let Some(sid) = source_id(&tx, source)? else {
                return Ok(0);
            };
            let mut gone: Vec<i64> = Vec::new();
            {
                let mut stmt =
                    tx.prepare_cached("SELECT rowid, key FROM records WHERE source_id = ?1")?;
                let mut rows = stmt.query([sid])?;
                while let Some(row) = rows.next()? {
                    let key = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
                    if !keys.contains(key) {
                        gone.push(row.get(0)?);
                    }
                }
                let mut delete = tx.prepare_cached("DELETE FROM records WHERE rowid = ?1")?;
                for rowid in &gone {
                    delete.execute([rowid])?;
                }
            }
            tx.commit()?;
            Ok(u64::try_from(gone.len()).unwrap_or(u64::MAX))
        })
    }

    /// Deletes pictures no record refers to any more; returns how many.
    pub fn prune_art(&self) -> Result<u64, DbError> {
        self.with(|conn| {
            let n = conn.execute(
                "DELETE FROM art WHERE hash NOT IN \
                 (SELECT art_hash FROM records WHERE art_hash IS NOT NULL)",
                [],
            )?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
    }
}
