//! The library database on a real SQLite file in a temporary folder: records, listings,
//! reopening, and the figures for 100,000 records; opening (WAL, migrations, newer and damaged
//! files) is in [`open`].

mod open;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use bucketstream_core::catalog::meta::MAX_TEXT_CHARS;
use bucketstream_core::catalog::ItemMeta;
use bucketstream_core::source::ObjectMeta;
use bucketstream_library::db::{Db, Record};

const SRC: &str = "s3://bucket/music/";

fn full_record(key: &str) -> Record {
    Record {
        key: key.into(),
        etag: Some("\"9b2c-1\"".into()),
        size: 4_294_967_296 + 7,
        meta: ItemMeta {
            title: Some("Ünïcödé 日本語 🎵 \u{202e}rtl".into()),
            artist: Some("<script>alert('x')</script> & <b>bold</b>".into()),
            album: Some("é".repeat(MAX_TEXT_CHARS).into()),
            album_artist: Some("Ann & Bob".into()),
            track: Some(u32::MAX),
            disc: Some(0),
            year: Some(i32::MIN),
            genre: Some("Jazz; \"Free\"".into()),
            duration_ms: Some(u64::from(u32::MAX) * 1000),
            width: Some(3840),
            height: Some(2160),
            art: Some(format!("/art/{}", "a".repeat(64)).into()),
            bitrate_kbps: Some(320),
            sample_rate: Some(44_100),
            channels: Some(u8::MAX),
            video_codec: Some("h264".into()),
            audio_codec: Some("aac".into()),
        },
        art_hash: Some("a".repeat(64)),
        error: Some("no tags: the file ended early\nline two".into()),
        fetched_bytes: 262_144,
    }
}

fn plain(key: &str) -> Record {
    Record {
        key: key.into(),
        etag: Some(format!("\"{key}\"")),
        size: 10,
        ..Record::default()
    }
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("raw connection")
}

#[test]
fn every_field_round_trips_and_a_changed_version_is_a_miss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/library.db");
    let db = Db::open(&path).expect("open");
    let full = full_record("Jazz/Ünï/take 1.mp3");
    let bare = Record {
        etag: None,
        ..plain("no-etag.mp3")
    };
    db.put_many(SRC, &[full.clone(), bare.clone()])
        .expect("put");

    let got = db
        .get(SRC, &full.key, full.etag.as_deref(), full.size)
        .expect("get");
    assert_eq!(got.as_ref(), Some(&full));
    assert_eq!(
        got.and_then(|r| r.meta.album).map(|a| a.chars().count()),
        Some(MAX_TEXT_CHARS)
    );
    assert_eq!(
        db.get(SRC, &bare.key, None, 10).expect("get"),
        Some(bare.clone())
    );

    // Another ETag, another size, an ETag where there was none: each is another version.
    assert_eq!(
        db.get(SRC, &full.key, Some("\"other\""), full.size)
            .expect("get"),
        None
    );
    assert_eq!(
        db.get(SRC, &full.key, full.etag.as_deref(), full.size + 1)
            .expect("get"),
        None
    );
    assert_eq!(db.get(SRC, &full.key, None, full.size).expect("get"), None);
    assert_eq!(
        db.get(SRC, &bare.key, Some("\"x\""), 10).expect("get"),
        None
    );
    assert_eq!(
        db.get("s3://other/", &full.key, full.etag.as_deref(), full.size)
            .expect("get"),
        None
    );
    assert_eq!(db.get(SRC, "missing", None, 0).expect("get"), None);

    // Replacing: the key now holds the new version only.
    let newer = Record {
        etag: Some("\"v2\"".into()),
        meta: ItemMeta::default(),
        ..full.clone()
    };
    db.put_many(SRC, std::slice::from_ref(&newer))
        .expect("replace");
    assert_eq!(
        db.get(SRC, &full.key, Some("\"v2\""), full.size)
            .expect("get"),
        Some(newer.clone())
    );
    assert_eq!(
        db.get(SRC, &full.key, full.etag.as_deref(), full.size)
            .expect("get"),
        None
    );

    // Reopening keeps everything.
    drop(db);
    let db = Db::open(&path).expect("reopen");
    let all = db.load(SRC).expect("load");
    assert_eq!(all.len(), 2);
    assert_eq!(all.get(&full.key), Some(&newer));
    assert_eq!(all.get(&bare.key), Some(&bare));
    assert!(db.load("s3://other/").expect("load").is_empty());
}

#[test]
fn db_is_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Db>();
    let dir = tempfile::tempdir().expect("tempdir");
    let db = std::sync::Arc::new(Db::open(&dir.path().join("l.db")).expect("open"));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    db.put_many(SRC, &[plain(&format!("{t}/{i}.mp3"))])
                        .expect("put");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    let mut seen = 0;
    let handed = db.for_each_record(SRC, |_| seen += 1).expect("each");
    assert_eq!(db.count(SRC).expect("count"), 200);
    assert_eq!((handed, seen), (200, 200));
}

#[test]
fn sources_are_kept_apart_and_retain_drops_unlisted_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(&dir.path().join("l.db")).expect("open");
    let keys = ["a.mp3", "b.mp3", "c/ü.mp3", "d.mp3", "e.mp3"];
    db.put_many(SRC, &keys.map(plain)).expect("put");
    db.put_many("/home/me/Music", &keys.map(plain))
        .expect("put other");

    let listed: HashSet<&str> = ["b.mp3", "c/ü.mp3", "not-stored.mp3"].into();
    assert_eq!(db.retain(SRC, &listed).expect("retain"), 3);
    let mut left: Vec<String> = db.load(SRC).expect("load").into_keys().collect();
    left.sort();
    assert_eq!(left, ["b.mp3", "c/ü.mp3"]);
    assert_eq!(
        db.load("/home/me/Music").expect("load").len(),
        5,
        "the other source is untouched"
    );
    assert_eq!(db.retain(SRC, &listed).expect("again"), 0);
    assert_eq!(db.retain("never-seen", &listed).expect("unknown source"), 0);
    assert_eq!(db.retain(SRC, &HashSet::new()).expect("empty listing"), 2);
    assert!(db.load(SRC).expect("load").is_empty());
}

#[test]
fn listings_round_trip_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l.db");
    let db = Db::open(&path).expect("open");
    assert_eq!(db.load_listing(SRC).expect("none yet"), None);
    let objects = vec![
        ObjectMeta {
            key: "z/last-but-first.mp3".into(),
            size: 5_000_000_000,
            etag: Some("\"abc-12\"".into()),
            last_modified: Some(UNIX_EPOCH + Duration::new(1_445_412_480, 123_456_789)),
        },
        ObjectMeta {
            key: "a/ünï 日本.flac".into(),
            size: 0,
            etag: None,
            last_modified: None,
        },
        ObjectMeta {
            key: "old.mp3".into(),
            size: 1,
            etag: Some("W/\"weak\"".into()),
            last_modified: Some(UNIX_EPOCH - Duration::new(86_400, 5)),
        },
    ];
    db.save_listing(SRC, &objects).expect("save");
    assert_eq!(
        db.load_listing(SRC).expect("load").as_deref(),
        Some(&objects[..])
    );
    assert_eq!(db.load_listing("other").expect("other"), None);

    drop(db);
    let db = Db::open(&path).expect("reopen");
    assert_eq!(
        db.load_listing(SRC).expect("load").as_deref(),
        Some(&objects[..])
    );
    db.save_listing(SRC, &objects[1..2]).expect("shorter");
    assert_eq!(
        db.load_listing(SRC).expect("load").as_deref(),
        Some(&objects[1..2])
    );
    db.save_listing(SRC, &[]).expect("empty");
    assert_eq!(
        db.load_listing(SRC).expect("load"),
        Some(Vec::new()),
        "an empty bucket is not 'never listed'"
    );

    // With item ids (none for what is not an item; a missing tail is none too).
    let id = bucketstream_core::catalog::item::item_id(SRC, &objects[0].key);
    db.save_listing_with_ids(SRC, &objects, &[Some(id), None])
        .expect("save with ids");
    let (back, ids) = db.load_listing_with_ids(SRC).expect("load").expect("saved");
    assert_eq!(back, objects);
    assert_eq!(ids, [Some(id), None, None]);
}

/// The packed copy lives in a file beside the database, named by a pointer in it: read
/// through a map; a missing file, a file of another save and a file that is not a pack all
/// fall back to the rows, with the same listing.
#[test]
fn the_packed_listing_is_a_file_beside_the_database_with_fallbacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("library.sqlite3");
    let db = Db::open(&path).expect("open");
    let objects: Vec<ObjectMeta> = (0..50)
        .map(|i| ObjectMeta {
            key: format!("f/{i:03}.mp3"),
            size: i,
            etag: Some(format!("\"e{i}\"")),
            last_modified: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i)),
        })
        .collect();
    db.save_listing(SRC, &objects).expect("save");
    let file = dir.path().join("library.sqlite3-listing-1.pack");
    assert!(file.exists(), "the pack is a file beside the database");
    let stored: Vec<u8> = raw(&path)
        .query_row("SELECT data FROM listing_packs", [], |r| r.get(0))
        .expect("pointer");
    assert_eq!(
        stored.len(),
        16,
        "the database holds a pointer, not the blob"
    );
    let packed = db.load_listing_packed(SRC).expect("read").expect("mapped");
    assert!(matches!(
        packed,
        bucketstream_library::db::PackBytes::File(_)
    ));
    drop(packed);
    let whole = || db.load_listing(SRC).expect("load").expect("saved");
    assert_eq!(whole(), objects);

    // Another save's file (as after a crash between the file and the database): the rows.
    let kept = std::fs::read(&file).expect("pack");
    db.save_listing(SRC, &objects[..10]).expect("shorter");
    std::fs::write(&file, &kept).expect("an older file back");
    assert!(db.load_listing_packed(SRC).expect("read").is_none());
    assert_eq!(whole(), objects[..10]);
    // No file, or garbage: the rows.
    std::fs::remove_file(&file).expect("remove");
    assert_eq!(whole(), objects[..10]);
    std::fs::write(&file, b"not a pack at all").expect("garbage");
    assert_eq!(whole(), objects[..10]);
    // A pack whose body is damaged behind a right header: the rows too.
    db.save_listing(SRC, &objects).expect("save again");
    let mut damaged = std::fs::read(&file).expect("pack");
    let cut = damaged.len() - 7;
    damaged.truncate(cut);
    std::fs::write(&file, &damaged).expect("cut");
    assert_eq!(whole(), objects);
}

/// Figures for #15 (not a timing assertion): `cargo test -p bucketstream-library --release
/// --test db -- --ignored --nocapture figures`.
#[test]
#[ignore = "prints figures; run by hand"]
fn figures_for_100k_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.db");
    let db = Db::open(&path).expect("open");
    let n = 100_000;
    let records: Vec<Record> = (0..n)
        .map(|i| {
            let mut r = full_record(&format!(
                "Artist {}/Album {}/{i:06} track title.mp3",
                i % 2000,
                i % 9000
            ));
            r.meta.album = Some(format!("Album {}", i % 9000).into());
            r.meta.artist = Some(format!("Artist {}", i % 2000).into());
            r.error = None;
            r
        })
        .collect();
    let t = std::time::Instant::now();
    db.put_many(SRC, &records).expect("put");
    let put = t.elapsed();
    let t = std::time::Instant::now();
    let all = db.load(SRC).expect("load");
    let load = t.elapsed();
    assert_eq!(all.len(), n);
    let listing: Vec<ObjectMeta> = records
        .iter()
        .map(|r| ObjectMeta {
            key: r.key.clone(),
            size: r.size,
            etag: r.etag.clone(),
            last_modified: Some(UNIX_EPOCH),
        })
        .collect();
    let t = std::time::Instant::now();
    db.save_listing(SRC, &listing).expect("save");
    let save = t.elapsed();
    let t = std::time::Instant::now();
    let back = db.load_listing(SRC).expect("load").expect("some");
    let load_listing = t.elapsed();
    assert_eq!(back.len(), n);
    let keep: HashSet<&str> = records.iter().skip(1).map(|r| r.key.as_str()).collect();
    let t = std::time::Instant::now();
    assert_eq!(db.retain(SRC, &keep).expect("retain"), 1);
    let retain = t.elapsed();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(path.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    let items: Vec<std::sync::Arc<bucketstream_core::catalog::MediaItem>> = records
        .iter()
        .filter_map(|r| {
            let obj = ObjectMeta {
                key: r.key.clone(),
                size: r.size,
                etag: r.etag.clone(),
                last_modified: None,
            };
            let mut item = bucketstream_core::catalog::item::from_object(SRC, "", &obj)?;
            item.meta = std::sync::Arc::new(r.meta.clone());
            Some(std::sync::Arc::new(item))
        })
        .collect();
    let t = std::time::Instant::now();
    let albums = bucketstream_library::views::albums(&items);
    let artists = bucketstream_library::views::artists(&items);
    let genres = bucketstream_library::views::genres(&items);
    let views = t.elapsed();
    println!(
        "100k items: albums+artists+genres {views:?} ({} albums, {} artists, {} genres)",
        albums.len(),
        artists.len(),
        genres.len()
    );
    println!(
        "100k records: put_many {put:?}, load {load:?}, save_listing {save:?}, load_listing {load_listing:?}, retain {retain:?}, file {} MiB",
        size / (1 << 20)
    );
}
