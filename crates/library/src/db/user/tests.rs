//! Plays, stars, bookmarks and playlists on a real SQLite file, across a reopen.

use tempfile::TempDir;

use super::*;
use crate::db::Db;

const SRC: &str = "s3://bucket/";

fn open() -> (TempDir, Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(&dir.path().join("library.db")).expect("open");
    (dir, db)
}

#[test]
fn plays_count_and_survive_a_reopen() {
    let (dir, db) = open();
    assert_eq!(db.record_play(SRC, "a.mp3", 10).expect("play").count, 1);
    let p = db.record_play(SRC, "a.mp3", 5).expect("play");
    assert_eq!((p.count, p.last_ms), (2, 10));
    db.record_play("/other", "a.mp3", 1).expect("play");
    drop(db);
    let db = Db::open(&dir.path().join("library.db")).expect("reopen");
    let plays = db.plays(SRC).expect("plays");
    assert_eq!(plays.len(), 1);
    assert_eq!(plays["a.mp3"].count, 2);
    assert!(db.plays("never-seen").expect("plays").is_empty());
}

#[test]
fn stars_by_kind() {
    let (_dir, db) = open();
    db.star(SRC, StarKind::Item, "a.mp3", 7).expect("star");
    db.star(SRC, StarKind::Item, "a.mp3", 9)
        .expect("star again");
    db.star(SRC, StarKind::Album, "al-1", 8).expect("star");
    let stars = db.stars(SRC).expect("stars");
    assert_eq!(stars.get(&(StarKind::Item, "a.mp3".into())), Some(&7));
    assert_eq!(stars.len(), 2);
    db.unstar(SRC, StarKind::Item, "a.mp3").expect("unstar");
    db.unstar(SRC, StarKind::Artist, "never")
        .expect("unstar nothing");
    let stars = db.stars(SRC).expect("stars");
    assert_eq!(
        stars.keys().collect::<Vec<_>>(),
        [&(StarKind::Album, "al-1".to_owned())]
    );
}

#[test]
fn bookmarks_move_and_go() {
    let (_dir, db) = open();
    db.set_bookmark(SRC, "film.mp4", 60_000, Some("the good bit"), 100)
        .expect("set");
    db.set_bookmark(SRC, "film.mp4", 90_000, None, 200)
        .expect("move");
    db.set_bookmark(SRC, "song.mp3", 1_000, None, 150)
        .expect("set");
    let all = db.bookmarks(SRC).expect("list");
    assert_eq!(
        all.iter().map(|b| b.key.as_str()).collect::<Vec<_>>(),
        ["film.mp4", "song.mp3"]
    );
    let film = db.bookmark(SRC, "film.mp4").expect("get").expect("some");
    assert_eq!(
        (film.position_ms, film.created_ms, film.changed_ms),
        (90_000, 100, 200)
    );
    assert_eq!(film.comment, None);
    assert!(db.delete_bookmark(SRC, "film.mp4").expect("delete"));
    assert!(!db.delete_bookmark(SRC, "film.mp4").expect("delete again"));
    assert_eq!(db.bookmark(SRC, "film.mp4").expect("get"), None);
}

#[test]
fn playlists_round_trip() {
    let (_dir, db) = open();
    let keys: Vec<String> = ["a.mp3", "b.mp3", "a.mp3"]
        .iter()
        .map(|s| (*s).into())
        .collect();
    let id = db
        .create_playlist(SRC, "Road trip", &keys, 10)
        .expect("create");
    let other = db.create_playlist(SRC, "ambient", &[], 11).expect("create");
    assert_eq!(
        db.playlists(SRC)
            .expect("list")
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["ambient", "Road trip"]
    );
    let edit = PlaylistEdit {
        name: Some("Road trip '26 <live> & more".into()),
        comment: Some("for the car".into()),
        public: Some(true),
        remove: vec![0, 2],
        add: vec!["c.mp3".into()],
        ..PlaylistEdit::default()
    };
    assert!(db.update_playlist(SRC, id, &edit, 20).expect("update"));
    let p = db.playlist(SRC, id).expect("get").expect("some");
    assert_eq!(p.keys, ["b.mp3", "c.mp3"]);
    assert_eq!(p.name, "Road trip '26 <live> & more");
    assert!(p.public);
    assert_eq!((p.created_ms, p.changed_ms), (10, 20));
    let replace = PlaylistEdit {
        replace: Some(vec!["z.mp3".into()]),
        ..PlaylistEdit::default()
    };
    assert!(db.update_playlist(SRC, id, &replace, 30).expect("replace"));
    assert_eq!(
        db.playlist(SRC, id).expect("get").expect("some").keys,
        ["z.mp3"]
    );
    // Another source's id is not this source's playlist.
    assert!(!db
        .update_playlist("/other", id, &replace, 40)
        .expect("other source"));
    assert!(db.playlist("/other", id).expect("get").is_none());
    assert!(db.delete_playlist(SRC, id).expect("delete"));
    assert!(!db.delete_playlist(SRC, id).expect("delete again"));
    assert!(db.playlist(SRC, id).expect("get").is_none());
    assert!(db.playlist(SRC, other).expect("get").is_some());
}

#[test]
fn the_player_moves_a_position_and_keeps_a_subsonic_comment() {
    let (_dir, db) = open();
    let made = db.set_position(SRC, "talk.mp3", 5_000, 10).expect("made");
    assert_eq!(
        (
            made.position_ms,
            made.comment,
            made.created_ms,
            made.changed_ms
        ),
        (5_000, None, 10, 10)
    );
    db.set_bookmark(SRC, "talk.mp3", 7_000, Some("chapter 2"), 20)
        .expect("through Subsonic");
    let moved = db.set_position(SRC, "talk.mp3", 9_000, 30).expect("moved");
    assert_eq!(
        (
            moved.position_ms,
            moved.comment.as_deref(),
            moved.created_ms,
            moved.changed_ms
        ),
        (9_000, Some("chapter 2"), 10, 30)
    );
    assert_eq!(db.bookmark(SRC, "talk.mp3").expect("get"), Some(moved));
    assert_eq!(db.bookmarks("/other").expect("list"), []);
}

#[test]
fn ratings_set_move_and_go() {
    let (dir, db) = open();
    db.set_rating(SRC, StarKind::Album, "al-1", 4, 10)
        .expect("rate");
    db.set_rating(SRC, StarKind::Album, "al-1", 5, 20)
        .expect("rerate");
    db.set_rating(SRC, StarKind::Item, "a.mp3", 2, 30)
        .expect("rate");
    db.set_rating(SRC, StarKind::Artist, "never", 0, 30)
        .expect("remove nothing");
    assert!(
        db.set_rating(SRC, StarKind::Item, "a.mp3", 6, 40).is_err(),
        "the table refuses 6"
    );
    drop(db);
    let db = Db::open(&dir.path().join("library.db")).expect("reopen");
    let ratings = db.ratings(SRC).expect("ratings");
    assert_eq!(ratings.len(), 2);
    assert_eq!(ratings[&(StarKind::Album, "al-1".into())], 5);
    assert_eq!(
        ratings[&(StarKind::Item, "a.mp3".into())],
        2,
        "6 left it as it was"
    );
    db.set_rating(SRC, StarKind::Album, "al-1", 0, 50)
        .expect("remove");
    assert_eq!(db.ratings(SRC).expect("ratings").len(), 1);
    assert!(db.ratings("/other").expect("ratings").is_empty());
}
