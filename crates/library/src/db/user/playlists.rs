//! Playlists: a name, a note, public or not, and items in order (an item may appear twice).
//! An edit (rename, add, remove by position, or replace every entry) is one transaction, so
//! a client killed mid-edit leaves the playlist as it was or as asked, never half-written.

use rusqlite::{params, Connection};

use super::exists;
use crate::db::{ensure_source, get_u64, source_id, sql_u64, Db, DbError};

/// A playlist with its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playlist {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// A note.
    pub comment: Option<String>,
    /// Whether other users may see it (kept for clients; there is one user).
    pub public: bool,
    /// When it was made (ms since the Unix epoch).
    pub created_ms: u64,
    /// When it last changed.
    pub changed_ms: u64,
    /// The items' keys, in order.
    pub keys: Vec<String>,
}

/// A change to a playlist; `None` and empty fields leave that part as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaylistEdit {
    /// A new name.
    pub name: Option<String>,
    /// A new note.
    pub comment: Option<String>,
    /// Public or not.
    pub public: Option<bool>,
    /// Every entry replaced by these (applied before `remove` and `add`).
    pub replace: Option<Vec<String>>,
    /// Positions to remove, counted before any removal (out of range: ignored).
    pub remove: Vec<usize>,
    /// Keys appended at the end.
    pub add: Vec<String>,
}

fn entries(conn: &Connection, id: i64) -> Result<Vec<String>, DbError> {
    let mut stmt = conn
        .prepare_cached("SELECT key FROM playlist_entries WHERE playlist_id = ?1 ORDER BY pos")?;
    let rows = stmt.query_map([id], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn write_entries(conn: &Connection, id: i64, keys: &[String]) -> Result<(), DbError> {
    conn.prepare_cached("DELETE FROM playlist_entries WHERE playlist_id = ?1")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO playlist_entries (playlist_id, pos, key) VALUES (?1, ?2, ?3)",
    )?;
    for (pos, key) in keys.iter().enumerate() {
        insert.execute(params![id, i64::try_from(pos).unwrap_or(i64::MAX), key])?;
    }
    Ok(())
}

/// `keys` with the positions in `remove` taken out (positions counted before any removal).
fn without(keys: Vec<String>, remove: &[usize]) -> Vec<String> {
    keys.into_iter()
        .enumerate()
        .filter(|(i, _)| !remove.contains(i))
        .map(|(_, k)| k)
        .collect()
}

impl Db {
    /// Makes a playlist of `keys`; its id.
    pub fn create_playlist(
        &self,
        source: &str,
        name: &str,
        keys: &[String],
        at_ms: u64,
    ) -> Result<i64, DbError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let sid = ensure_source(&tx, source)?;
            tx.prepare_cached(
                "INSERT INTO playlists (source_id, name, created_ms, changed_ms) VALUES (?1, ?2, ?3, ?3)",
            )?
            .execute(params![sid, name, sql_u64(at_ms)])?;
            let id = tx.last_insert_rowid();
            write_entries(&tx, id, keys)?;
            tx.commit()?;
            Ok(id)
        })
    }

    /// Applies `edit` to playlist `id` of `source`; `false` when there is no such playlist.
    pub fn update_playlist(
        &self,
        source: &str,
        id: i64,
        edit: &PlaylistEdit,
        at_ms: u64,
    ) -> Result<bool, DbError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let Some(sid) = source_id(&tx, source)? else {
                return Ok(false);
            };
            if !exists(
                &tx,
                "SELECT 1 FROM playlists WHERE id = ?1 AND source_id = ?2",
                params![id, sid],
            )? {
                return Ok(false);
            }
            tx.prepare_cached(
                "UPDATE playlists SET name = coalesce(?2, name), comment = coalesce(?3, comment), \
                 public = coalesce(?4, public), changed_ms = ?5 WHERE id = ?1",
            )?
            .execute(params![
                id,
                edit.name,
                edit.comment,
                edit.public,
                sql_u64(at_ms)
            ])?;
            if edit.replace.is_some() || !edit.remove.is_empty() || !edit.add.is_empty() {
                let keys = match &edit.replace {
                    Some(keys) => keys.clone(),
                    None => entries(&tx, id)?,
                };
                let mut keys = without(keys, &edit.remove);
                keys.extend(edit.add.iter().cloned());
                write_entries(&tx, id, &keys)?;
            }
            tx.commit()?;
            Ok(true)
        })
    }

    /// Deletes playlist `id` of `source`; whether it existed.
    pub fn delete_playlist(&self, source: &str, id: i64) -> Result<bool, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(false);
            };
            let n = conn
                .prepare_cached("DELETE FROM playlists WHERE id = ?1 AND source_id = ?2")?
                .execute(params![id, sid])?;
            Ok(n > 0)
        })
    }

    /// Playlist `id` of `source`, with its entries.
    pub fn playlist(&self, source: &str, id: i64) -> Result<Option<Playlist>, DbError> {
        Ok(self.playlists_where(source, Some(id))?.into_iter().next())
    }

    /// Every playlist of `source`, by name.
    pub fn playlists(&self, source: &str) -> Result<Vec<Playlist>, DbError> {
        self.playlists_where(source, None)
    }

    fn playlists_where(&self, source: &str, id: Option<i64>) -> Result<Vec<Playlist>, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(Vec::new());
            };
            let mut lists = {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, name, comment, public, created_ms, changed_ms FROM playlists \
                     WHERE source_id = ?1 AND (?2 IS NULL OR id = ?2) ORDER BY name COLLATE NOCASE, id",
                )?;
                let rows = stmt.query_map(params![sid, id], |row| {
                    Ok(Playlist {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        comment: row.get(2)?,
                        public: row.get(3)?,
                        created_ms: get_u64(row, 4)?,
                        changed_ms: get_u64(row, 5)?,
                        keys: Vec::new(),
                    })
                })?;
                rows.collect::<Result<Vec<_>, _>>()?
            };
            for list in &mut lists {
                list.keys = entries(conn, list.id)?;
            }
            Ok(lists)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::without;

    #[test]
    fn removal_counts_positions_before_removing() {
        let keys: Vec<String> = ["a", "b", "a", "c"].iter().map(|s| (*s).into()).collect();
        let table: &[(&[usize], &[&str])] = &[
            (&[], &["a", "b", "a", "c"]),
            (&[0, 2], &["b", "c"]),
            (&[3, 0], &["b", "a"]),
            (&[9, 1, 1], &["a", "a", "c"]),
        ];
        for (remove, want) in table {
            assert_eq!(without(keys.clone(), remove), *want, "{remove:?}");
        }
    }
}
