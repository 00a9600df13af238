//! The grouped views on a small hand-made library, with exact JSON for one of each.

use std::sync::Arc;

use bucketstream_core::catalog::item::from_object;
use bucketstream_core::catalog::{ItemMeta, MediaItem};
use bucketstream_core::source::ObjectMeta;
use serde_json::json;

use super::*;

fn item(key: &str, meta: ItemMeta) -> MediaItem {
    let obj = ObjectMeta {
        key: key.into(),
        size: 1,
        etag: None,
        last_modified: None,
    };
    let mut item = from_object("s3://b/", "", &obj).expect("media key");
    item.meta = Arc::new(meta);
    item
}

fn track(key: &str, artist: &str, album: &str, track: u32, disc: Option<u32>) -> MediaItem {
    item(
        key,
        ItemMeta {
            title: Some(key.into()),
            artist: Some(artist.into()),
            album: Some(album.into()),
            track: Some(track),
            disc,
            year: Some(1999),
            genre: Some("Jazz".into()),
            duration_ms: Some(1000),
            ..ItemMeta::default()
        },
    )
}

fn library() -> Vec<Arc<MediaItem>> {
    let mut with_art = track("kb/2.mp3", "Kind Band", "Blue", 2, Some(1));
    Arc::make_mut(&mut with_art.meta).art = Some("/art/cafe".into());
    let mut early = track("kb/1.mp3", "kind band", "BLUE", 1, None);
    Arc::make_mut(&mut early.meta).year = Some(1997);
    Arc::make_mut(&mut early.meta).genre = Some("jazz".into());
    vec![
        with_art,
        track("kb/3.mp3", "Kind Band", "blue ", 1, Some(2)),
        early,
        track("comp/a.mp3", "Ann", "Hits", 1, None),
        track("comp/b.mp3", "Bob", "Hits", 2, None),
        item(
            "loose.mp3",
            ItemMeta {
                artist: Some("Ann".into()),
                ..ItemMeta::default()
            },
        ),
        item(
            "film.mp4",
            ItemMeta {
                album: Some("Blue".into()),
                artist: Some("Kind Band".into()),
                ..ItemMeta::default()
            },
        ),
    ]
    .into_iter()
    .map(Arc::new)
    .collect()
}

#[test]
fn one_album_as_json() {
    let items = library();
    let albums = albums(&items);
    assert_eq!(albums.len(), 2, "{albums:?}");
    let blue = albums.iter().find(|a| a.name == "Blue").expect("blue");
    assert_eq!(
        serde_json::to_value(blue).expect("json"),
        json!({
            "id": items
                .iter()
                .find(|i| i.kind == Kind::Audio && i.meta.album.as_deref() == Some("Blue"))
                .and_then(|i| album_id_of(i))
                .expect("an album track"),
            "name": "Blue",
            "artist": "Kind Band",
            "artist_id": artist_id("kind band"),
            "year": 1997,
            "track_count": 3,
            "duration_ms": 3000,
            "art": "/art/cafe",
        })
    );
    let hits = albums.iter().find(|a| a.name == "Hits").expect("hits");
    assert_eq!(hits.artist, VARIOUS_ARTISTS);
    assert_eq!(
        albums[0].name, "Blue",
        "sorted by artist: Kind Band before Various Artists"
    );
    assert!(crate::views::albums(&[]).is_empty());
}

#[test]
fn album_tracks_are_in_disc_then_track_order() {
    let items = library();
    let id = albums(&items)[0].id.clone();
    let keys: Vec<&str> = album_tracks(&items, &id)
        .iter()
        .map(|i| i.key.as_str())
        .collect();
    assert_eq!(keys, ["kb/1.mp3", "kb/2.mp3", "kb/3.mp3"]);
    assert!(album_tracks(&items, "nope").is_empty());
}

#[test]
fn one_artist_as_json() {
    let items = library();
    let artists = artists(&items);
    let names: Vec<&str> = artists.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Ann", "Bob", "Kind Band", "Various Artists"]);
    assert_eq!(
        serde_json::to_value(&artists[0]).expect("json"),
        json!({"id": artist_id("ann"), "name": "Ann", "album_count": 0, "track_count": 2, "art": null})
    );
    assert_eq!(
        serde_json::to_value(&artists[2]).expect("json"),
        json!({"id": artist_id("Kind Band"), "name": "Kind Band", "album_count": 1, "track_count": 3, "art": "/art/cafe"})
    );
    assert_eq!(artist_albums(&items, &artists[3].id).len(), 1);
}

#[test]
fn one_genre_as_json() {
    let genres = genres(&library());
    assert_eq!(
        serde_json::to_value(&genres).expect("json"),
        json!([{"name": "Jazz", "track_count": 5, "album_count": 2}])
    );
}

#[test]
fn album_artist_tag_decides_and_ids_are_stable() {
    let mut a = track("x/1.mp3", "Ann", "Split", 1, None);
    Arc::make_mut(&mut a.meta).album_artist = Some("Ann & Bob".into());
    let mut b = track("x/2.mp3", "Bob", "split", 2, None);
    Arc::make_mut(&mut b.meta).album_artist = Some("ANN & BOB".into());
    let unknown = item(
        "y/1.mp3",
        ItemMeta {
            album: Some("Nameless".into()),
            ..ItemMeta::default()
        },
    );
    let items: Vec<_> = [a, b, unknown].into_iter().map(Arc::new).collect();
    let albums = albums(&items);
    assert_eq!(albums.len(), 2);
    assert_eq!(
        (albums[0].artist.as_str(), albums[0].track_count),
        ("Ann & Bob", 2)
    );
    assert_eq!(albums[0].id, album_id_of(&items[0]).expect("an album"));
    assert_eq!(albums[0].id.len(), 32);
    assert_eq!(albums[1].artist, UNKNOWN_ARTIST);
    assert_eq!(albums[1].duration_ms, None);
}

#[test]
fn albums_without_album_artist_are_split_by_folder_but_not_by_disc_folder() {
    let tracks = vec![
        track("Best/CD1/1.mp3", "Ann", "Greatest Hits", 1, None),
        track("Best/Disc 2/1.mp3", "Bob", "Greatest Hits", 1, Some(2)),
        track("Other/1.mp3", "Cy", "Greatest Hits", 1, None),
    ]
    .into_iter()
    .map(Arc::new)
    .collect::<Vec<_>>();
    let albums = albums(&tracks);
    assert_eq!(albums.len(), 2, "{albums:?}");
    let best = albums
        .iter()
        .find(|a| a.track_count == 2)
        .expect("two discs, one album");
    assert_eq!(best.artist, VARIOUS_ARTISTS);
    assert_eq!(without_disc_folder("a/CD1"), "a");
    assert_eq!(without_disc_folder("a/disk_03"), "a");
    assert_eq!(without_disc_folder("CD 2"), "");
    assert_eq!(without_disc_folder("a/CDs"), "a/CDs");
    assert_eq!(without_disc_folder("a/Disco"), "a/Disco");
}
