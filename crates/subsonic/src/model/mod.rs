//! The library as Subsonic clients see it: songs, albums, artists, folders, genres and
//! playlists as plain values ([`Song`], [`Album`]…), and the answer elements built from them.
//!
//! The LAN server maps its catalog and views into these values; everything here is pure, so
//! the exact shapes clients parse (which element name where, which attributes, the A–Z index
//! with its ignored articles) are tested without a server.

mod index;
mod time;

pub use index::{index_letter, IGNORED_ARTICLES};
pub use time::iso8601;

use crate::envelope::Node;

/// A song or video, as a `child` (or `song`, `entry`) element.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Song {
    /// Its id.
    pub id: String,
    /// Its folder's id.
    pub parent: Option<String>,
    /// Title (the file name when untagged).
    pub title: String,
    /// Album tag.
    pub album: Option<String>,
    /// Artist tag.
    pub artist: Option<String>,
    /// Its album's id, when it has an album.
    pub album_id: Option<String>,
    /// Its artist's id, when it has an artist.
    pub artist_id: Option<String>,
    /// Track number.
    pub track: Option<u32>,
    /// Disc number.
    pub disc: Option<u32>,
    /// Year.
    pub year: Option<i32>,
    /// Genre.
    pub genre: Option<String>,
    /// Cover art id for `getCoverArt`.
    pub cover_art: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Content-Type.
    pub content_type: String,
    /// File extension, lowercase.
    pub suffix: String,
    /// Duration in whole seconds.
    pub duration_s: Option<u64>,
    /// Bit rate in kbit/s.
    pub bit_rate: Option<u32>,
    /// Path as clients show it (folder/file).
    pub path: String,
    /// A video.
    pub is_video: bool,
    /// When it appeared (ms since the Unix epoch).
    pub created_ms: Option<u64>,
    /// Times played.
    pub play_count: u64,
    /// When starred.
    pub starred_ms: Option<u64>,
    /// The listener's rating (1–5).
    pub user_rating: Option<u8>,
}

impl Song {
    /// The element `name` (`child`, `song` or `entry`) for this song.
    pub fn node(&self, name: &'static str) -> Node {
        Node::new(name)
            .attr("id", self.id.as_str())
            .opt("parent", self.parent.as_deref())
            .attr("isDir", false)
            .attr("title", self.title.as_str())
            .opt("album", self.album.as_deref())
            .opt("artist", self.artist.as_deref())
            .opt("track", self.track)
            .opt("discNumber", self.disc)
            .opt("year", self.year.map(i64::from))
            .opt("genre", self.genre.as_deref())
            .opt("coverArt", self.cover_art.as_deref())
            .attr("size", self.size)
            .attr("contentType", self.content_type.as_str())
            .attr("suffix", self.suffix.as_str())
            .opt("duration", self.duration_s)
            .opt("bitRate", self.bit_rate)
            .attr("path", self.path.as_str())
            .attr("isVideo", self.is_video)
            .opt(
                "playCount",
                (self.play_count > 0).then_some(self.play_count),
            )
            .opt("created", self.created_ms.map(iso8601))
            .opt("starred", self.starred_ms.map(iso8601))
            .opt("userRating", self.user_rating.map(u32::from))
            .opt("albumId", self.album_id.as_deref())
            .opt("artistId", self.artist_id.as_deref())
            .attr("type", if self.is_video { "video" } else { "music" })
            .attr("mediaType", if self.is_video { "video" } else { "song" })
    }
}

/// An album (ID3 view).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Album {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its artist (album artist, or "Various Artists").
    pub artist: Option<String>,
    /// The artist's id.
    pub artist_id: Option<String>,
    /// Cover art id.
    pub cover_art: Option<String>,
    /// Number of songs.
    pub song_count: u32,
    /// Total duration in seconds.
    pub duration_s: u64,
    /// Year.
    pub year: Option<i32>,
    /// Genre (the first track's).
    pub genre: Option<String>,
    /// When it appeared (ms since the Unix epoch).
    pub created_ms: Option<u64>,
    /// Times its songs were played.
    pub play_count: u64,
    /// When starred.
    pub starred_ms: Option<u64>,
    /// The listener's rating (1–5), when the answer reads ratings.
    pub user_rating: Option<u8>,
}

impl Album {
    /// The `album` element (songs added by the caller for `getAlbum`).
    pub fn node(&self) -> Node {
        Node::new("album")
            .attr("id", self.id.as_str())
            .attr("name", self.name.as_str())
            .opt("artist", self.artist.as_deref())
            .opt("artistId", self.artist_id.as_deref())
            .opt("coverArt", self.cover_art.as_deref())
            .attr("songCount", self.song_count)
            .attr("duration", self.duration_s)
            .opt(
                "playCount",
                (self.play_count > 0).then_some(self.play_count),
            )
            .attr("created", iso8601(self.created_ms.unwrap_or(0)))
            .opt("year", self.year.map(i64::from))
            .opt("genre", self.genre.as_deref())
            .opt("starred", self.starred_ms.map(iso8601))
            .opt("userRating", self.user_rating.map(u32::from))
    }

    /// The album as a directory entry (`isDir="true"`, titled, its artist as parent): how the
    /// folder-based methods (`getAlbumList`, `search2`, `getStarred`, an artist's
    /// `getMusicDirectory`) list albums; `getMusicDirectory` opens its id.
    pub fn child(&self, name: &'static str) -> Node {
        Node::new(name)
            .attr("id", self.id.as_str())
            .opt("parent", self.artist_id.as_deref())
            .attr("isDir", true)
            .attr("title", self.name.as_str())
            .attr("name", self.name.as_str())
            .attr("album", self.name.as_str())
            .opt("artist", self.artist.as_deref())
            .opt("year", self.year.map(i64::from))
            .opt("genre", self.genre.as_deref())
            .opt("coverArt", self.cover_art.as_deref())
            .attr("duration", self.duration_s)
            .attr("songCount", self.song_count)
            .opt(
                "playCount",
                (self.play_count > 0).then_some(self.play_count),
            )
            .attr("created", iso8601(self.created_ms.unwrap_or(0)))
            .opt("starred", self.starred_ms.map(iso8601))
            .opt("userRating", self.user_rating.map(u32::from))
            .opt("artistId", self.artist_id.as_deref())
            .attr("mediaType", "album")
    }
}

/// An artist (ID3 view).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Artist {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Number of albums.
    pub album_count: u32,
    /// Cover art id (one of its albums').
    pub cover_art: Option<String>,
    /// When starred.
    pub starred_ms: Option<u64>,
    /// The listener's rating (1–5).
    pub user_rating: Option<u8>,
}

impl Artist {
    /// The `artist` element.
    pub fn node(&self) -> Node {
        Node::new("artist")
            .attr("id", self.id.as_str())
            .attr("name", self.name.as_str())
            .opt("coverArt", self.cover_art.as_deref())
            .attr("albumCount", self.album_count)
            .opt("starred", self.starred_ms.map(iso8601))
            .opt("userRating", self.user_rating.map(u32::from))
    }
}

/// A folder as a directory entry (`isDir="true"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folder {
    /// Its id.
    pub id: String,
    /// Its parent's id (none at the top).
    pub parent: Option<String>,
    /// Its name (last path component).
    pub name: String,
}

impl Folder {
    /// The folder as a `child` element.
    pub fn child(&self) -> Node {
        Node::new("child")
            .attr("id", self.id.as_str())
            .opt("parent", self.parent.as_deref())
            .attr("isDir", true)
            .attr("title", self.name.as_str())
    }
}

/// `artists` grouped A–Z under `name` (`indexes` for getIndexes, `artists` for getArtists),
/// with the articles ignored when sorting and grouping.
pub fn artist_index(name: &'static str, artists: &[Node], names: &[&str]) -> Node {
    let mut groups: Vec<(String, Vec<Node>)> = Vec::new();
    let mut order: Vec<usize> = (0..artists.len().min(names.len())).collect();
    order.sort_by_cached_key(|&i| index::sort_key(names[i]));
    for i in order {
        let letter = index_letter(names[i]);
        match groups.last_mut() {
            Some((l, nodes)) if *l == letter => nodes.push(artists[i].clone()),
            _ => groups.push((letter, vec![artists[i].clone()])),
        }
    }
    let indexes = groups
        .into_iter()
        .map(|(letter, nodes)| {
            Node::new("index")
                .attr("name", letter)
                .list("artist", nodes)
        })
        .collect();
    Node::new(name)
        .attr("ignoredArticles", IGNORED_ARTICLES.join(" "))
        .list("index", indexes)
}

#[cfg(test)]
mod tests;
