//! What the listener did, kept in the library database: play counts, stars and bookmarks
//! (here), playlists ([`playlists`]) and ratings ([`ratings`]). The Subsonic API and the player read and write the
//! same rows, so a song starred on a phone is starred in the desktop window.
//!
//! Items are named by their key in a source (the identity item ids are made from). Albums and
//! artists are named by their view ids, which are stable across restarts and re-scans.

mod playlists;
mod ratings;

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

pub use playlists::{Playlist, PlaylistEdit};
pub use ratings::MAX_RATING;

use super::{ensure_source, get_u64, source_id, sql_u64, Db, DbError};

/// What a star or a rating is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StarKind {
    /// A song or video, by key.
    Item,
    /// An album, by view id.
    Album,
    /// An artist, by view id.
    Artist,
}

impl StarKind {
    fn sql(self) -> &'static str {
        match self {
            StarKind::Item => "item",
            StarKind::Album => "album",
            StarKind::Artist => "artist",
        }
    }

    fn parse(text: &str) -> Option<StarKind> {
        match text {
            "item" => Some(StarKind::Item),
            "album" => Some(StarKind::Album),
            "artist" => Some(StarKind::Artist),
            _ => None,
        }
    }
}

/// A play count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plays {
    /// Times played.
    pub count: u64,
    /// When last played (ms since the Unix epoch).
    pub last_ms: u64,
}

/// A bookmark: where to resume an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark {
    /// The item's key.
    pub key: String,
    /// The position (ms from the start).
    pub position_ms: u64,
    /// A note.
    pub comment: Option<String>,
    /// When it was made (ms since the Unix epoch).
    pub created_ms: u64,
    /// When it last moved.
    pub changed_ms: u64,
}

impl Db {
    /// Counts a play of `key` at `at_ms`.
    pub fn record_play(&self, source: &str, key: &str, at_ms: u64) -> Result<Plays, DbError> {
        self.with(|conn| {
            let sid = ensure_source(conn, source)?;
            conn.prepare_cached(
                "INSERT INTO plays (source_id, key, count, last_ms) VALUES (?1, ?2, 1, ?3) \
                 ON CONFLICT (source_id, key) DO UPDATE SET count = count + 1, \
                 last_ms = max(last_ms, excluded.last_ms)",
            )?
            .execute(params![sid, key, sql_u64(at_ms)])?;
            let plays = conn
                .prepare_cached(
                    "SELECT count, last_ms FROM plays WHERE source_id = ?1 AND key = ?2",
                )?
                .query_row(params![sid, key], |row| {
                    Ok(Plays {
                        count: get_u64(row, 0)?,
                        last_ms: get_u64(row, 1)?,
                    })
                })?;
            Ok(plays)
        })
    }

    /// Every play count of `source`, by key.
    pub fn plays(&self, source: &str) -> Result<HashMap<String, Plays>, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(HashMap::new());
            };
            let mut stmt =
                conn.prepare_cached("SELECT key, count, last_ms FROM plays WHERE source_id = ?1")?;
            let rows = stmt.query_map([sid], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    Plays {
                        count: get_u64(row, 1)?,
                        last_ms: get_u64(row, 2)?,
                    },
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Stars `target` (kept at its first starring time when starred again).
    pub fn star(
        &self,
        source: &str,
        kind: StarKind,
        target: &str,
        at_ms: u64,
    ) -> Result<(), DbError> {
        self.with(|conn| {
            let sid = ensure_source(conn, source)?;
            conn.prepare_cached(
                "INSERT OR IGNORE INTO stars (source_id, kind, target, starred_ms) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![sid, kind.sql(), target, sql_u64(at_ms)])?;
            Ok(())
        })
    }

    /// Removes the star of `target`, if any.
    pub fn unstar(&self, source: &str, kind: StarKind, target: &str) -> Result<(), DbError> {
        self.with(|conn| {
            if let Some(sid) = source_id(conn, source)? {
                conn.prepare_cached(
                    "DELETE FROM stars WHERE source_id = ?1 AND kind = ?2 AND target = ?3",
                )?
                .execute(params![sid, kind.sql(), target])?;
            }
            Ok(())
        })
    }

    /// Every star of `source`: (kind, target) → when starred.
    pub fn stars(&self, source: &str) -> Result<HashMap<(StarKind, String), u64>, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(HashMap::new());
            };
            let mut stmt = conn.prepare_cached(
                "SELECT kind, target, starred_ms FROM stars WHERE source_id = ?1",
            )?;
            let mut rows = stmt.query([sid])?;
            let mut out = HashMap::new();
            while let Some(row) = rows.next()? {
                let kind: String = row.get(0)?;
                if let Some(kind) = StarKind::parse(&kind) {
                    out.insert((kind, row.get(1)?), get_u64(row, 2)?);
                }
            }
            Ok(out)
        })
    }

    /// Sets the bookmark of `key` (made, or moved).
    pub fn set_bookmark(
        &self,
        source: &str,
        key: &str,
        position_ms: u64,
        comment: Option<&str>,
        at_ms: u64,
    ) -> Result<(), DbError> {
        self.with(|conn| {
            let sid = ensure_source(conn, source)?;
            conn.prepare_cached(
                "INSERT INTO bookmarks (source_id, key, position_ms, comment, created_ms, changed_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (source_id, key) DO UPDATE SET \
                 position_ms = excluded.position_ms, comment = excluded.comment, changed_ms = excluded.changed_ms",
            )?
            .execute(params![sid, key, sql_u64(position_ms), comment, sql_u64(at_ms)])?;
            Ok(())
        })
    }

    /// Moves the resume position of `key` (the player's bookmark): made when missing, its
    /// comment (set through Subsonic) kept when there is one. The player and Subsonic's
    /// `createBookmark` write the same row, so a position saved in one is where the other resumes.
    pub fn set_position(
        &self,
        source: &str,
        key: &str,
        position_ms: u64,
        at_ms: u64,
    ) -> Result<Bookmark, DbError> {
        self.with(|conn| {
            let sid = ensure_source(conn, source)?;
            conn.prepare_cached(
                "INSERT INTO bookmarks (source_id, key, position_ms, comment, created_ms, changed_ms) \
                 VALUES (?1, ?2, ?3, NULL, ?4, ?4) ON CONFLICT (source_id, key) DO UPDATE SET \
                 position_ms = excluded.position_ms, changed_ms = excluded.changed_ms \
                 RETURNING key, position_ms, comment, created_ms, changed_ms",
            )?
            .query_row(
                params![sid, key, sql_u64(position_ms), sql_u64(at_ms)],
                bookmark_row,
            )
            .map_err(DbError::from)
        })
    }

    /// Deletes the bookmark of `key`; whether there was one.
    pub fn delete_bookmark(&self, source: &str, key: &str) -> Result<bool, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(false);
            };
            let n = conn
                .prepare_cached("DELETE FROM bookmarks WHERE source_id = ?1 AND key = ?2")?
                .execute(params![sid, key])?;
            Ok(n > 0)
        })
    }

    /// The bookmark of `key`, if any.
    pub fn bookmark(&self, source: &str, key: &str) -> Result<Option<Bookmark>, DbError> {
        Ok(self.bookmarks_where(source, Some(key))?.into_iter().next())
    }

    /// Every bookmark of `source`, most recently changed first.
    pub fn bookmarks(&self, source: &str) -> Result<Vec<Bookmark>, DbError> {
        self.bookmarks_where(source, None)
    }

    fn bookmarks_where(&self, source: &str, key: Option<&str>) -> Result<Vec<Bookmark>, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(Vec::new());
            };
            let mut stmt = conn.prepare_cached(
                "SELECT key, position_ms, comment, created_ms, changed_ms FROM bookmarks \
                 WHERE source_id = ?1 AND (?2 IS NULL OR key = ?2) ORDER BY changed_ms DESC, key",
            )?;
            let rows = stmt.query_map(params![sid, key], bookmark_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

/// A bookmark from a row of (key, position_ms, comment, created_ms, changed_ms).
fn bookmark_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Bookmark> {
    Ok(Bookmark {
        key: row.get(0)?,
        position_ms: get_u64(row, 1)?,
        comment: row.get(2)?,
        created_ms: get_u64(row, 3)?,
        changed_ms: get_u64(row, 4)?,
    })
}

/// Whether a row exists for `sql` with `args` (shared by the playlist checks).
fn exists(
    conn: &rusqlite::Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<bool, DbError> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row(args, |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests;
