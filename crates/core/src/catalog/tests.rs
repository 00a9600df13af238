//! Catalog behaviour over a real local folder: snapshots, diffs, failures keep the last good state.

use super::*;
use crate::source::local::LocalSource;

fn catalog(dir: &std::path::Path) -> Catalog {
    let src = LocalSource::new(&[dir.to_owned()]).expect("source");
    Catalog::new(Arc::new(Source::Local(src)))
}

#[tokio::test]
async fn refresh_lists_and_publishes_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.mp3"), b"aaa").expect("write");
    let cat = catalog(dir.path());
    let mut events = cat.subscribe();
    assert!(cat.snapshot().items.is_empty());

    let snap = cat.refresh().await.expect("refresh");
    assert_eq!(snap.items.len(), 1);
    assert_eq!(snap.generation, 1);
    let json: serde_json::Value = serde_json::from_slice(&snap.to_json()).expect("json");
    assert_eq!(json[0]["key"], "a.mp3");
    assert!(matches!(events.recv().await, Ok(Event::Changed(_, _))));

    // No change: same generation, no event.
    let again = cat.refresh().await.expect("refresh");
    assert_eq!(again.generation, 1);
    assert!(events.try_recv().is_err());

    std::fs::write(dir.path().join("b.mp4"), b"bb").expect("write");
    let snap = cat.refresh().await.expect("refresh");
    assert_eq!(snap.generation, 2);
    match events.recv().await {
        Ok(Event::Changed(_, change)) => {
            assert_eq!(change.added.len(), 1);
            assert_eq!(change.added[0].key, "b.mp4");
        }
        other => panic!("expected a change, got {other:?}"),
    }
    let id = &snap.items[1].id;
    assert_eq!(snap.get(id).map(|i| i.key.as_str()), Some("b.mp4"));
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_last_good_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).expect("mkdir");
    std::fs::write(lib.join("a.mp3"), b"aaa").expect("write");
    let cat = catalog(&lib);
    cat.refresh().await.expect("refresh");
    // Take the folder away: walkdir reports the root itself as an error -> we list nothing
    // but must not drop to an empty library on a transient failure of the root.
    std::fs::rename(&lib, dir.path().join("gone")).expect("rename");
    let res = cat.refresh().await;
    let snap = cat.snapshot();
    match res {
        Err(err) => {
            assert_eq!(snap.items.len(), 1, "kept the last good snapshot");
            assert!(cat.status().last_error.is_some(), "{err}");
            assert_eq!(cat.status().failures, 1);
        }
        Ok(_) => panic!("a vanished root must be a failed refresh"),
    }
    std::fs::rename(dir.path().join("gone"), &lib).expect("rename back");
    cat.refresh().await.expect("recovers");
    assert!(cat.status().last_error.is_none());
}

#[tokio::test]
async fn concurrent_refreshes_coalesce() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.mp3"), b"aaa").expect("write");
    let cat = Arc::new(catalog(dir.path()));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let cat = cat.clone();
            tokio::spawn(async move { cat.refresh().await.map(|s| s.items.len()) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("join").expect("refresh"), 1);
    }
    let attempts = cat.attempts.load(Ordering::Acquire);
    assert!(
        attempts < 50,
        "50 concurrent requests ran {attempts} listings"
    );
}

fn throttled_catalog(dir: &std::path::Path, interval: std::time::Duration) -> Arc<Catalog> {
    let src = LocalSource::new(&[dir.to_owned()]).expect("source");
    Arc::new(Catalog::with_client_interval(
        Arc::new(Source::Local(src)),
        interval,
    ))
}

#[tokio::test]
async fn client_refreshes_within_the_interval_are_answered_from_the_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.mp3"), b"aaa").expect("write");
    let cat = throttled_catalog(dir.path(), std::time::Duration::from_secs(600));
    // Nothing listed yet: the first client refresh lists.
    assert!(matches!(
        cat.request_refresh().await,
        ClientRefresh::Listed(Ok(_))
    ));
    for _ in 0..20 {
        match cat.request_refresh().await {
            ClientRefresh::Throttled { result, next_in } => {
                assert_eq!(result.expect("snapshot").items.len(), 1);
                assert!(next_in <= std::time::Duration::from_secs(600));
            }
            other => panic!("listed again: {other:?}"),
        }
    }
    assert_eq!(cat.attempts.load(Ordering::Acquire), 1);
    // The owner's refresh is not limited.
    cat.refresh().await.expect("refresh");
    assert_eq!(cat.attempts.load(Ordering::Acquire), 2);
    // With no interval, every client refresh lists.
    let free = throttled_catalog(dir.path(), std::time::Duration::ZERO);
    for _ in 0..3 {
        assert!(matches!(
            free.request_refresh().await,
            ClientRefresh::Listed(Ok(_))
        ));
    }
    assert_eq!(free.attempts.load(Ordering::Acquire), 3);
}

#[tokio::test]
async fn clients_cannot_hammer_a_failing_source_either() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = dir.path().join("lib");
    std::fs::create_dir(&lib).expect("mkdir");
    let cat = throttled_catalog(&lib, std::time::Duration::from_secs(600));
    std::fs::rename(&lib, dir.path().join("gone")).expect("rename");
    assert!(cat.refresh().await.is_err());
    for _ in 0..20 {
        match cat.request_refresh().await {
            ClientRefresh::Throttled { result, .. } => {
                assert_eq!(
                    result.expect_err("the last error").code(),
                    "folder_unreadable"
                );
            }
            other => panic!("listed a failing source again: {other:?}"),
        }
    }
    assert_eq!(cat.attempts.load(Ordering::Acquire), 1);
}

#[tokio::test]
async fn a_throttled_request_is_listed_at_the_end_of_the_interval() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.mp3"), b"aaa").expect("write");
    let cat = throttled_catalog(dir.path(), std::time::Duration::from_millis(300));
    cat.refresh().await.expect("refresh");
    std::fs::write(dir.path().join("b.mp3"), b"bb").expect("write");
    for _ in 0..10 {
        assert!(matches!(
            cat.request_refresh().await,
            ClientRefresh::Throttled { .. }
        ));
    }
    for _ in 0..100 {
        if cat.attempts.load(Ordering::Acquire) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(cat.snapshot().items.len(), 2, "the scheduled listing ran");
    assert_eq!(
        cat.attempts.load(Ordering::Acquire),
        2,
        "once for ten requests"
    );
}

/// An [`Enrich`] that knows one title per key.
struct Titles(Vec<(&'static str, &'static str)>);

impl Enrich for Titles {
    fn meta(&self, item: &MediaItem) -> Option<Arc<ItemMeta>> {
        self.0.iter().find(|(k, _)| *k == item.key).map(|(_, t)| {
            Arc::new(ItemMeta {
                title: Some((*t).into()),
                ..ItemMeta::default()
            })
        })
    }
}

#[tokio::test]
async fn listed_items_get_what_the_library_knows_and_folder_art_is_kept_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.mp3"), b"aaa").expect("write");
    std::fs::write(dir.path().join("b.mp3"), b"bbb").expect("write");
    std::fs::write(dir.path().join("Cover.JPG"), b"jpg").expect("write");
    let cat = catalog(dir.path());
    cat.set_enrich(Arc::new(Titles(vec![("a.mp3", "Song A")])));
    let snap = cat.refresh().await.expect("refresh");
    assert_eq!(snap.items.len(), 2, "art is not an item");
    assert_eq!(snap.items[0].meta.title.as_deref(), Some("Song A"));
    assert!(snap.items[1].meta.is_empty());
    let json: serde_json::Value = serde_json::from_slice(&snap.to_json()).expect("json");
    assert_eq!(json[0]["title"], "Song A");
    assert!(json[1]["title"].is_null() && json[1]["duration_ms"].is_null());
    let art: Vec<&str> = snap.folder_art.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(art, ["Cover.JPG"]);
}

#[tokio::test]
async fn subtitle_files_are_kept_aside_through_a_seed_and_an_edit() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [
        "Film.mp4",
        "Film.en.srt",
        "Film.de.VTT",
        "x.ass",
        "cover.jpg",
        "notes.txt",
    ] {
        std::fs::write(dir.path().join(name), b"x").expect("write");
    }
    let cat = catalog(dir.path());
    let snap = cat.refresh().await.expect("refresh");
    let keys = |objs: &[crate::source::ObjectMeta]| -> Vec<String> {
        objs.iter().map(|o| o.key.clone()).collect()
    };
    let items: Vec<&str> = snap.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(items, ["Film.mp4"], "subtitles are not items");
    assert_eq!(
        keys(&snap.subtitles),
        ["Film.de.VTT", "Film.en.srt", "x.ass"]
    );
    assert_eq!(keys(&snap.folder_art), ["cover.jpg"]);
    // A restart's seed from the saved listing keeps them aside too.
    let seeded = catalog(dir.path());
    let listing: Vec<_> = std::iter::once(crate::source::ObjectMeta {
        key: "Film.mp4".into(),
        size: 1,
        etag: None,
        last_modified: None,
    })
    .chain(snap.subtitles.iter().cloned())
    .collect();
    seeded.seed(&listing).await;
    assert_eq!(keys(&seeded.snapshot().subtitles), keys(&snap.subtitles));
    // An edit (a deleted video) keeps the files beside it.
    let after = cat
        .apply_edit(&Edit {
            put: Vec::new(),
            removed: vec!["Film.mp4".into()],
        })
        .await;
    assert!(after.items.is_empty());
    assert_eq!(keys(&after.subtitles), keys(&snap.subtitles));
    assert_eq!(keys(&after.folder_art), ["cover.jpg"]);
}

#[tokio::test]
async fn applied_metadata_is_pushed_as_changed_and_survives_a_refresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.mp3"), b"aaa").expect("write");
    let cat = catalog(dir.path());
    let snap = cat.refresh().await.expect("refresh");
    let item = snap.items[0].clone();
    let mut events = cat.subscribe();
    let meta = Arc::new(ItemMeta {
        artist: Some("<b>Artist</b>".into()),
        duration_ms: Some(1234),
        ..ItemMeta::default()
    });
    let update = |etag: Option<String>| MetaUpdate {
        id: item.id.to_string(),
        etag,
        size: item.size,
        meta: meta.clone(),
    };
    // An update for another version is dropped.
    assert_eq!(cat.apply_meta(&[update(Some("\"other\"".into()))]).await, 0);
    assert_eq!(cat.apply_meta(&[update(item.etag.clone())]).await, 1);
    let now = cat.snapshot();
    assert_eq!(now.generation, snap.generation + 1);
    assert_eq!(now.items[0].meta, meta);
    match events.recv().await {
        Ok(Event::Changed(_, change)) => {
            assert!(change.added.is_empty() && change.removed.is_empty());
            assert_eq!(change.changed.len(), 1);
            assert_eq!(change.changed[0].meta.duration_ms, Some(1234));
        }
        other => panic!("expected a change, got {other:?}"),
    }
    // The same again changes nothing; a refresh keeps it (same version, no enricher).
    assert_eq!(cat.apply_meta(&[update(item.etag.clone())]).await, 0);
    let again = cat.refresh().await.expect("refresh");
    assert_eq!(again.generation, now.generation);
    assert_eq!(again.items[0].meta, meta);
}

#[tokio::test]
async fn a_seeded_listing_is_served_until_the_first_listing() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("now.mp3"), b"n").expect("write");
    let cat = catalog(dir.path());
    let old = crate::source::ObjectMeta {
        key: "then.mp3".into(),
        size: 1,
        etag: Some("\"t\"".into()),
        last_modified: None,
    };
    cat.seed(std::slice::from_ref(&old)).await;
    let seeded = cat.snapshot();
    assert_eq!(seeded.items.len(), 1);
    assert_eq!(seeded.items[0].key, "then.mp3");
    assert!(seeded.refreshed_at.is_none() && seeded.generation == 1);
    let listed = cat.refresh().await.expect("refresh");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].key, "now.mp3");
    assert_eq!(listed.generation, 2);
    // Once listed, a seed does nothing.
    cat.seed(&[old]).await;
    assert_eq!(cat.snapshot().items[0].key, "now.mp3");
}

#[test]
fn every_item_is_found_by_its_id_and_no_other_id_is() {
    let objects: Vec<ObjectMeta> = (0..500)
        .map(|i| ObjectMeta {
            key: format!("f{}/song {i}.mp3", i % 7),
            size: 1,
            etag: None,
            last_modified: None,
        })
        .collect();
    let items: Vec<Arc<MediaItem>> = objects
        .iter()
        .filter_map(|o| item::from_object("s3://b/", "", o))
        .map(Arc::new)
        .collect();
    let snap = Snapshot::of_items(items.clone());
    for item in &items {
        assert_eq!(snap.get(&item.id).map(|i| &i.key), Some(&item.key));
    }
    assert!(snap.get(&item::item_id("s3://b/", "missing.mp3")).is_none());
    assert!(snap.get("").is_none());
    assert!(Snapshot::default().get(&items[0].id).is_none());
}

#[tokio::test]
async fn a_flush_and_an_unchanged_listing_share_the_items_they_did_not_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["a.mp3", "b.mp3", "c.mp3"] {
        std::fs::write(dir.path().join(name), b"xyz").expect("write");
    }
    let cat = catalog(dir.path());
    let first = cat.refresh().await.expect("refresh");
    let again = cat.refresh().await.expect("refresh");
    for (a, b) in first.items.iter().zip(&again.items) {
        assert!(Arc::ptr_eq(a, b), "an unchanged object keeps its item");
    }
    let target = &first.items[1];
    let meta = Arc::new(ItemMeta {
        title: Some("B".into()),
        ..ItemMeta::default()
    });
    let update = MetaUpdate {
        id: target.id.to_string(),
        etag: target.etag.clone(),
        size: target.size,
        meta: meta.clone(),
    };
    assert_eq!(cat.apply_meta(&[update]).await, 1);
    let after = cat.snapshot();
    assert!(Arc::ptr_eq(&after.items[0], &first.items[0]));
    assert!(Arc::ptr_eq(&after.items[2], &first.items[2]));
    assert!(!Arc::ptr_eq(&after.items[1], &first.items[1]));
    assert_eq!(after.items[1].meta, meta);
    assert!(Arc::ptr_eq(&after.items[0].folder, &after.items[2].folder));
    assert_eq!(after.get(&target.id).map(|i| &i.key), Some(&target.key));
    // The streamed list is exactly the items serialised whole.
    let whole = serde_json::to_vec(&after.items).expect("json");
    assert_eq!(after.to_json(), whole);
    let mut pieces = b"[".to_vec();
    after.write_json_range(0..2, &mut pieces).expect("json");
    after.write_json_range(2..99, &mut pieces).expect("json");
    pieces.push(b']');
    assert_eq!(pieces, whole);
    assert_eq!(Snapshot::default().to_json(), b"[]");
    // A listing after the flush keeps the flushed item too (same version, its metadata).
    let listed = cat.refresh().await.expect("refresh");
    assert!(Arc::ptr_eq(&listed.items[1], &after.items[1]));
}

#[tokio::test]
async fn a_seed_uses_the_saved_ids_only_when_they_are_this_catalogs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let objects: Vec<ObjectMeta> = ["a/1.mp3", "a/2.mp3", "b/cover.jpg"]
        .iter()
        .map(|k| ObjectMeta {
            key: (*k).into(),
            size: 1,
            etag: None,
            last_modified: None,
        })
        .collect();
    let cat = catalog(dir.path());
    let right: Vec<Option<ItemId>> = vec![
        Some(item::item_id(cat.identity(), "a/1.mp3")),
        Some(item::item_id(cat.identity(), "a/2.mp3")),
        None,
    ];
    cat.seed_with_ids(&objects, &right).await;
    let snap = cat.snapshot();
    assert_eq!(snap.items.len(), 2);
    assert_eq!(Some(snap.items[1].id), right[1]);
    assert!(snap.get(&snap.items[0].id).is_some());
    assert_eq!(snap.folder_art.len(), 1);
    assert!(Arc::ptr_eq(&snap.items[0].folder, &snap.items[1].folder));

    // Ids saved under another identity are not trusted: every key is hashed.
    let cat = catalog(dir.path());
    let wrong: Vec<Option<ItemId>> = vec![Some(item::item_id("elsewhere", "a/1.mp3")); 2];
    cat.seed_with_ids(&objects, &wrong).await;
    let snap = cat.snapshot();
    assert_eq!(Some(snap.items[0].id), right[0]);
    assert_eq!(Some(snap.items[1].id), right[1]);
}

#[test]
fn ids_sharing_their_first_digits_are_ordered_on_the_whole_id() {
    let ids = [
        "00000000ffffffffffffffffffffffff",
        "00000000000000000000000000000001",
        "ffffffff000000000000000000000000",
        "00000000000000000000000000000000",
    ];
    let items: Vec<Arc<MediaItem>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let obj = ObjectMeta {
                key: format!("{i}.mp3"),
                size: 1,
                etag: None,
                last_modified: None,
            };
            let mut item = item::from_object("s", "", &obj).expect("media");
            item.id = ItemId::parse(id).expect("id");
            Arc::new(item)
        })
        .collect();
    assert_eq!(id_order::id_order(&items), [3, 1, 0, 2]);
    let snap = Snapshot::of_items(items);
    for id in ids {
        assert_eq!(snap.get(id).map(|i| i.id.as_str()), Some(id));
    }
}
