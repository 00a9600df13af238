//! The catalog and the grouped views as Subsonic values: each item becomes a [`Song`], each
//! album, artist and folder its element, with ids clients keep (item, album and artist ids
//! are the library's own; a folder's id is `d-` and the hex of its path, so it needs no table).

use bucketstream_core::catalog::MediaItem;
use bucketstream_core::media::Kind;
use bucketstream_library::views;
use bucketstream_subsonic::model::{Album, Artist, Folder, Song};

/// The id of the music folder (the whole library).
pub const MUSIC_FOLDER_ID: &str = "1";

/// The id of folder `path` (`""` is the top).
pub fn folder_id(path: &str) -> String {
    format!("d-{}", hex::encode(path.as_bytes()))
}

/// The folder path a folder id names (`1` and `d-` are the top).
pub fn folder_path(id: &str) -> Option<String> {
    if id == MUSIC_FOLDER_ID {
        return Some(String::new());
    }
    let bytes = hex::decode(id.strip_prefix("d-")?).ok()?;
    String::from_utf8(bytes).ok()
}

/// The art hash in an item's or view's art path (`/art/{hash}`).
pub fn art_id(art: Option<&str>) -> Option<String> {
    art.and_then(|a| a.rsplit('/').next())
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
}

/// The parent folder of `path` and its last component.
pub fn split_folder(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// `item` as a song (or video).
pub fn song(item: &MediaItem) -> Song {
    let meta = &item.meta;
    let file = item.key.rsplit('/').next().unwrap_or(&item.key);
    let suffix = file
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let title = meta
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(&item.name);
    let artist = meta
        .artist
        .as_deref()
        .filter(|a| !a.trim().is_empty())
        .map(str::to_owned);
    let path = if item.folder.is_empty() {
        file.to_owned()
    } else {
        format!("{}/{file}", item.folder)
    };
    Song {
        id: item.id.to_string(),
        parent: Some(folder_id(&item.folder)),
        title: title.to_owned(),
        album: meta.album.as_deref().map(str::to_owned),
        artist_id: artist.as_deref().map(views::artist_id),
        artist,
        album_id: views::album_id_of(item),
        track: meta.track,
        disc: meta.disc,
        year: meta.year,
        genre: meta.genre.as_deref().map(str::to_owned),
        cover_art: art_id(meta.art.as_deref()),
        size: item.size,
        content_type: item.content_type.to_owned(),
        suffix,
        duration_s: meta.duration_ms.map(|ms| ms / 1000),
        bit_rate: meta.bitrate_kbps,
        path,
        is_video: item.kind == Kind::Video,
        created_ms: item.modified_ms,
        play_count: 0,
        starred_ms: None,
        user_rating: None,
    }
}

/// A view album as a Subsonic album.
pub fn album(a: &views::Album) -> Album {
    Album {
        id: a.id.clone(),
        name: a.name.clone(),
        artist: Some(a.artist.clone()),
        artist_id: Some(a.artist_id.clone()),
        cover_art: art_id(a.art.as_deref()),
        song_count: a.track_count,
        duration_s: a.duration_ms.unwrap_or(0) / 1000,
        year: a.year,
        ..Album::default()
    }
}

/// A view artist as a Subsonic artist.
pub fn artist(a: &views::Artist) -> Artist {
    Artist {
        id: a.id.clone(),
        name: a.name.clone(),
        album_count: a.album_count,
        cover_art: art_id(a.art.as_deref()),
        starred_ms: None,
        user_rating: None,
    }
}

/// Folder `path` as a directory entry.
pub fn folder(path: &str) -> Folder {
    let (parent, name) = split_folder(path);
    Folder {
        id: folder_id(path),
        parent: Some(if parent.is_empty() {
            MUSIC_FOLDER_ID.to_owned()
        } else {
            folder_id(parent)
        }),
        name: name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_ids_round_trip() {
        for path in ["", "Jazz", "Jazz/Live 1961", "ünï/🎵", "a/../b"] {
            let id = folder_id(path);
            assert!(id.starts_with("d-"));
            assert_eq!(folder_path(&id).as_deref(), Some(path), "{path}");
        }
        assert_eq!(folder_path("1").as_deref(), Some(""));
        for bad in ["", "d-zz", "d-ff", "x-61", "2"] {
            assert_eq!(folder_path(bad), None, "{bad}");
        }
        assert_eq!(art_id(Some("/art/abc")).as_deref(), Some("abc"));
        assert_eq!(art_id(Some("/art/")), None);
        assert_eq!(split_folder("a/b/c"), ("a/b", "c"));
        assert_eq!(split_folder("a"), ("", "a"));
        let f = folder("Jazz/Live");
        assert_eq!(f.parent.as_deref(), Some(folder_id("Jazz").as_str()));
        assert_eq!(folder("Jazz").parent.as_deref(), Some(MUSIC_FOLDER_ID));
    }
}
