//! The art store: pictures deduplicated by the SHA-256 of their original bytes, each with its
//! 300 px and 1000 px JPEG copies (see [`crate::art`]).

use rusqlite::{params, OptionalExtension};

use super::{Db, DbError};
use crate::art::{self, ArtBlob, ArtSize, COPY_MIME};

/// Whether `hash` has the shape of a content hash (64 lowercase hex digits).
pub fn looks_like_hash(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Db {
    /// Stores a picture (unless the same bytes are stored already) with its resized copies;
    /// returns its content hash. `mime` is what the tag or file name said (a hint only).
    /// A picture that does not decode within the limits is refused ([`DbError::Art`]) and
    /// nothing is stored.
    pub fn put_art(&self, original: &[u8], mime: &str) -> Result<String, DbError> {
        let hash = art::art_hash(original);
        if self.has_art(&hash)? {
            return Ok(hash);
        }
        // Decoding and resizing take a while: done without holding the connection.
        let prepared = art::prepare(original, mime)?;
        self.with(|conn| {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO art (hash, mime, width, height, original, small, large) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                prepared.hash,
                prepared.mime,
                prepared.width,
                prepared.height,
                original,
                prepared.small,
                prepared.large,
            ])?;
            Ok(())
        })?;
        Ok(hash)
    }

    /// Whether a picture with this content hash is stored.
    pub fn has_art(&self, hash: &str) -> Result<bool, DbError> {
        if !looks_like_hash(hash) {
            return Ok(false);
        }
        self.with(|conn| {
            Ok(conn
                .prepare_cached("SELECT 1 FROM art WHERE hash = ?1")?
                .query_row([hash], |_| Ok(()))
                .optional()?
                .is_some())
        })
    }

    /// One copy of a stored picture; `None` when no picture has this hash (or it is not a
    /// hash at all). A picture whose long side is at most 300 px answers its small copy for
    /// [`ArtSize::Large`] too.
    pub fn art(&self, hash: &str, size: ArtSize) -> Result<Option<ArtBlob>, DbError> {
        if !looks_like_hash(hash) {
            return Ok(None);
        }
        self.with(|conn| {
            let sql = match size {
                ArtSize::Original => "SELECT mime, original FROM art WHERE hash = ?1",
                ArtSize::Small => "SELECT ?2, small FROM art WHERE hash = ?1",
                ArtSize::Large => "SELECT ?2, coalesce(large, small) FROM art WHERE hash = ?1",
            };
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = if size == ArtSize::Original {
                stmt.query(params![hash])?
            } else {
                stmt.query(params![hash, COPY_MIME])?
            };
            match rows.next()? {
                Some(row) => Ok(Some(ArtBlob {
                    mime: row.get(0)?,
                    bytes: row.get(1)?,
                })),
                None => Ok(None),
            }
        })
    }
}
