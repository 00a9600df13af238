//! Grouped views of the library (albums, artists, genres), built from the catalog snapshot's
//! items by pure functions: no database, no I/O, so they are rebuilt per snapshot and tested
//! with plain values.
//!
//! Grouping is case-insensitive (Unicode lowercase of the trimmed text) and keeps the first
//! spelling met in item order. Only audio items group; a track without an album tag belongs
//! to no album. Ids are stable opaque hex (like item ids): the first 128 bits of SHA-256 over
//! a kind tag and the folded names, so they survive a restart and a re-scan.

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bucketstream_core::catalog::MediaItem;
use bucketstream_core::media::Kind;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The artist shown for an album whose tracks have different artists and no album artist.
pub const VARIOUS_ARTISTS: &str = "Various Artists";
/// The artist shown for an album none of whose tracks names an artist.
pub const UNKNOWN_ARTIST: &str = "Unknown Artist";

/// An album: audio tracks sharing an album (and album artist) tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Album {
    /// Stable id (32 hex chars), from the album artist and the album name.
    pub id: String,
    /// The album name (first spelling met).
    pub name: String,
    /// The album artist; else the artist all tracks share; else [`VARIOUS_ARTISTS`] (or
    /// [`UNKNOWN_ARTIST`] when no track names one).
    pub artist: String,
    /// The id of `artist` in [`artists`].
    pub artist_id: String,
    /// The earliest year tagged on its tracks.
    pub year: Option<i32>,
    /// How many tracks.
    pub track_count: u32,
    /// The sum of the known track durations; `null` when none is known.
    pub duration_ms: Option<u64>,
    /// The art of the first track (in disc and track order) that has art.
    pub art: Option<String>,
}

/// An artist: an album's artist or a track's artist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artist {
    /// Stable id (32 hex chars), from the folded name.
    pub id: String,
    /// The name (first spelling met).
    pub name: String,
    /// Albums whose artist (as [`Album::artist`]) this is.
    pub album_count: u32,
    /// Tracks whose artist tag (else album artist tag) this is.
    pub track_count: u32,
    /// The art of the artist's first album with art, else of its first track with art.
    pub art: Option<String>,
}

/// A genre, as tagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Genre {
    /// The genre (first spelling met).
    pub name: String,
    /// Audio tracks with this genre.
    pub track_count: u32,
    /// Albums with at least one track of this genre.
    pub album_count: u32,
}

/// `text` trimmed and lowercased: the grouping key.
fn fold(text: &str) -> String {
    text.trim().to_lowercase()
}

/// `text` when it holds more than whitespace.
fn present(text: Option<&str>) -> Option<&str> {
    text.map(|t| t.trim()).filter(|t| !t.is_empty())
}

fn stable_id(kind: &str, parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(kind.as_bytes());
    for part in parts {
        hash.update([0u8]);
        hash.update(fold(part).as_bytes());
    }
    hex::encode(&hash.finalize()[..16])
}

/// The id of the artist named `name`.
pub fn artist_id(name: &str) -> String {
    stable_id("artist", &[name])
}

/// The grouping key of `item`'s album, when it forms an album (audio with an album tag):
/// the folded album artist and album; without an album artist, the folder (a trailing
/// `CD1`/`Disc 2` folder counts as its parent) and the album, so two "Greatest Hits" of
/// different artists stay apart while a compilation's tracks stay together. The player
/// groups the same way (`ui/groups.js`). Hashed once per album, not once per track.
fn album_key(item: &MediaItem) -> Option<String> {
    if item.kind != Kind::Audio {
        return None;
    }
    let album = present(item.meta.album.as_deref())?;
    Some(match present(item.meta.album_artist.as_deref()) {
        Some(album_artist) => format!("a:{}\0{}", fold(album_artist), fold(album)),
        None => format!(
            "f:{}\0{}",
            fold(without_disc_folder(&item.folder)),
            fold(album)
        ),
    })
}

/// `folder` without a last component like `CD1`, `disc 2`, `Disk_03`.
fn without_disc_folder(folder: &str) -> &str {
    let (parent, last) = folder.rsplit_once('/').unwrap_or(("", folder));
    let lower = last.to_ascii_lowercase();
    let rest = ["cd", "disc", "disk"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .map(|r| r.trim_start_matches([' ', '_', '-']));
    match rest {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => parent,
        _ => folder,
    }
}

/// The id of the album with grouping key `key`.
fn album_id_from_key(key: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"album\0");
    hash.update(key.as_bytes());
    hex::encode(&hash.finalize()[..16])
}

/// The album id of `item`, when it forms an album (audio with an album tag).
pub fn album_id_of(item: &MediaItem) -> Option<String> {
    album_key(item).map(|key| album_id_from_key(&key))
}

/// Disc, then track, then name order (no disc counts as disc 1; no track number goes last).
fn track_order(a: &MediaItem, b: &MediaItem) -> std::cmp::Ordering {
    let key = |i: &MediaItem| (i.meta.disc.unwrap_or(1), i.meta.track.unwrap_or(u32::MAX));
    key(a)
        .cmp(&key(b))
        .then_with(|| fold(&a.name).cmp(&fold(&b.name)))
        .then_with(|| a.key.cmp(&b.key))
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The albums, sorted by artist then name (case-insensitive).
pub fn albums(items: &[Arc<MediaItem>]) -> Vec<Album> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(String, Vec<&MediaItem>)> = Vec::new();
    for item in items {
        let Some(key) = album_key(item) else {
            continue;
        };
        let slot = *index.entry(key).or_insert_with_key(|key| {
            groups.push((album_id_from_key(key), Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(item);
    }
    let mut out: Vec<Album> = groups
        .into_iter()
        .filter_map(|(id, tracks)| make_album(id, tracks))
        .collect();
    out.sort_by_cached_key(|a| (fold(&a.artist), fold(&a.name), a.id.clone()));
    out
}

/// The album of `tracks` (`None` only when there are none).
fn make_album(id: String, tracks: Vec<&MediaItem>) -> Option<Album> {
    let first = *tracks.first()?;
    let name = present(first.meta.album.as_deref())
        .unwrap_or_default()
        .to_owned();
    let artist = match present(first.meta.album_artist.as_deref()) {
        Some(album_artist) => album_artist.to_owned(),
        None => {
            let mut names = tracks.iter().map(|t| present(t.meta.artist.as_deref()));
            let first_name = names.next().flatten();
            let shared = first_name.filter(|f| {
                tracks
                    .iter()
                    .all(|t| present(t.meta.artist.as_deref()).is_some_and(|a| fold(a) == fold(f)))
            });
            match (
                shared,
                tracks
                    .iter()
                    .any(|t| present(t.meta.artist.as_deref()).is_some()),
            ) {
                (Some(shared), _) => shared.to_owned(),
                (None, true) => VARIOUS_ARTISTS.to_owned(),
                (None, false) => UNKNOWN_ARTIST.to_owned(),
            }
        }
    };
    let mut ordered = tracks.clone();
    ordered.sort_by(|a, b| track_order(a, b));
    let durations: Vec<u64> = tracks.iter().filter_map(|t| t.meta.duration_ms).collect();
    Some(Album {
        id,
        artist_id: artist_id(&artist),
        name,
        artist,
        year: tracks.iter().filter_map(|t| t.meta.year).min(),
        track_count: count(tracks.len()),
        duration_ms: (!durations.is_empty())
            .then(|| durations.iter().fold(0u64, |s, d| s.saturating_add(*d))),
        art: ordered
            .iter()
            .find_map(|t| t.meta.art.as_deref().map(str::to_owned)),
    })
}

/// The tracks of album `album_id`, in disc, track, then name order.
pub fn album_tracks<'a>(items: &'a [Arc<MediaItem>], album_id: &str) -> Vec<&'a MediaItem> {
    let mut ids: HashMap<String, bool> = HashMap::new();
    let mut tracks: Vec<&MediaItem> = items
        .iter()
        .map(Arc::as_ref)
        .filter(|i| {
            album_key(i).is_some_and(|key| {
                *ids.entry(key)
                    .or_insert_with_key(|key| album_id_from_key(key) == album_id)
            })
        })
        .collect();
    tracks.sort_by(|a, b| track_order(a, b));
    tracks
}

/// The albums of the artist `artist_id`, in [`albums`] order.
pub fn artist_albums(items: &[Arc<MediaItem>], artist_id: &str) -> Vec<Album> {
    albums(items)
        .into_iter()
        .filter(|a| a.artist_id == artist_id)
        .collect()
}

/// The artists (of albums and of tracks), sorted by name (case-insensitive).
pub fn artists(items: &[Arc<MediaItem>]) -> Vec<Artist> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Artist> = Vec::new();
    let mut slot_of = |name: &str, out: &mut Vec<Artist>| -> usize {
        let id = artist_id(name);
        *index.entry(id.clone()).or_insert_with(|| {
            out.push(Artist {
                id,
                name: name.to_owned(),
                album_count: 0,
                track_count: 0,
                art: None,
            });
            out.len() - 1
        })
    };
    let mut track_art: HashMap<usize, String> = HashMap::new();
    for item in items.iter().filter(|i| i.kind == Kind::Audio) {
        let meta = &item.meta;
        let Some(name) = present(meta.artist.as_deref()).or(present(meta.album_artist.as_deref()))
        else {
            continue;
        };
        let slot = slot_of(name, &mut out);
        out[slot].track_count = out[slot].track_count.saturating_add(1);
        if let Some(art) = &meta.art {
            track_art.entry(slot).or_insert_with(|| art.to_string());
        }
    }
    for album in albums(items) {
        let slot = slot_of(&album.artist, &mut out);
        out[slot].album_count = out[slot].album_count.saturating_add(1);
        if out[slot].art.is_none() {
            out[slot].art = album.art;
        }
    }
    for (slot, art) in track_art {
        out[slot].art.get_or_insert(art);
    }
    out.sort_by_cached_key(|a| (fold(&a.name), a.id.clone()));
    out
}

/// The genres of audio tracks, sorted by name (case-insensitive).
pub fn genres(items: &[Arc<MediaItem>]) -> Vec<Genre> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<(Genre, HashSet<String>)> = Vec::new();
    for item in items.iter().filter(|i| i.kind == Kind::Audio) {
        let Some(name) = present(item.meta.genre.as_deref()) else {
            continue;
        };
        let slot = *index.entry(fold(name)).or_insert_with(|| {
            let genre = Genre {
                name: name.to_owned(),
                track_count: 0,
                album_count: 0,
            };
            out.push((genre, HashSet::new()));
            out.len() - 1
        });
        let (genre, albums) = &mut out[slot];
        genre.track_count = genre.track_count.saturating_add(1);
        if let Some(album) = album_key(item) {
            albums.insert(album);
        }
    }
    let mut genres: Vec<Genre> = out
        .into_iter()
        .map(|(mut g, albums)| {
            g.album_count = count(albums.len());
            g
        })
        .collect();
    genres.sort_by_cached_key(|g| fold(&g.name));
    genres
}
