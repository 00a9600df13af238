//! Ratings through Subsonic: `setRating` (1 to 5 on a song, an album or an artist; 0 removes
//! it) and `getAlbumList2?type=highest` (rated albums, best first, also through
//! `getAlbumList`), kept in the library
//! database like the stars ([`bucketstream_library::db::Db::set_rating`]).

use bucketstream_library::db::{StarKind, MAX_RATING};
use bucketstream_library::views;
use bucketstream_subsonic::model::Album;
use bucketstream_subsonic::{Node, Params, SubsonicError};

use super::user::{db_error, now_ms, UserCtx};

/// `setRating`: `id` (a song, album or artist id) and `rating` (0 to 5).
pub fn set_rating(ctx: &UserCtx<'_>, params: &Params) -> Result<Option<Node>, SubsonicError> {
    let id = params.required("id")?;
    params.required("rating")?;
    let rating = params.number("rating", 0, u64::from(MAX_RATING))?;
    let rating = u8::try_from(rating).unwrap_or(MAX_RATING);
    let (kind, target) = if let Some(item) = ctx.snap.get(id) {
        (StarKind::Item, item.key.clone())
    } else if ctx.albums.iter().any(|a| a.id == id) {
        (StarKind::Album, id.to_owned())
    } else if ctx.artists.iter().any(|a| a.id == id) {
        (StarKind::Artist, id.to_owned())
    } else {
        return Err(SubsonicError::not_found(&format!(
            "song, album or artist {id:?}"
        )));
    };
    ctx.db
        .set_rating(ctx.source, kind, &target, rating, now_ms())
        .map_err(db_error)?;
    Ok(None)
}

/// The order of `highest`: rating (highest first), then plays of the album's songs (most
/// first), then name.
pub fn highest_order(
    albums: &[views::Album],
    rating: impl Fn(&str) -> Option<u8>,
    plays: impl Fn(&str) -> u64,
) -> Vec<(&views::Album, u8)> {
    let mut rated: Vec<(&views::Album, u8)> = albums
        .iter()
        .filter_map(|a| rating(&a.id).map(|r| (a, r)))
        .collect();
    rated.sort_by(|(a, ra), (b, rb)| {
        rb.cmp(ra)
            .then_with(|| plays(&b.id).cmp(&plays(&a.id)))
            .then_with(|| a.name.cmp(&b.name))
    });
    rated
}

/// `getAlbumList2?type=highest`: albums rated through `setRating`, best first (ties: the more
/// played first), each with its `userRating`; unrated albums are not listed. Paged by `size`
/// and `offset`.
pub fn highest(ctx: &UserCtx<'_>, params: &Params) -> Result<Vec<Album>, SubsonicError> {
    let size = usize::try_from(params.number("size", 10, super::browse::MAX_PAGE)?).unwrap_or(0);
    let offset = usize::try_from(params.number("offset", 0, u64::from(u32::MAX))?).unwrap_or(0);
    let marks = ctx.marks;
    Ok(highest_order(
        ctx.albums,
        |id| marks.rating(StarKind::Album, id),
        |id| marks.album_plays(id).map_or(0, |p| p.count),
    )
    .into_iter()
    .skip(offset)
    .take(size)
    .map(|(a, _)| marks.album(a))
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn album(id: &str, name: &str) -> views::Album {
        views::Album {
            id: id.into(),
            name: name.into(),
            artist: "A".into(),
            artist_id: "a".into(),
            year: None,
            track_count: 1,
            duration_ms: None,
            art: None,
        }
    }

    #[test]
    fn highest_is_by_rating_then_plays_then_name_and_leaves_out_the_unrated() {
        let albums = [
            album("1", "Blue"),
            album("2", "Abbey Road"),
            album("3", "Kind of Blue"),
            album("4", "Unrated"),
            album("5", "Also four"),
        ];
        let ratings: HashMap<String, u8> = [("1", 4), ("2", 4), ("3", 5), ("5", 4)]
            .into_iter()
            .map(|(id, r)| (id.to_owned(), r))
            .collect();
        let plays: HashMap<String, u64> = [("1", 7), ("4", 100)]
            .into_iter()
            .map(|(id, n)| (id.to_owned(), n))
            .collect();
        let rating = |id: &str| ratings.get(id).copied();
        let played = |id: &str| plays.get(id).copied().unwrap_or(0);
        let order: Vec<(&str, u8)> = highest_order(&albums, rating, played)
            .into_iter()
            .map(|(a, r)| (a.name.as_str(), r))
            .collect();
        assert_eq!(
            order,
            [
                ("Kind of Blue", 5),
                ("Blue", 4),
                ("Abbey Road", 4),
                ("Also four", 4)
            ]
        );
        assert!(highest_order(&albums, |_| None, played).is_empty());
    }
}
