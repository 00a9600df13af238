//! Uploads into a local folder (no overwrite, no escape, nothing half-written visible), who
//! may upload from the LAN, and a tus client nobody here wrote (tuspy) against Garage.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bucketstream_core::config::SourceConfig;

use crate::common::{bytes, local_source, Garage};
use crate::lan_common::{client_from, lan_options, LanServer, LAN_IP};
use crate::tus::{self, create, get, head, keys, open_multipart, patch, server, MIB};

const DAY: Duration = Duration::from_secs(86_400);

fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn local_uploads_never_overwrite_never_escape_and_appear_whole() {
    let root = tempfile::tempdir().expect("root");
    let outside = tempfile::tempdir().expect("outside");
    let data = tempfile::tempdir().expect("data");
    std::fs::create_dir(root.path().join("Album")).expect("album");
    std::fs::write(root.path().join("Album/a.mp3"), b"the first").expect("existing");
    std::os::unix::fs::symlink(outside.path(), root.path().join("Album/out")).expect("link");
    let source = || local_source(root.path());

    let server1 = server(source(), data.path(), 1 << 30, DAY).await;
    server1.refresh().await;
    let body = bytes(3 * MIB + 5, 3);
    let url = create(
        &server1,
        body.len() as u64,
        &[("filename", "a.mp3"), ("folder", "Album")],
    )
    .await;
    let path = url.trim_start_matches(&server1.url("")).to_owned();
    let (status, _, _) = patch(&url, 0, body[..MIB].to_vec(), None).await;
    assert_eq!(status, 204);
    // Half-written: only a hidden temporary file, which the library does not list.
    let album = root.path().join("Album");
    let mid = names(&album);
    assert_eq!(mid.len(), 3, "{mid:?}");
    assert!(mid.iter().any(|n| n.starts_with(".a.mp3.")), "{mid:?}");
    server1.refresh().await;
    assert_eq!(server1.videos().await.len(), 1);
    drop(server1);

    // A restart keeps the temporary file and the upload resumes.
    let server2 = server(source(), data.path(), 1 << 30, DAY).await;
    server2.refresh().await;
    let url = server2.url(&path);
    assert_eq!(head(&url).await, (200, Some(MIB as u64)));
    let (status, offset, _) = patch(&url, MIB as u64, body[MIB..].to_vec(), None).await;
    assert_eq!((status, offset), (204, Some(body.len() as u64)));
    assert_eq!(names(&album), ["a (2).mp3", "a.mp3", "out"]);
    assert_eq!(
        std::fs::read(album.join("a.mp3")).expect("old"),
        b"the first"
    );
    assert!(std::fs::read(album.join("a (2).mp3")).expect("new") == body);
    assert!(server2.by_key().await.contains_key("Album/a (2).mp3"));

    // New folders are made; a link out of the root is not followed.
    let url = create(
        &server2,
        3,
        &[("filename", "n.ogg"), ("folder", "New/Deep")],
    )
    .await;
    assert_eq!(patch(&url, 0, b"ogg".to_vec(), None).await.1, Some(3));
    assert_eq!(
        std::fs::read(root.path().join("New/Deep/n.ogg")).expect("n"),
        b"ogg"
    );
    let resp = tus::create_with(
        &crate::common::http(),
        &server2.url(""),
        3,
        &tus::metadata(&[("filename", "x.mp3"), ("folder", "Album/out")]),
    )
    .await;
    let (status, _, code) = tus::answer(resp).await;
    assert_eq!((status, code.as_deref()), (400, Some("bad_upload")));
    assert!(names(outside.path()).is_empty());
    // creation-with-upload: the first bytes come with the POST.
    let resp = crate::common::http()
        .post(server2.url("/api/uploads"))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "5")
        .header("upload-metadata", tus::metadata(&[("filename", "w.wav")]))
        .header("content-type", "application/offset+octet-stream")
        .body("RIFF!")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["upload-offset"], "5");
    assert_eq!(
        std::fs::read(root.path().join("w.wav")).expect("w"),
        b"RIFF!"
    );
    // Nothing hidden is left behind.
    assert!(!names(&album).iter().any(|n| n.starts_with('.')));
}

#[tokio::test]
async fn lan_devices_upload_only_when_the_owner_allows_it() {
    let root = tempfile::tempdir().expect("root");
    let mut options = lan_options();
    options.config.open_to_lan = true;
    let closed = LanServer::start(root.path(), options.clone()).await;
    let lan = client_from(LAN_IP);
    let meta = tus::metadata(&[("filename", "x.mp3")]);
    let resp = tus::create_with(&lan, &closed.url(""), 3, &meta).await;
    let (status, _, code) = tus::answer(resp).await;
    assert_eq!((status, code.as_deref()), (403, Some("upload_forbidden")));
    let health: serde_json::Value = lan
        .get(closed.url("/api/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["permissions"]["upload"], false);
    assert_eq!(health["permissions"]["manage"], false);
    assert!(names(root.path()).is_empty());
    drop(closed);

    options.config.uploads = true;
    let open = LanServer::start(root.path(), options).await;
    let resp = tus::create_with(&lan, &open.url(""), 3, &meta).await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"]
        .to_str()
        .expect("text")
        .to_owned();
    let resp = lan
        .patch(open.url(&location))
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body("mp3")
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status(), 204);
    assert_eq!(std::fs::read(root.path().join("x.mp3")).expect("x"), b"mp3");
}

/// The Python with tuspy that `scripts/setup.sh --test` installs (or `BUCKETSTREAM_PYTHON`).
fn tuspy_python() -> Option<PathBuf> {
    let python = std::env::var_os("BUCKETSTREAM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py/bin/python")
        });
    let ok = std::process::Command::new(&python)
        .args(["-c", "import tusclient"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(python)
}

/// Uploads `file` with tuspy in 2 MiB chunks with sha1 checksums, keeping the upload's URL in
/// `storage`; stops at `stop_at` when given. Prints the URL and the offset it started from.
const TUSPY: &str = r#"
import sys
from tusclient import client
from tusclient.storage.filestorage import FileStorage
endpoint, path, storage, stop_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = client.TusClient(endpoint)
up = c.uploader(path, chunk_size=2 * 1024 * 1024, metadata={"filename": "tuspy.mp3", "folder": "From Python"},
                store_url=True, url_storage=FileStorage(storage), upload_checksum=True)
print("start", up.url, up.offset, flush=True)
up.upload(stop_at=stop_at or None)
print("end", up.url, up.offset, flush=True)
"#;

// Python runs in this thread (`block_in_place`) while the server serves on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuspy_uploads_and_resumes_into_garage() {
    let Some(python) = tuspy_python() else {
        eprintln!(
            "\n*** SKIPPED tuspy_uploads_and_resumes_into_garage: tuspy is not installed \
             (run scripts/setup.sh --test, or set BUCKETSTREAM_PYTHON) ***\n"
        );
        return;
    };
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "tuspy").await;
    let data = tempfile::tempdir().expect("data");
    let server = server(
        SourceConfig::S3(garage.source(&bucket)),
        data.path(),
        1 << 30,
        DAY,
    )
    .await;
    let file = data.path().join("song.mp3");
    let body = bytes(9 * MIB + 99, 5);
    std::fs::write(&file, &body).expect("file");
    let storage = data.path().join("tus-urls.json");
    let run = |stop_at: usize| {
        let out = std::process::Command::new(&python)
            .arg("-c")
            .arg(TUSPY)
            .arg(server.url("/api/uploads"))
            .arg(&file)
            .arg(&storage)
            .arg(stop_at.to_string())
            .output()
            .expect("run python");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    // The first process stops after 6 MiB; the second finds the URL and resumes there.
    let first = tokio::task::block_in_place(|| run(6 * MIB));
    assert!(first.contains("end http"), "{first}");
    let second = tokio::task::block_in_place(|| run(0));
    let url = first
        .lines()
        .last()
        .and_then(|l| l.split(' ').nth(1))
        .expect("url");
    assert!(
        second.starts_with(&format!("start {url} {}", 6 * MIB)),
        "resumed at 6 MiB: {second}"
    );
    let key = "From Python/tuspy.mp3";
    assert_eq!(keys(&client, &bucket).await, [key]);
    assert!(get(&client, &bucket, key).await == body, "bytes differ");
    assert_eq!(open_multipart(&client, &bucket).await, 0);
}
