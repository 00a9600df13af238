//! The listener's marks on every answer: each song, album and artist a Subsonic method lists
//! carries its `starred` date, `userRating` and `playCount` from the library database, as
//! clients expect (a song starred on the phone shows its heart when its album is opened
//! again, not only in `getStarred2`). Read once per request, three small tables.

use std::collections::HashMap;

use bucketstream_core::catalog::{MediaItem, Snapshot};
use bucketstream_library::db::{Db, DbError, Plays, StarKind};
use bucketstream_library::views;
use bucketstream_subsonic::model::{Album, Artist, Song};

use super::map;

/// What the listener marked, by item key (songs) or view id (albums, artists).
#[derive(Default)]
pub struct Marks {
    stars: HashMap<StarKind, HashMap<String, u64>>,
    ratings: HashMap<StarKind, HashMap<String, u8>>,
    plays: HashMap<String, Plays>,
    /// Plays per album id over its songs in the snapshot: their sum, and the latest.
    album_plays: HashMap<String, Plays>,
}

/// `marks` grouped by kind, so a lookup by `&str` needs no key of its own.
fn by_kind<T>(marks: HashMap<(StarKind, String), T>) -> HashMap<StarKind, HashMap<String, T>> {
    let mut out: HashMap<StarKind, HashMap<String, T>> = HashMap::new();
    for ((kind, target), value) in marks {
        out.entry(kind).or_default().insert(target, value);
    }
    out
}

impl Marks {
    /// The marks kept for `source`, for the items of `snap` (blocking).
    pub fn load(db: &Db, source: &str, snap: &Snapshot) -> Result<Marks, DbError> {
        let plays = db.plays(source)?;
        let mut album_plays: HashMap<String, Plays> = HashMap::new();
        for (key, p) in &plays {
            if let Some(album) = snap.by_key(key).and_then(|i| views::album_id_of(i)) {
                let sum = album_plays.entry(album).or_insert(Plays {
                    count: 0,
                    last_ms: 0,
                });
                sum.count += p.count;
                sum.last_ms = sum.last_ms.max(p.last_ms);
            }
        }
        Ok(Marks {
            stars: by_kind(db.stars(source)?),
            ratings: by_kind(db.ratings(source)?),
            plays,
            album_plays,
        })
    }

    /// The plays of album `id`'s songs (their sum and the latest), when one was played.
    pub fn album_plays(&self, id: &str) -> Option<Plays> {
        self.album_plays.get(id).copied()
    }

    /// When `target` (an item key, album or artist id) was starred.
    pub fn star(&self, kind: StarKind, target: &str) -> Option<u64> {
        self.stars.get(&kind)?.get(target).copied()
    }

    /// The starred targets of `kind`, with when.
    pub fn starred(&self, kind: StarKind) -> impl Iterator<Item = (&str, u64)> {
        self.stars
            .get(&kind)
            .into_iter()
            .flatten()
            .map(|(target, ms)| (target.as_str(), *ms))
    }

    /// The listener's rating (1–5) of `target`.
    pub fn rating(&self, kind: StarKind, target: &str) -> Option<u8> {
        self.ratings
            .get(&kind)?
            .get(target)
            .copied()
            .filter(|r| *r > 0)
    }

    /// `item` as a song with its marks.
    pub fn song(&self, item: &MediaItem) -> Song {
        Song {
            starred_ms: self.star(StarKind::Item, &item.key),
            user_rating: self.rating(StarKind::Item, &item.key),
            play_count: self.plays.get(&item.key).map_or(0, |p| p.count),
            ..map::song(item)
        }
    }

    /// Album `a` with its marks (its play count is its songs').
    pub fn album(&self, a: &views::Album) -> Album {
        Album {
            starred_ms: self.star(StarKind::Album, &a.id),
            user_rating: self.rating(StarKind::Album, &a.id),
            play_count: self.album_plays(&a.id).map_or(0, |p| p.count),
            ..map::album(a)
        }
    }

    /// Artist `a` with its marks.
    pub fn artist(&self, a: &views::Artist) -> Artist {
        Artist {
            starred_ms: self.star(StarKind::Artist, &a.id),
            user_rating: self.rating(StarKind::Artist, &a.id),
            ..map::artist(a)
        }
    }
}
