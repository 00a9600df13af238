//! The browsing methods: folders (`getMusicFolders`, `getIndexes`, `getMusicDirectory`), tags
//! (`getArtists`, `getArtist`, `getAlbum`, `getSong`, `getGenres`, `getAlbumList2`,
//! `getRandomSongs`) and `search3`, each a function of the snapshot and its grouped views
//! that returns the answer element (or a Subsonic error), so they are tested without HTTP.
//! The folder-based twins (`getAlbumList`, `search2`) are the same functions in the other
//! [`Dialect`]; `getMusicDirectory` also opens the albums and artists they list.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bucketstream_core::catalog::folders;
use bucketstream_core::catalog::query::fold::fold;
use bucketstream_core::catalog::MediaItem;
use bucketstream_core::media::Kind;
use bucketstream_library::views;
use bucketstream_subsonic::model::{artist_index, Album};
use bucketstream_subsonic::{Node, Params, SubsonicError};

use super::dialect::Dialect;
use super::map::{self, MUSIC_FOLDER_ID};
use super::marks::Marks;

/// Most entries one list answer carries (`size`, `count`).
pub const MAX_PAGE: u64 = 500;

/// What the browsing methods read: the snapshot's items and their grouped views.
pub struct Ctx<'a> {
    /// Items sorted by key.
    pub items: &'a [Arc<MediaItem>],
    /// Albums of the same snapshot.
    pub albums: &'a [views::Album],
    /// Artists of the same snapshot.
    pub artists: &'a [views::Artist],
    /// Genres of the same snapshot.
    pub genres: &'a [views::Genre],
    /// When the library was last listed (ms since the Unix epoch).
    pub listed_ms: u64,
    /// The listener's stars, ratings and plays, put on every song, album and artist.
    pub marks: &'a Marks,
}

/// `getMusicFolders`: the whole library as one folder.
pub fn music_folders(name: &str) -> Node {
    Node::new("musicFolders").list(
        "musicFolder",
        vec![Node::new("musicFolder").attr("id", 1u32).attr("name", name)],
    )
}

/// `getIndexes`: the top folders A–Z (as `artist` entries, as Subsonic has them) and the
/// files at the top.
pub fn indexes(ctx: &Ctx<'_>) -> Node {
    let (folders, here) = folders::level(ctx.items, "");
    let nodes: Vec<Node> = folders
        .iter()
        .map(|f| {
            Node::new("artist")
                .attr("id", map::folder_id(f))
                .attr("name", f.as_str())
        })
        .collect();
    let names: Vec<&str> = folders.iter().map(String::as_str).collect();
    artist_index("indexes", &nodes, &names)
        .attr("lastModified", ctx.listed_ms)
        .list(
            "child",
            here.into_iter()
                .map(|i| ctx.marks.song(i).node("child"))
                .collect(),
        )
}

/// `getMusicDirectory`: a folder's subfolders, then its files; or, for the id of an album
/// (as `getAlbumList` lists them), its songs in disc and track order; or, for an artist's
/// (an album entry's parent), its albums as entries.
pub fn directory(ctx: &Ctx<'_>, id: &str) -> Result<Node, SubsonicError> {
    let Some(path) = map::folder_path(id) else {
        return tag_directory(ctx, id);
    };
    let (folders, here) = folders::level(ctx.items, &path);
    if !path.is_empty() && folders.is_empty() && here.is_empty() {
        return Err(SubsonicError::not_found("directory"));
    }
    let sub = |name: &String| {
        if path.is_empty() {
            name.clone()
        } else {
            format!("{path}/{name}")
        }
    };
    let mut children: Vec<Node> = folders
        .iter()
        .map(|f| map::folder(&sub(f)).child())
        .collect();
    children.extend(here.into_iter().map(|i| ctx.marks.song(i).node("child")));
    let (parent, name) = map::split_folder(&path);
    let node = Node::new("directory")
        .attr(
            "id",
            if path.is_empty() {
                MUSIC_FOLDER_ID.to_owned()
            } else {
                map::folder_id(&path)
            },
        )
        .opt(
            "parent",
            (!path.is_empty()).then(|| {
                if parent.is_empty() {
                    MUSIC_FOLDER_ID.to_owned()
                } else {
                    map::folder_id(parent)
                }
            }),
        )
        .attr("name", if path.is_empty() { "Music" } else { name });
    Ok(node.list("child", children))
}

/// `getMusicDirectory` of an album or artist id.
fn tag_directory(ctx: &Ctx<'_>, id: &str) -> Result<Node, SubsonicError> {
    if let Some(album) = ctx.albums.iter().find(|a| a.id == id) {
        let tracks = views::album_tracks(ctx.items, id);
        let node = Node::new("directory")
            .attr("id", album.id.as_str())
            .attr("parent", album.artist_id.as_str())
            .attr("name", album.name.as_str());
        return Ok(node.list(
            "child",
            tracks
                .into_iter()
                .map(|t| ctx.marks.song(t).node("child"))
                .collect(),
        ));
    }
    if let Some(artist) = ctx.artists.iter().find(|a| a.id == id) {
        let albums = views::artist_albums(ctx.items, id);
        let node = Node::new("directory")
            .attr("id", artist.id.as_str())
            .attr("parent", MUSIC_FOLDER_ID)
            .attr("name", artist.name.as_str());
        return Ok(node.list(
            "child",
            albums
                .iter()
                .map(|a| ctx.marks.album(a).child("child"))
                .collect(),
        ));
    }
    Err(SubsonicError::not_found("directory"))
}

/// `getArtists`: every artist A–Z.
pub fn artists(ctx: &Ctx<'_>) -> Node {
    let nodes: Vec<Node> = ctx
        .artists
        .iter()
        .map(|a| ctx.marks.artist(a).node())
        .collect();
    let names: Vec<&str> = ctx.artists.iter().map(|a| a.name.as_str()).collect();
    artist_index("artists", &nodes, &names)
}

/// `getArtist`: an artist with its albums.
pub fn artist(ctx: &Ctx<'_>, id: &str) -> Result<Node, SubsonicError> {
    let found = ctx
        .artists
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| SubsonicError::not_found("artist"))?;
    let albums = views::artist_albums(ctx.items, id);
    Ok(ctx.marks.artist(found).node().list(
        "album",
        albums.iter().map(|a| ctx.marks.album(a).node()).collect(),
    ))
}

/// `getAlbum`: an album with its songs in disc and track order.
pub fn album(ctx: &Ctx<'_>, id: &str) -> Result<Node, SubsonicError> {
    let found = ctx
        .albums
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| SubsonicError::not_found("album"))?;
    let tracks = views::album_tracks(ctx.items, id);
    let mut album = ctx.marks.album(found);
    album.genre = tracks
        .iter()
        .find_map(|t| t.meta.genre.as_deref().map(str::to_owned));
    album.created_ms = tracks.iter().filter_map(|t| t.modified_ms).max();
    Ok(album.node().list(
        "song",
        tracks
            .into_iter()
            .map(|t| ctx.marks.song(t).node("song"))
            .collect(),
    ))
}

/// `getGenres`: every genre with its counts.
pub fn genres(ctx: &Ctx<'_>) -> Node {
    let nodes = ctx
        .genres
        .iter()
        .map(|g| {
            Node::new("genre")
                .attr("songCount", g.track_count)
                .attr("albumCount", g.album_count)
                .text(g.name.as_str())
        })
        .collect();
    Node::new("genres").list("genre", nodes)
}

/// A small pseudo-random sequence for the random lists (not for secrets), seeded per call.
struct Shuffle(u64);

impl Shuffle {
    fn new() -> Shuffle {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Shuffle(u64::from(nanos) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        usize::try_from(r % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// `k` distinct indices below `n`, in random order.
    fn pick(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        let k = k.min(n);
        for i in 0..k {
            let j = i + self.below(n - i);
            all.swap(i, j);
        }
        all.truncate(k);
        all
    }
}

fn size_param(params: &Params, name: &str, default: u64) -> Result<usize, SubsonicError> {
    params
        .number(name, default, MAX_PAGE)
        .map(|n| usize::try_from(n).unwrap_or(0))
}

fn offset_param(params: &Params, name: &str) -> Result<usize, SubsonicError> {
    params
        .number(name, 0, u64::from(u32::MAX))
        .map(|n| usize::try_from(n).unwrap_or(0))
}

/// `getAlbumList2` (and `getAlbumList`): albums by `type` (random, newest,
/// alphabeticalByName, alphabeticalByArtist, byYear, byGenre), paged by `size` and `offset`.
pub fn album_list(ctx: &Ctx<'_>, params: &Params) -> Result<Vec<Album>, SubsonicError> {
    let kind = params.required("type")?;
    let size = size_param(params, "size", 10)?;
    let offset = offset_param(params, "offset")?;
    let mut albums: Vec<&views::Album> = ctx.albums.iter().collect();
    // What the list types need beyond the views: each album's newest track and genres.
    let (mut newest, mut genres) = (HashMap::new(), HashMap::<String, HashSet<String>>::new());
    if matches!(kind, "newest" | "byGenre") {
        for item in ctx.items {
            let Some(id) = views::album_id_of(item) else {
                continue;
            };
            if let Some(ms) = item.modified_ms {
                let e = newest.entry(id.clone()).or_insert(0u64);
                *e = (*e).max(ms);
            }
            if let Some(g) = &item.meta.genre {
                genres.entry(id).or_default().insert(fold(g));
            }
        }
    }
    match kind {
        "random" => {
            let picked = Shuffle::new().pick(albums.len(), size);
            albums = picked.into_iter().map(|i| albums[i]).collect();
        }
        "newest" => {
            albums.sort_by_key(|a| std::cmp::Reverse(newest.get(&a.id).copied().unwrap_or(0)))
        }
        "alphabeticalByName" => albums.sort_by_cached_key(|a| fold(&a.name)),
        "alphabeticalByArtist" => albums.sort_by_cached_key(|a| (fold(&a.artist), fold(&a.name))),
        "byYear" => {
            let from = params.number("fromYear", 0, 9999)?;
            let to = params.number("toYear", 9999, 9999)?;
            let (lo, hi) = (from.min(to), from.max(to));
            albums.retain(|a| {
                a.year
                    .and_then(|y| u64::try_from(y).ok())
                    .is_some_and(|y| (lo..=hi).contains(&y))
            });
            albums.sort_by_key(|a| a.year);
            if from > to {
                albums.reverse();
            }
        }
        "byGenre" => {
            let genre = fold(params.required("genre")?);
            albums.retain(|a| genres.get(&a.id).is_some_and(|g| g.contains(&genre)));
            albums.sort_by_cached_key(|a| fold(&a.name));
        }
        other => {
            return Err(SubsonicError::invalid(
                "type",
                &format!("{other:?} is not a list type this server offers"),
            ))
        }
    }
    Ok(albums
        .into_iter()
        .skip(if kind == "random" { 0 } else { offset })
        .take(size)
        .map(|a| ctx.marks.album(a))
        .collect())
}

/// `getRandomSongs`: up to `size` songs, optionally of a genre and within years.
pub fn random_songs(ctx: &Ctx<'_>, params: &Params) -> Result<Node, SubsonicError> {
    let size = size_param(params, "size", 10)?;
    let genre = params.get("genre").map(fold).filter(|g| !g.is_empty());
    let from = params.number("fromYear", 0, 9999)?;
    let to = params.number("toYear", 9999, 9999)?;
    let pool: Vec<&MediaItem> = ctx
        .items
        .iter()
        .map(|i| &**i)
        .filter(|i| i.kind == Kind::Audio)
        .filter(|i| {
            genre
                .as_ref()
                .is_none_or(|g| i.meta.genre.as_deref().map(fold).as_ref() == Some(g))
        })
        .filter(|i| {
            (from == 0 && to == 9999)
                || i.meta
                    .year
                    .and_then(|y| u64::try_from(y).ok())
                    .is_some_and(|y| y >= from && y <= to)
        })
        .collect();
    let picked = Shuffle::new().pick(pool.len(), size);
    Ok(Node::new("randomSongs").list(
        "song",
        picked
            .into_iter()
            .map(|i| ctx.marks.song(pool[i]).node("song"))
            .collect(),
    ))
}

/// Whether every word of `words` occurs in the folded `text`.
fn matches(words: &[String], text: &str) -> bool {
    words.iter().all(|w| text.contains(w.as_str()))
}

/// `search3` (and `search2`): artists, albums and songs whose names contain every word of
/// `query` (case- and accent-insensitive); an empty query (or `""`, as some clients send)
/// returns everything, paged, which is how clients download a whole library.
pub fn search(ctx: &Ctx<'_>, params: &Params, dialect: Dialect) -> Result<Node, SubsonicError> {
    let query = params
        .get("query")
        .unwrap_or_default()
        .trim()
        .trim_matches('"');
    let words: Vec<String> = fold(query).split_whitespace().map(str::to_owned).collect();
    let take = |count: &str, offset: &str| -> Result<(usize, usize), SubsonicError> {
        Ok((
            size_param(params, count, 20)?,
            offset_param(params, offset)?,
        ))
    };
    let (ac, ao) = take("artistCount", "artistOffset")?;
    let (bc, bo) = take("albumCount", "albumOffset")?;
    let (sc, so) = take("songCount", "songOffset")?;
    let artists = ctx
        .artists
        .iter()
        .filter(|a| matches(&words, &fold(&a.name)))
        .skip(ao)
        .take(ac)
        .map(|a| ctx.marks.artist(a).node())
        .collect();
    let albums = ctx
        .albums
        .iter()
        .filter(|a| matches(&words, &fold(&format!("{} {}", a.name, a.artist))))
        .skip(bo)
        .take(bc)
        .map(|a| dialect.album(&ctx.marks.album(a)))
        .collect();
    let songs = ctx
        .items
        .iter()
        .filter(|i| {
            words.is_empty() || {
                let m = &i.meta;
                let text = [
                    m.title.as_deref(),
                    m.artist.as_deref(),
                    m.album.as_deref(),
                    Some(&*i.name),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                matches(&words, &fold(&text))
            }
        })
        .skip(so)
        .take(sc)
        .map(|i| ctx.marks.song(i).node("song"))
        .collect();
    Ok(dialect
        .search_result()
        .list("artist", artists)
        .list("album", albums)
        .list("song", songs))
}
