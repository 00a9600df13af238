//! Ratings (1 to 5) of items, albums and artists, kept in the library database: Subsonic's
//! `setRating` writes them, `userRating` and `getAlbumList2?type=highest` read them.

use std::collections::HashMap;

use rusqlite::params;

use super::super::{ensure_source, source_id, sql_u64, Db, DbError};
use super::StarKind;

/// The highest rating.
pub const MAX_RATING: u8 = 5;

impl Db {
    /// Rates `target` from 1 to [`MAX_RATING`]; 0 removes its rating. Larger numbers are
    /// refused by the table (the caller checks first).
    pub fn set_rating(
        &self,
        source: &str,
        kind: StarKind,
        target: &str,
        rating: u8,
        at_ms: u64,
    ) -> Result<(), DbError> {
        self.with(|conn| {
            if rating == 0 {
                if let Some(sid) = source_id(conn, source)? {
                    conn.prepare_cached(
                        "DELETE FROM ratings WHERE source_id = ?1 AND kind = ?2 AND target = ?3",
                    )?
                    .execute(params![sid, kind.sql(), target])?;
                }
                return Ok(());
            }
            let sid = ensure_source(conn, source)?;
            conn.prepare_cached(
                "INSERT INTO ratings (source_id, kind, target, rating, rated_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (source_id, kind, target) DO UPDATE \
                 SET rating = excluded.rating, rated_ms = excluded.rated_ms",
            )?
            .execute(params![sid, kind.sql(), target, rating, sql_u64(at_ms)])?;
            Ok(())
        })
    }

    /// Every rating of `source`: (kind, target) → rating.
    pub fn ratings(&self, source: &str) -> Result<HashMap<(StarKind, String), u8>, DbError> {
        self.with(|conn| {
            let Some(sid) = source_id(conn, source)? else {
                return Ok(HashMap::new());
            };
            let mut stmt = conn
                .prepare_cached("SELECT kind, target, rating FROM ratings WHERE source_id = ?1")?;
            let mut rows = stmt.query([sid])?;
            let mut out = HashMap::new();
            while let Some(row) = rows.next()? {
                let kind: String = row.get(0)?;
                if let Some(kind) = StarKind::parse(&kind) {
                    out.insert((kind, row.get(1)?), row.get(2)?);
                }
            }
            Ok(out)
        })
    }
}
