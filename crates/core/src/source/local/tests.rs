//! Local source: what is listed, what is refused, and byte-exact ranges.

use super::*;
use futures_util::StreamExt;

async fn read_all(body: ObjectBody) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stream = body.stream;
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("chunk"));
    }
    assert_eq!(out.len() as u64, body.len);
    out
}

fn fixture() -> (tempfile::TempDir, tempfile::TempDir) {
    let lib = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let root = lib.path();
    std::fs::create_dir_all(root.join("Album/Disc 1")).expect("mkdir");
    std::fs::create_dir_all(root.join(".hidden")).expect("mkdir");
    std::fs::write(root.join("song.mp3"), b"0123456789").expect("write");
    std::fs::write(root.join("Album/Disc 1/t\u{e9}st #1?.flac"), b"flac").expect("write");
    std::fs::write(root.join("notes.txt"), b"not media").expect("write");
    std::fs::write(root.join(".secret.mp3"), b"hidden").expect("write");
    std::fs::write(root.join(".hidden/inside.mp3"), b"hidden").expect("write");
    std::fs::write(outside.path().join("escape.mp3"), b"outside").expect("write");
    std::fs::write(root.join("Album/inner.mp4"), b"video").expect("write");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.path().join("escape.mp3"), root.join("link-out.mp3"))
            .expect("symlink");
        std::os::unix::fs::symlink(outside.path(), root.join("dir-out")).expect("symlink");
        std::os::unix::fs::symlink(root.join("Album/inner.mp4"), root.join("link-in.mp4"))
            .expect("symlink");
        // A loop must not hang the walk.
        std::os::unix::fs::symlink(root, root.join("Album/loop")).expect("symlink");
    }
    (lib, outside)
}

#[tokio::test]
async fn lists_media_recursively_and_skips_hidden_and_escapes() {
    let (lib, _outside) = fixture();
    let src = LocalSource::new(&[lib.path().to_owned()]).expect("source");
    let mut keys: Vec<String> = src
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.key)
        .collect();
    keys.sort();
    let mut want = vec![
        "Album/Disc 1/t\u{e9}st #1?.flac".to_owned(),
        "Album/inner.mp4".to_owned(),
        "song.mp3".to_owned(),
    ];
    #[cfg(unix)]
    want.push("link-in.mp4".to_owned());
    want.sort();
    assert_eq!(keys, want);
}

#[tokio::test]
async fn opens_ranges_byte_exact() {
    let (lib, _outside) = fixture();
    let src = LocalSource::new(&[lib.path().to_owned()]).expect("source");
    let whole = read_all(src.open("song.mp3", None, None).await.expect("open")).await;
    assert_eq!(whole, b"0123456789");
    let part = read_all(
        src.open("song.mp3", None, Some((3, 6)))
            .await
            .expect("open"),
    )
    .await;
    assert_eq!(part, b"3456");
    let last = read_all(
        src.open("song.mp3", None, Some((9, 9)))
            .await
            .expect("open"),
    )
    .await;
    assert_eq!(last, b"9");
    let odd = read_all(
        src.open("Album/Disc 1/t\u{e9}st #1?.flac", None, None)
            .await
            .expect("open"),
    )
    .await;
    assert_eq!(odd, b"flac");
}

#[tokio::test]
async fn refuses_keys_that_escape_or_hide() {
    let (lib, _outside) = fixture();
    let src = LocalSource::new(&[lib.path().to_owned()]).expect("source");
    for key in [
        "../escape.mp3",
        "Album/../../escape.mp3",
        "/etc/passwd",
        ".secret.mp3",
        ".hidden/inside.mp3",
        "link-out.mp3",
        "dir-out/escape.mp3",
        "",
        "Album",
        "missing.mp3",
    ] {
        let res = src.open(key, None, None).await;
        assert!(
            matches!(res, Err(Error::NotFound)),
            "{key:?} must be refused as not found"
        );
    }
}

#[tokio::test]
async fn changed_files_are_detected_by_etag() {
    let (lib, _outside) = fixture();
    let src = LocalSource::new(&[lib.path().to_owned()]).expect("source");
    let meta = src.list().await.expect("list");
    let song = meta.iter().find(|o| o.key == "song.mp3").expect("song");
    let etag = song.etag.clone().expect("etag");
    assert!(src.open("song.mp3", Some(&etag), None).await.is_ok());
    std::fs::write(lib.path().join("song.mp3"), b"a longer new version").expect("write");
    assert!(matches!(
        src.open("song.mp3", Some(&etag), None).await,
        Err(Error::Changed)
    ));
}

#[tokio::test]
async fn several_roots_get_labelled_keys() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    std::fs::write(a.path().join("x.mp3"), b"a").expect("write");
    std::fs::write(b.path().join("x.mp3"), b"b").expect("write");
    let src = LocalSource::new(&[a.path().to_owned(), b.path().to_owned()]).expect("source");
    let keys: Vec<String> = src
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys.len(), 2);
    for key in &keys {
        let body = read_all(src.open(key, None, None).await.expect("open")).await;
        assert_eq!(body.len(), 1);
    }
}

#[test]
fn missing_or_unreadable_folders_fail_clearly() {
    let err = LocalSource::new(&["/no/such/folder".into()]).unwrap_err();
    assert!(err.to_string().contains("\"folder\""), "{err}"); // no absolute path
    let file = tempfile::NamedTempFile::new().expect("file");
    let err = LocalSource::new(&[file.path().to_owned()]).unwrap_err();
    assert!(err.to_string().contains("not a folder"), "{err}");
}

/// Links are followed by hand beneath the root: relative and absolute links within it open,
/// links that climb out, loop, or name a folder or a FIFO are not found.
#[cfg(unix)]
#[tokio::test]
async fn links_resolve_beneath_the_root_only() {
    use std::os::unix::fs::symlink;
    let (lib, outside) = fixture();
    let root = lib.path();
    symlink("Album/inner.mp4", root.join("rel-in.mp4")).expect("symlink");
    symlink("../../Album/./inner.mp4", root.join("Album/Disc 1/up.mp4")).expect("symlink");
    symlink(root.join("Album"), root.join("abs-dir")).expect("symlink");
    symlink("rel-in.mp4", root.join("chain.mp4")).expect("symlink");
    symlink("../../escape.mp3", root.join("Album/climb.mp3")).expect("symlink");
    let escape_rel = outside.path().join("escape.mp3");
    let depth = root.components().count();
    let ups = "../".repeat(depth);
    symlink(
        format!("{ups}{}", escape_rel.display()),
        root.join("far.mp3"),
    )
    .expect("symlink");
    symlink("loop-b.mp3", root.join("loop-a.mp3")).expect("symlink");
    symlink("loop-a.mp3", root.join("loop-b.mp3")).expect("symlink");
    symlink("Album", root.join("dir-link.mp3")).expect("symlink");
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.mp3"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    symlink("pipe.mp3", root.join("to-pipe.mp3")).expect("symlink");

    let src = LocalSource::new(&[root.to_owned()]).expect("source");
    for key in [
        "rel-in.mp4",
        "Album/Disc 1/up.mp4",
        "abs-dir/inner.mp4",
        "chain.mp4",
        "link-in.mp4",
    ] {
        let body = read_all(src.open(key, None, None).await.expect(key)).await;
        assert_eq!(body, b"video", "{key}");
    }
    // A link to the root itself stays inside it.
    let body = read_all(
        src.open("Album/loop/song.mp3", None, None)
            .await
            .expect("loop"),
    )
    .await;
    assert_eq!(body, b"0123456789");
    for key in [
        "Album/climb.mp3",
        "far.mp3",
        "loop-a.mp3",
        "dir-link.mp3",
        "pipe.mp3",
        "to-pipe.mp3",
    ] {
        // A FIFO would block forever here before the fix: bound the wait.
        let res =
            tokio::time::timeout(std::time::Duration::from_secs(5), src.open(key, None, None))
                .await
                .expect("answered without blocking");
        assert!(matches!(res, Err(Error::NotFound)), "{key} must be refused");
    }
}

/// A link from one root into another is not followed: each root is its own boundary.
#[cfg(unix)]
#[tokio::test]
async fn a_link_into_another_root_is_refused() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    std::fs::write(b.path().join("x.mp3"), b"b").expect("write");
    std::os::unix::fs::symlink(b.path().join("x.mp3"), a.path().join("y.mp3")).expect("symlink");
    let src = LocalSource::new(&[a.path().to_owned(), b.path().to_owned()]).expect("source");
    let a_label = a.path().file_name().expect("name").to_string_lossy();
    let res = src.open(&format!("{a_label}/y.mp3"), None, None).await;
    assert!(matches!(res, Err(Error::NotFound)));
}
