//! The listener's own data through Subsonic: `scrobble` (play counts), `star`/`unstar`/
//! `getStarred2`, playlists (`getPlaylists`, `getPlaylist`, `createPlaylist`,
//! `updatePlaylist`, `deletePlaylist`) and bookmarks (`getBookmarks`, `createBookmark`,
//! `deleteBookmark`), kept in the library database by item key, so they survive restarts and
//! re-scans and an item that leaves the library simply drops out of the answers.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bucketstream_core::catalog::{MediaItem, Snapshot};
use bucketstream_library::db::{Db, PlaylistEdit, StarKind};
use bucketstream_library::views;
use bucketstream_subsonic::model::{iso8601, Album};
use bucketstream_subsonic::{Code, Node, Params, SubsonicError};

use super::dialect::Dialect;
use super::map;
use super::marks::Marks;

/// Now, in ms since the Unix epoch.
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A database failure as Subsonic's error 0.
pub(super) fn db_error(e: impl std::fmt::Display) -> SubsonicError {
    SubsonicError::new(Code::Generic, format!("library database: {e}"))
}

/// What the user methods need: the database, the source's identity, the snapshot and views.
pub struct UserCtx<'a> {
    /// The library database.
    pub db: &'a Db,
    /// The source identity rows are kept under.
    pub source: &'a str,
    /// The current snapshot.
    pub snap: &'a Snapshot,
    /// Its albums.
    pub albums: &'a [views::Album],
    /// Its artists.
    pub artists: &'a [views::Artist],
    /// The account's user name (the owner of every playlist).
    pub user: &'a str,
    /// The listener's stars, ratings and plays, put on every song, album and artist.
    pub marks: &'a Marks,
}

impl UserCtx<'_> {
    /// The item of song id `id`, or error 70.
    fn item(&self, id: &str) -> Result<&MediaItem, SubsonicError> {
        self.snap
            .get(id)
            .ok_or_else(|| SubsonicError::not_found(&format!("song {id:?}")))
    }

    /// The listed items of `keys`, in order, skipping those no longer listed.
    fn items_of<'k>(&self, keys: impl IntoIterator<Item = &'k String>) -> Vec<&Arc<MediaItem>> {
        keys.into_iter()
            .filter_map(|k| self.snap.by_key(k))
            .collect()
    }
}

/// `scrobble` with `submission` true (the default; the "now playing" notices are
/// [`super::account`]'s): counts a play of each `id`.
pub fn scrobble(ctx: &UserCtx<'_>, params: &Params) -> Result<Option<Node>, SubsonicError> {
    let at = params.number("time", now_ms(), u64::MAX)?;
    let ids: Vec<&str> = params.all("id").collect();
    if ids.is_empty() {
        return Err(SubsonicError::missing("id"));
    }
    for id in ids {
        let item = ctx.item(id)?;
        ctx.db
            .record_play(ctx.source, &item.key, at)
            .map_err(db_error)?;
    }
    Ok(None)
}

/// `star` (or `unstar` when `on` is false): songs by `id`, albums by `albumId`, artists by
/// `artistId`.
pub fn star(ctx: &UserCtx<'_>, params: &Params, on: bool) -> Result<Option<Node>, SubsonicError> {
    let mut targets: Vec<(StarKind, String)> = Vec::new();
    for id in params.all("id") {
        targets.push((StarKind::Item, ctx.item(id)?.key.clone()));
    }
    for id in params.all("albumId") {
        if !ctx.albums.iter().any(|a| a.id == id) {
            return Err(SubsonicError::not_found("album"));
        }
        targets.push((StarKind::Album, id.to_owned()));
    }
    for id in params.all("artistId") {
        if !ctx.artists.iter().any(|a| a.id == id) {
            return Err(SubsonicError::not_found("artist"));
        }
        targets.push((StarKind::Artist, id.to_owned()));
    }
    if targets.is_empty() {
        return Err(SubsonicError::missing("id"));
    }
    let at = now_ms();
    for (kind, target) in targets {
        let done = if on {
            ctx.db.star(ctx.source, kind, &target, at)
        } else {
            ctx.db.unstar(ctx.source, kind, &target)
        };
        done.map_err(db_error)?;
    }
    Ok(None)
}

/// `getStarred2` (and `getStarred`): starred artists, albums and songs still in the library.
pub fn starred(ctx: &UserCtx<'_>, dialect: Dialect) -> Node {
    let marks = ctx.marks;
    let artists = ctx
        .artists
        .iter()
        .filter(|a| marks.star(StarKind::Artist, &a.id).is_some())
        .map(|a| marks.artist(a).node())
        .collect();
    let albums = ctx
        .albums
        .iter()
        .filter(|a| marks.star(StarKind::Album, &a.id).is_some())
        .map(|a| dialect.album(&marks.album(a)))
        .collect();
    let mut songs: Vec<(u64, Node)> = marks
        .starred(StarKind::Item)
        .filter_map(|(key, ms)| {
            ctx.snap
                .by_key(key)
                .map(|item| (ms, marks.song(item).node("song")))
        })
        .collect();
    songs.sort_by_key(|(ms, _)| std::cmp::Reverse(*ms));
    dialect
        .starred()
        .list("artist", artists)
        .list("album", albums)
        .list("song", songs.into_iter().map(|(_, n)| n).collect())
}

fn playlist_id(params: &Params, name: &str) -> Result<i64, SubsonicError> {
    params
        .required(name)?
        .trim()
        .parse()
        .map_err(|_| SubsonicError::not_found("playlist"))
}

/// A playlist's element, with its entries when `entries`.
fn playlist_node(ctx: &UserCtx<'_>, p: &bucketstream_library::db::Playlist, entries: bool) -> Node {
    let items = ctx.items_of(&p.keys);
    let duration: u64 = items.iter().filter_map(|i| i.meta.duration_ms).sum::<u64>() / 1000;
    let node = Node::new("playlist")
        .attr("id", p.id.to_string())
        .attr("name", p.name.as_str())
        .opt("comment", p.comment.as_deref())
        .attr("owner", ctx.user)
        .attr("public", p.public)
        .attr("songCount", items.len())
        .attr("duration", duration)
        .attr("created", iso8601(p.created_ms))
        .attr("changed", iso8601(p.changed_ms))
        .opt(
            "coverArt",
            items
                .iter()
                .find_map(|i| map::art_id(i.meta.art.as_deref())),
        );
    if !entries {
        return node;
    }
    node.list(
        "entry",
        items
            .into_iter()
            .map(|i| ctx.marks.song(i).node("entry"))
            .collect(),
    )
}

/// `getPlaylists`.
pub fn playlists(ctx: &UserCtx<'_>) -> Result<Node, SubsonicError> {
    let lists = ctx.db.playlists(ctx.source).map_err(db_error)?;
    Ok(Node::new("playlists").list(
        "playlist",
        lists.iter().map(|p| playlist_node(ctx, p, false)).collect(),
    ))
}

/// `getPlaylist`.
pub fn playlist(ctx: &UserCtx<'_>, params: &Params) -> Result<Node, SubsonicError> {
    let id = playlist_id(params, "id")?;
    let p = ctx
        .db
        .playlist(ctx.source, id)
        .map_err(db_error)?
        .ok_or_else(|| SubsonicError::not_found("playlist"))?;
    Ok(playlist_node(ctx, &p, true))
}

/// The keys of the song ids in `name` (each must be listed).
fn keys_of(ctx: &UserCtx<'_>, params: &Params, name: &str) -> Result<Vec<String>, SubsonicError> {
    params
        .all(name)
        .map(|id| ctx.item(id).map(|i| i.key.clone()))
        .collect()
}

/// `createPlaylist`: a new one from `name` and `songId`s, or (with `playlistId`) its songs
/// replaced.
pub fn create_playlist(ctx: &UserCtx<'_>, params: &Params) -> Result<Node, SubsonicError> {
    let keys = keys_of(ctx, params, "songId")?;
    let at = now_ms();
    let id = match params.get("playlistId") {
        Some(_) => {
            let id = playlist_id(params, "playlistId")?;
            let edit = PlaylistEdit {
                name: params.get("name").map(str::to_owned),
                replace: Some(keys),
                ..PlaylistEdit::default()
            };
            if !ctx
                .db
                .update_playlist(ctx.source, id, &edit, at)
                .map_err(db_error)?
            {
                return Err(SubsonicError::not_found("playlist"));
            }
            id
        }
        None => {
            let name = params.required("name")?;
            ctx.db
                .create_playlist(ctx.source, name, &keys, at)
                .map_err(db_error)?
        }
    };
    let p = ctx
        .db
        .playlist(ctx.source, id)
        .map_err(db_error)?
        .ok_or_else(|| SubsonicError::not_found("playlist"))?;
    Ok(playlist_node(ctx, &p, true))
}

/// `updatePlaylist`: name, comment, public, `songIdToAdd`s, `songIndexToRemove`s.
pub fn update_playlist(ctx: &UserCtx<'_>, params: &Params) -> Result<Option<Node>, SubsonicError> {
    let id = playlist_id(params, "playlistId")?;
    let remove = params
        .all("songIndexToRemove")
        .map(|i| {
            i.trim()
                .parse::<usize>()
                .map_err(|_| SubsonicError::invalid("songIndexToRemove", "is not a whole number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let edit = PlaylistEdit {
        name: params.get("name").map(str::to_owned),
        comment: params.get("comment").map(str::to_owned),
        public: params
            .get("public")
            .map(|_| params.flag("public", false))
            .transpose()?,
        replace: None,
        remove,
        add: keys_of(ctx, params, "songIdToAdd")?,
    };
    if ctx
        .db
        .update_playlist(ctx.source, id, &edit, now_ms())
        .map_err(db_error)?
    {
        Ok(None)
    } else {
        Err(SubsonicError::not_found("playlist"))
    }
}

/// `deletePlaylist`.
pub fn delete_playlist(ctx: &UserCtx<'_>, params: &Params) -> Result<Option<Node>, SubsonicError> {
    let id = playlist_id(params, "id")?;
    if ctx.db.delete_playlist(ctx.source, id).map_err(db_error)? {
        Ok(None)
    } else {
        Err(SubsonicError::not_found("playlist"))
    }
}

/// `getBookmarks`: bookmarks of items still listed.
pub fn bookmarks(ctx: &UserCtx<'_>) -> Result<Node, SubsonicError> {
    let marks = ctx.db.bookmarks(ctx.source).map_err(db_error)?;
    let nodes = marks
        .iter()
        .filter_map(|b| {
            ctx.snap.by_key(&b.key).map(|item| {
                Node::new("bookmark")
                    .attr("position", b.position_ms)
                    .attr("username", ctx.user)
                    .opt("comment", b.comment.as_deref())
                    .attr("created", iso8601(b.created_ms))
                    .attr("changed", iso8601(b.changed_ms))
                    .child(ctx.marks.song(item).node("entry"))
            })
        })
        .collect();
    Ok(Node::new("bookmarks").list("bookmark", nodes))
}

/// `createBookmark` (`id`, `position` in ms, `comment`) and `deleteBookmark` (`id`).
pub fn bookmark(
    ctx: &UserCtx<'_>,
    params: &Params,
    create: bool,
) -> Result<Option<Node>, SubsonicError> {
    let item = ctx.item(params.required("id")?)?;
    if create {
        let position = params.number("position", 0, u64::MAX)?;
        params.required("position")?;
        ctx.db
            .set_bookmark(
                ctx.source,
                &item.key,
                position,
                params.get("comment"),
                now_ms(),
            )
            .map_err(db_error)?;
    } else if !ctx
        .db
        .delete_bookmark(ctx.source, &item.key)
        .map_err(db_error)?
    {
        return Err(SubsonicError::not_found("bookmark"));
    }
    Ok(None)
}

/// `getAlbumList2` (and `getAlbumList`) for the types that read the listener's data:
/// `frequent` (most plays), `recent` (last played), `starred`; paged by `size` and `offset`.
pub fn album_list_by_use(
    ctx: &UserCtx<'_>,
    kind: &str,
    params: &Params,
) -> Result<Vec<Album>, SubsonicError> {
    let size = usize::try_from(params.number("size", 10, super::browse::MAX_PAGE)?).unwrap_or(0);
    let offset = usize::try_from(params.number("offset", 0, u64::from(u32::MAX))?).unwrap_or(0);
    let marks = ctx.marks;
    let score = |a: &views::Album| match kind {
        "starred" => marks.star(StarKind::Album, &a.id),
        "frequent" => marks.album_plays(&a.id).map(|p| p.count),
        _ => marks.album_plays(&a.id).map(|p| p.last_ms),
    };
    let mut scored: Vec<(u64, &views::Album)> = ctx
        .albums
        .iter()
        .filter_map(|a| score(a).map(|s| (s, a)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    Ok(scored
        .into_iter()
        .skip(offset)
        .take(size)
        .map(|(_, a)| marks.album(a))
        .collect())
}
