//! The packed listing's format, table-tested: round trips, runs, damage.

use std::time::{Duration, UNIX_EPOCH};

use super::*;

fn objects() -> Vec<ObjectMeta> {
    vec![
        ObjectMeta {
            key: "z/ünï 日本.mp3".into(),
            size: 5_000_000_000,
            etag: Some("\"abc-12\"".into()),
            last_modified: Some(UNIX_EPOCH + Duration::new(1_445_412_480, 123_456_789)),
        },
        ObjectMeta {
            key: "cover.jpg".into(),
            size: 0,
            etag: None,
            last_modified: Some(UNIX_EPOCH - Duration::new(86_400, 5)),
        },
        ObjectMeta {
            key: String::new(),
            size: 1,
            etag: Some(String::new()),
            last_modified: None,
        },
    ]
}

#[test]
fn packs_and_unpacks_exactly() {
    let objects = objects();
    let id = bucketstream_core::catalog::item::item_id("s", "z/ünï 日本.mp3");
    let data = pack(&objects, &[Some(id), None], &[]);
    let mut back = Vec::new();
    assert_eq!(unpack(&data, |o, i| back.push((o, i))), Some(3));
    let want: Vec<_> = objects.into_iter().zip([Some(id), None, None]).collect();
    assert_eq!(back, want);
    assert!(check(&data));
    assert_eq!(unpack(&pack(&[], &[], &[]), |_, _| {}), Some(0));
    // Cut into runs of whole objects, the runs give the same objects in the same order.
    for parts in [1, 2, 3, 4, 9] {
        let (runs, count) = split(&data, parts).expect("whole");
        assert_eq!(count, 3);
        assert!(runs.len() <= parts.max(1), "{parts}: {} runs", runs.len());
        let mut again = Vec::new();
        let seen: usize = runs
            .iter()
            .map(|run| unpack_part(run, |o, i, m| again.push(((o, i), m))).expect("run"))
            .sum();
        let again: Vec<_> = again
            .into_iter()
            .map(|(oi, m)| {
                assert_eq!(m, None, "no meta was packed");
                oi
            })
            .collect();
        assert_eq!((seen, &again), (3, &back), "{parts} parts");
    }
    let empty = pack(&[], &[], &[]);
    let (runs, count) = split(&empty, 2).expect("empty");
    assert_eq!((runs.len(), count), (1, 0));
    assert_eq!(unpack_part(runs[0], |_, _, _| {}), Some(0));
}

#[test]
fn damage_is_refused() {
    let data = pack(&objects(), &[], &[]);
    for cut in [0, 1, 9, 13, data.len() - 1] {
        assert!(!check(&data[..cut]), "cut at {cut}");
    }
    let mut other = data.clone();
    other[0] = 9;
    assert!(!check(&other), "another version");
    for cut in [0, 1, 9, 13, data.len() - 1] {
        assert!(split(&data[..cut], 2).is_none(), "split, cut at {cut}");
    }
    assert!(split(&other, 2).is_none(), "split, another version");
    let mut bad_utf8 = data;
    bad_utf8[13] = 0xff;
    assert!(!check(&bad_utf8));
    // The frame is whole, the text is not: split passes, its run refuses.
    let (runs, _) = split(&bad_utf8, 1).expect("frame");
    assert_eq!(unpack_part(runs[0], |_, _, _| {}), None);
}

fn full_meta() -> ItemMeta {
    ItemMeta {
        title: Some("Tïtle \"q\" 日本".into()),
        artist: Some("Artist".into()),
        album: Some("".into()),
        album_artist: Some("AA".into()),
        track: Some(u32::MAX),
        disc: Some(2),
        year: Some(-44),
        genre: Some("Jazz".into()),
        duration_ms: Some(u64::MAX),
        width: Some(1920),
        height: Some(1080),
        art: Some("/art/abc".into()),
        bitrate_kbps: Some(320),
        sample_rate: Some(44_100),
        channels: Some(2),
        video_codec: Some("h264".into()),
        audio_codec: Some("aac".into()),
    }
}

#[test]
fn metas_round_trip_and_empty_ones_are_not_written() {
    let objects = objects();
    let some = ItemMeta {
        title: Some("Only a title".into()),
        duration_ms: Some(1234),
        ..ItemMeta::default()
    };
    let metas = [
        Arc::new(full_meta()),
        Arc::new(ItemMeta::default()),
        Arc::new(some.clone()),
    ];
    let data = pack(&objects, &[], &metas);
    let bare = pack(&objects, &[], &[]);
    let (runs, _) = split(&data, 2).expect("whole");
    let mut back = Vec::new();
    for run in runs {
        unpack_part(run, |o, _, m| back.push((o.key, m))).expect("run");
    }
    let want = vec![
        (objects[0].key.clone(), Some(full_meta())),
        (objects[1].key.clone(), None),
        (objects[2].key.clone(), Some(some)),
    ];
    assert_eq!(back, want);
    // Every field present packs and reads back; an empty meta costs nothing.
    assert!(data.len() > bare.len());
    assert!(check(&data));
    // The objects alone read the same from both (load_listing_each ignores meta).
    let (mut a, mut b) = (Vec::new(), Vec::new());
    unpack(&data, |o, i| a.push((o, i))).expect("with meta");
    unpack(&bare, |o, i| b.push((o, i))).expect("without");
    assert_eq!(a, b);
}

#[test]
fn damaged_metas_are_refused() {
    let objects = objects();
    let metas = [Arc::new(full_meta())];
    let data = pack(&objects[..1], &[], &metas);
    // Every cut inside the meta is seen (by the frame or by the run).
    for cut in 1..data.len() {
        let whole = split(&data[..cut], 1).and_then(|(runs, _)| unpack_part(runs[0], |_, _, _| {}));
        assert_eq!(whole, None, "cut at {cut}");
    }
    // A mask bit past the known fields.
    let mut out = Vec::new();
    meta::put(&mut out, &full_meta());
    out[7] = 0xff;
    assert_eq!(meta::get(&mut Reader(&out), &mut Interner::default()), None);
    // Text that is not UTF-8.
    let mut out = Vec::new();
    meta::put(
        &mut out,
        &ItemMeta {
            title: Some("ab".into()),
            ..ItemMeta::default()
        },
    );
    let last = out.len() - 1;
    out[last] = 0xff;
    assert_eq!(meta::get(&mut Reader(&out), &mut Interner::default()), None);
}

#[test]
fn version_1_blobs_are_still_read() {
    let objects = objects();
    let mut data = pack(&objects, &[], &[]);
    assert_eq!(data[0], VERSION);
    data[0] = VERSION_1;
    let (runs, count) = split(&data, 2).expect("version 1");
    assert_eq!(count, 3);
    let n: usize = runs
        .iter()
        .map(|r| unpack_part(r, |_, _, _| {}).expect("run"))
        .sum();
    assert_eq!(n, 3);
}

#[test]
fn the_tracks_of_an_album_share_its_texts_once_unpacked() {
    let objects = objects();
    let track = |title: &str| {
        Arc::new(ItemMeta {
            title: Some(title.into()),
            artist: Some("Miles Davis".into()),
            album: Some("Kind of Blue".into()),
            genre: Some("Jazz".into()),
            art: Some("/art/ab12".into()),
            ..ItemMeta::default()
        })
    };
    let metas = [track("So What"), track("So What"), track("Blue in Green")];
    let data = pack(&objects, &[], &metas);
    let (runs, _) = split(&data, 1).expect("whole");
    let mut back: Vec<ItemMeta> = Vec::new();
    unpack_part(runs[0], |_, _, m| back.extend(m)).expect("run");
    assert_eq!(back.len(), 3);
    assert_eq!(back[0], *metas[0]);
    assert_eq!(back[2], *metas[2]);
    let same = |f: fn(&ItemMeta) -> &Option<Arc<str>>| {
        let (a, b) = (f(&back[0]).as_ref(), f(&back[2]).as_ref());
        Arc::ptr_eq(a.expect("text"), b.expect("text"))
    };
    assert!(same(|m| &m.artist) && same(|m| &m.album) && same(|m| &m.genre) && same(|m| &m.art));
    // Titles are each their own, even where two are equal.
    let (t0, t1) = (back[0].title.as_ref(), back[1].title.as_ref());
    assert!(!Arc::ptr_eq(t0.expect("title"), t1.expect("title")));
}
