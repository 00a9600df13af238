//! The last successful listing of each source, so that a restart shows the whole library at
//! once, before the first listing of the store finishes. Each media object's item id is kept
//! with it, so the restart does not hash every key again (1,000,000 SHA-256s).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bucketstream_core::catalog::{ItemId, ItemMeta};
use bucketstream_core::source::ObjectMeta;
use rusqlite::params;

use super::packed::file;
use super::{ensure_source, get_u64, source_id, sql_u64, Db, DbError};

/// A packed listing as read: the blob from the database, or its file mapped.
pub enum PackBytes {
    /// Stored in the database (a save that could not write the file, or an older one).
    Blob(Vec<u8>),
    /// The file beside the database.
    File(file::Packed),
}

impl std::ops::Deref for PackBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            PackBytes::Blob(blob) => blob,
            PackBytes::File(mapped) => mapped,
        }
    }
}

/// `t` as (seconds, nanoseconds) from the Unix epoch, exactly (seconds negative before it).
pub(super) fn split_time(t: SystemTime) -> (i64, i64) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            i64::from(d.subsec_nanos()),
        ),
        Err(before) => {
            let d = before.duration();
            let (mut secs, mut nanos) = (
                -i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                i64::from(d.subsec_nanos()),
            );
            if nanos > 0 {
                secs -= 1;
                nanos = 1_000_000_000 - nanos;
            }
            (secs, nanos)
        }
    }
}

/// The time of (seconds, nanoseconds) from [`split_time`]; `None` when out of range.
pub(super) fn join_time(secs: i64, nanos: i64) -> Option<SystemTime> {
    let nanos = u32::try_from(nanos).ok().filter(|n| *n < 1_000_000_000)?;
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(secs.unsigned_abs(), nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(secs.unsigned_abs()))?
            .checked_add(Duration::from_nanos(u64::from(nanos)))
    }
}

impl Db {
    /// Replaces the saved listing of `source` with `objects` (in their order).
    pub fn save_listing(&self, source: &str, objects: &[ObjectMeta]) -> Result<(), DbError> {
        self.save_listing_with_ids(source, objects, &[])
    }

    /// As [`Db::save_listing`], with the item id of each object (`ids[i]` for `objects[i]`;
    /// `None`, or missing, for objects that are not items).
    pub fn save_listing_with_ids(
        &self,
        source: &str,
        objects: &[ObjectMeta],
        ids: &[Option<ItemId>],
    ) -> Result<(), DbError> {
        self.save_listing_items(source, objects, ids, &[])
    }

    /// As [`Db::save_listing_with_ids`], with what is known of each item (`metas[i]` for
    /// `objects[i]`), kept in the packed copy so a restart serves tags at once.
    pub fn save_listing_items(
        &self,
        source: &str,
        objects: &[ObjectMeta],
        ids: &[Option<ItemId>],
        metas: &[Arc<ItemMeta>],
    ) -> Result<(), DbError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let sid = ensure_source(&tx, source)?;
            tx.execute("DELETE FROM listings WHERE source_id = ?1", [sid])?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO listings (source_id, pos, key, size, etag, modified_s, modified_ns, item_id) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for (pos, o) in objects.iter().enumerate() {
                    let (s, ns) = o.last_modified.map(split_time).unzip();
                    let id = ids.get(pos).copied().flatten();
                    let id = id.as_ref().map(ItemId::as_str);
                    stmt.execute(params![sid, i64::try_from(pos).unwrap_or(i64::MAX), o.key, sql_u64(o.size), o.etag, s, ns, id])?;
                }
            }
            let stored = self.keep_pack(sid, super::packed::pack(objects, ids, metas));
            tx.execute(
                "INSERT OR REPLACE INTO listing_packs (source_id, data) VALUES (?1, ?2)",
                params![sid, stored],
            )?;
            let saved_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            tx.execute(
                "INSERT OR REPLACE INTO listing_saves (source_id, count, saved_ms) VALUES (?1, ?2, ?3)",
                params![sid, i64::try_from(objects.len()).unwrap_or(i64::MAX), sql_u64(saved_ms)],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Replaces only the packed copy of the saved listing of `source` (after a scan: the same
    /// objects, with what the scan read of them), when `objects` is the listing saved (same
    /// count); false, changing nothing, otherwise.
    pub fn save_listing_pack(
        &self,
        source: &str,
        objects: &[ObjectMeta],
        ids: &[Option<ItemId>],
        metas: &[Arc<ItemMeta>],
    ) -> Result<bool, DbError> {
        let data = super::packed::pack(objects, ids, metas);
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(false);
            };
            let count: Option<u64> = {
                let mut stmt =
                    conn.prepare_cached("SELECT count FROM listing_saves WHERE source_id = ?1")?;
                let mut rows = stmt.query([sid])?;
                match rows.next()? {
                    Some(row) => Some(get_u64(row, 0)?),
                    None => None,
                }
            };
            if count != u64::try_from(objects.len()).ok() {
                return Ok(false);
            }
            let stored = self.keep_pack(sid, data);
            conn.execute(
                "INSERT OR REPLACE INTO listing_packs (source_id, data) VALUES (?1, ?2)",
                params![sid, stored],
            )?;
            Ok(true)
        })
    }

    /// The saved listing of `source`, in its order; `None` when none was ever saved.
    pub fn load_listing(&self, source: &str) -> Result<Option<Vec<ObjectMeta>>, DbError> {
        Ok(self
            .load_listing_with_ids(source)?
            .map(|(objects, _)| objects))
    }

    /// As [`Db::load_listing`], with the saved item id of each object (`None` where none
    /// was saved, or where the text saved is not an id).
    #[allow(clippy::type_complexity)]
    pub fn load_listing_with_ids(
        &self,
        source: &str,
    ) -> Result<Option<(Vec<ObjectMeta>, Vec<Option<ItemId>>)>, DbError> {
        let (mut objects, mut ids) = (Vec::new(), Vec::new());
        let found = self.load_listing_each(source, |o, id| {
            objects.push(o);
            ids.push(id);
        })?;
        Ok(found.then_some((objects, ids)))
    }

    /// Hands each row of the saved listing of `source` to `each`, in order, with its saved
    /// item id, without collecting them (a caller can make its items as the rows come).
    /// False when no listing was ever saved.
    pub fn load_listing_each(
        &self,
        source: &str,
        mut each: impl FnMut(ObjectMeta, Option<ItemId>),
    ) -> Result<bool, DbError> {
        if let Some(data) = self.load_listing_packed(source)? {
            if super::packed::unpack(&data, &mut each).is_some() {
                return Ok(true);
            }
            tracing::warn!("the packed listing is damaged; reading its rows");
        }
        self.load_listing_rows(source, each)
    }

    /// The packed copy of the saved listing of `source` (one read; see [`super::packed`]),
    /// when a listing was saved with one. Not checked: [`super::packed::split`] and
    /// [`super::packed::unpack_part`] refuse a damaged one, and the rows are then read
    /// with [`Db::load_listing_rows`].
    pub fn load_listing_packed(&self, source: &str) -> Result<Option<PackBytes>, DbError> {
        let stored = self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(None);
            };
            if !listing_saved(conn, sid)? {
                return Ok(None);
            }
            let mut stmt =
                conn.prepare_cached("SELECT data FROM listing_packs WHERE source_id = ?1")?;
            let mut rows = stmt.query([sid])?;
            Ok(match rows.next()? {
                Some(row) => row.get::<_, Option<Vec<u8>>>(0)?.map(|blob| (sid, blob)),
                None => None,
            })
        })?;
        let Some((sid, blob)) = stored else {
            return Ok(None);
        };
        let Some(token) = file::token_of(&blob) else {
            return Ok(Some(PackBytes::Blob(blob)));
        };
        match file::open(&file::path_for(self.path(), sid), token) {
            Ok(Some(mapped)) => Ok(Some(PackBytes::File(mapped))),
            Ok(None) => {
                tracing::warn!(
                    "the packed listing's file is missing or another save's; reading its rows"
                );
                Ok(None)
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the packed listing's file; reading its rows");
                Ok(None)
            }
        }
    }

    /// What to store in `listing_packs` for the packed listing `data` of source `sid`: a
    /// pointer to the file it was written to beside the database, or (when that file cannot
    /// be written) the blob itself.
    fn keep_pack(&self, sid: i64, data: Vec<u8>) -> Vec<u8> {
        let token = file::new_token();
        match file::write(&file::path_for(self.path(), sid), token, &data) {
            Ok(()) => file::pointer(token),
            Err(err) => {
                tracing::warn!(error = %err, "cannot write the packed listing beside the database; keeping it inside");
                data
            }
        }
    }

    /// As [`Db::load_listing_each`], from the rows of the saved listing only (one row an
    /// object: what is read when there is no whole packed copy).
    pub fn load_listing_rows(
        &self,
        source: &str,
        mut each: impl FnMut(ObjectMeta, Option<ItemId>),
    ) -> Result<bool, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(false);
            };
            if !listing_saved(conn, sid)? {
                return Ok(false);
            }
            let mut stmt = conn.prepare_cached(
                "SELECT key, size, etag, modified_s, modified_ns, item_id FROM listings \
                 WHERE source_id = ?1 ORDER BY pos",
            )?;
            let mut rows = stmt.query([sid])?;
            while let Some(row) = rows.next()? {
                let secs: Option<i64> = row.get(3)?;
                let nanos: Option<i64> = row.get(4)?;
                let id = row.get_ref(5)?.as_str_or_null().ok().flatten();
                each(
                    ObjectMeta {
                        key: row.get(0)?,
                        size: get_u64(row, 1)?,
                        etag: row.get(2)?,
                        last_modified: secs.and_then(|s| join_time(s, nanos.unwrap_or(0))),
                    },
                    id.and_then(ItemId::parse),
                );
            }
            Ok(true)
        })
    }
}

/// Whether a listing of source `sid` was ever saved.
fn listing_saved(conn: &rusqlite::Connection, sid: i64) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM listing_saves WHERE source_id = ?1")?;
    let mut rows = stmt.query([sid])?;
    Ok(rows.next()?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_split_and_join_exactly() {
        for t in [
            UNIX_EPOCH,
            UNIX_EPOCH + Duration::new(1_445_412_480, 123_456_789),
            UNIX_EPOCH - Duration::new(5, 1),
            UNIX_EPOCH - Duration::from_secs(86_400),
        ] {
            let (s, ns) = split_time(t);
            assert_eq!(join_time(s, ns), Some(t), "{t:?}");
        }
        assert_eq!(join_time(0, -1), None);
        assert_eq!(join_time(0, 1_000_000_000), None);
    }
}
