//! The elements clients parse, as JSON through the real envelope.

use serde_json::{json, Value};

use super::*;
use crate::envelope::{render, Format};

fn json_of(node: &Node) -> Value {
    let text = render(Format::Json, Ok(Some(node)), "v");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    v["subsonic-response"].take()
}

fn song() -> Song {
    Song {
        id: "0123456789abcdef0123456789abcdef".into(),
        parent: Some("dir-4a617a7a".into()),
        title: "So What".into(),
        album: Some("Kind of Blue".into()),
        artist: Some("Miles Davis".into()),
        album_id: Some("al-1".into()),
        artist_id: Some("ar-1".into()),
        track: Some(1),
        disc: None,
        year: Some(1959),
        genre: Some("Jazz".into()),
        cover_art: Some("ff00".into()),
        size: 9_000_000,
        content_type: "audio/mpeg".into(),
        suffix: "mp3".into(),
        duration_s: Some(545),
        bit_rate: Some(320),
        path: "Jazz/So What.mp3".into(),
        is_video: false,
        created_ms: Some(1_445_412_480_000),
        play_count: 0,
        starred_ms: None,
        user_rating: None,
    }
}

#[test]
fn a_song_has_what_clients_read() {
    let v = json_of(&song().node("song"));
    assert_eq!(
        v["song"],
        json!({
            "id": "0123456789abcdef0123456789abcdef", "parent": "dir-4a617a7a", "isDir": false,
            "title": "So What", "album": "Kind of Blue", "artist": "Miles Davis", "track": 1,
            "year": 1959, "genre": "Jazz", "coverArt": "ff00", "size": 9_000_000,
            "contentType": "audio/mpeg", "suffix": "mp3", "duration": 545, "bitRate": 320,
            "path": "Jazz/So What.mp3", "isVideo": false, "created": "2015-10-21T07:28:00.000Z",
            "albumId": "al-1", "artistId": "ar-1", "type": "music", "mediaType": "song"
        })
    );
    let mut video = song();
    video.is_video = true;
    video.play_count = 3;
    video.starred_ms = Some(0);
    let v = json_of(&video.node("child"));
    assert_eq!(v["child"]["isVideo"], true);
    assert_eq!(v["child"]["type"], "video");
    assert_eq!(v["child"]["playCount"], 3);
    assert_eq!(v["child"]["starred"], "1970-01-01T00:00:00.000Z");
}

#[test]
fn albums_artists_and_folders() {
    let album = Album {
        id: "al-1".into(),
        name: "Kind of Blue".into(),
        artist: Some("Miles Davis".into()),
        artist_id: Some("ar-1".into()),
        song_count: 5,
        duration_s: 2_760,
        year: Some(1959),
        ..Album::default()
    };
    let v = json_of(&album.node());
    assert_eq!(v["album"]["songCount"], 5);
    assert_eq!(v["album"]["created"], "1970-01-01T00:00:00.000Z");
    assert!(v["album"].get("coverArt").is_none());
    assert!(v["album"].get("userRating").is_none());
    let rated = Album {
        user_rating: Some(4),
        starred_ms: Some(0),
        cover_art: Some("ff00".into()),
        ..album.clone()
    };
    assert_eq!(json_of(&rated.node())["album"]["userRating"], 4);
    // The folder-based methods list the same album as a directory their clients open.
    assert_eq!(
        json_of(&rated.child("album"))["album"],
        json!({
            "id": "al-1", "parent": "ar-1", "isDir": true, "title": "Kind of Blue",
            "name": "Kind of Blue", "album": "Kind of Blue", "artist": "Miles Davis",
            "year": 1959, "coverArt": "ff00", "duration": 2_760, "songCount": 5,
            "created": "1970-01-01T00:00:00.000Z", "starred": "1970-01-01T00:00:00.000Z",
            "userRating": 4, "artistId": "ar-1", "mediaType": "album"
        })
    );
    let artist = Artist {
        id: "ar-1".into(),
        name: "Miles Davis".into(),
        album_count: 2,
        ..Artist::default()
    };
    assert_eq!(
        json_of(&artist.node())["artist"],
        json!({"id": "ar-1", "name": "Miles Davis", "albumCount": 2})
    );
    let folder = Folder {
        id: "dir-61".into(),
        parent: None,
        name: "a".into(),
    };
    assert_eq!(
        json_of(&folder.child())["child"],
        json!({"id": "dir-61", "isDir": true, "title": "a"})
    );
}

#[test]
fn the_index_groups_by_letter_ignoring_articles() {
    let names = ["The Beatles", "ABBA", "Björk", "2Pac", "Air"];
    let nodes: Vec<Node> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            Artist {
                id: format!("ar-{i}"),
                name: (*n).into(),
                ..Artist::default()
            }
            .node()
        })
        .collect();
    let v = json_of(&artist_index("artists", &nodes, &names));
    let groups: Vec<(String, Vec<String>)> = v["artists"]["index"]
        .as_array()
        .expect("index")
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap_or_default().to_owned(),
                g["artist"]
                    .as_array()
                    .expect("artists")
                    .iter()
                    .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
                    .collect(),
            )
        })
        .collect();
    let expected: Vec<(String, Vec<String>)> = vec![
        ("#".into(), vec!["2Pac".into()]),
        ("A".into(), vec!["ABBA".into(), "Air".into()]),
        ("B".into(), vec!["The Beatles".into(), "Björk".into()]),
    ];
    assert_eq!(groups, expected);
    assert_eq!(
        v["artists"]["ignoredArticles"],
        "The El La Los Las Le Les Os As O A"
    );
}
