//! Uploads into a real Garage through `/api/uploads` (tus 1.0.0): in pieces, with checksums,
//! across restarts of the server, terminated, expired, and refused.

use std::time::Duration;

use bucketstream_core::config::SourceConfig;

use crate::common::{bytes, http, Garage};
use crate::tus::{self, create, delete, get, head, keys, open_multipart, patch, server, MIB};

const DAY: Duration = Duration::from_secs(86_400);

#[tokio::test]
async fn s3_upload_in_pieces_is_byte_exact_and_reaches_every_client() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "up").await;
    let data = tempfile::tempdir().expect("data");
    let server = server(
        SourceConfig::S3(garage.source(&bucket)),
        data.path(),
        1 << 30,
        DAY,
    )
    .await;
    server.refresh().await;
    let mut ws = server.ws("/ws").await;
    ws.until("media_list").await;

    let health = server.health().await;
    assert_eq!(health["permissions"]["upload"], true);
    assert_eq!(health["permissions"]["manage"], true);
    assert_eq!(health["permissions"]["max_upload_bytes"], 1u64 << 30);

    let opts = http()
        .request(reqwest::Method::OPTIONS, server.url("/api/uploads"))
        .send()
        .await
        .expect("options");
    assert_eq!(opts.status(), 204);
    assert_eq!(opts.headers()["tus-version"], "1.0.0");
    assert!(opts.headers()["tus-extension"]
        .to_str()
        .expect("text")
        .contains("termination"));
    assert_eq!(
        opts.headers()["tus-max-size"],
        (1u64 << 30).to_string().as_str()
    );

    // 27 MiB + 123 bytes: five parts of 5 MiB, then the rest; the last piece fills three
    // parts at once (sent concurrently).
    let body = bytes(27 * MIB + 123, 7);
    let url = create(
        &server,
        body.len() as u64,
        &[("filename", "Song é.mp3"), ("folder", "Artist/Album")],
    )
    .await;
    assert_eq!(head(&url).await, (200, Some(0)));

    // Pieces that cross part boundaries, one with a checksum.
    let cuts = [0, 3 * MIB + 5, 6 * MIB, 11 * MIB + 1, body.len()];
    for (i, pair) in cuts.windows(2).enumerate() {
        let piece = body[pair[0]..pair[1]].to_vec();
        if i == 1 {
            // A wrong offset is a conflict; a wrong checksum discards the piece.
            let (status, _, code) = patch(&url, 0, piece.clone(), None).await;
            assert_eq!((status, code.as_deref()), (409, Some("upload_conflict")));
            let wrong = tus::sha1_header(b"not this");
            let (status, _, code) = patch(&url, pair[0] as u64, piece.clone(), Some(&wrong)).await;
            assert_eq!((status, code.as_deref()), (460, Some("checksum_mismatch")));
            assert_eq!(head(&url).await, (200, Some(pair[0] as u64)));
            let right = tus::sha1_header(&piece);
            let (status, offset, _) = patch(&url, pair[0] as u64, piece, Some(&right)).await;
            assert_eq!((status, offset), (204, Some(pair[1] as u64)));
        } else {
            let (status, offset, code) = patch(&url, pair[0] as u64, piece, None).await;
            assert_eq!((status, offset), (204, Some(pair[1] as u64)), "{code:?}");
        }
        if pair[1] < body.len() {
            assert_eq!(head(&url).await, (200, Some(pair[1] as u64)));
        }
    }

    let key = "Artist/Album/Song é.mp3";
    assert_eq!(keys(&client, &bucket).await, [key]);
    assert!(get(&client, &bucket, key).await == body, "bytes differ");
    assert_eq!(open_multipart(&client, &bucket).await, 0);
    // In the list at once, and pushed to the open WebSocket, without a refresh.
    let changed = ws.until("library_changed").await;
    assert!(changed.to_string().contains("Song é"), "{changed}");
    let items = server.by_key().await;
    assert_eq!(items[key]["size"], body.len() as u64);
    // HEAD still answers for the finished upload; a PATCH past the end is a conflict.
    assert_eq!(head(&url).await, (200, Some(body.len() as u64)));
    let (status, _, _) = patch(&url, 0, b"x".to_vec(), None).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn s3_upload_resumes_after_the_server_restarts_mid_part_and_after_a_part() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "resume").await;
    let data = tempfile::tempdir().expect("data");
    let source = || SourceConfig::S3(garage.source(&bucket));
    let body = bytes(11 * MIB + 17, 11);

    let first = server(source(), data.path(), 1 << 30, DAY).await;
    let path = create(&first, body.len() as u64, &[("filename", "long.flac")])
        .await
        .trim_start_matches(&first.url(""))
        .to_owned();
    // Mid-part: 2 MiB staged, no part sent yet.
    let (status, _, _) = patch(&first.url(&path), 0, body[..2 * MIB].to_vec(), None).await;
    assert_eq!(status, 204);
    drop(first);

    let second = server(source(), data.path(), 1 << 30, DAY).await;
    let url = second.url(&path);
    assert_eq!(head(&url).await, (200, Some(2 * MIB as u64)));
    // Past a part: part 1 (5 MiB) is sent, 1 MiB staged.
    let (status, offset, _) =
        patch(&url, 2 * MIB as u64, body[2 * MIB..6 * MIB].to_vec(), None).await;
    assert_eq!((status, offset), (204, Some(6 * MIB as u64)));
    drop(second);

    let third = server(source(), data.path(), 1 << 30, DAY).await;
    let url = third.url(&path);
    assert_eq!(head(&url).await, (200, Some(6 * MIB as u64)));
    assert!(
        keys(&client, &bucket).await.is_empty(),
        "nothing visible before the end"
    );
    let (status, offset, _) = patch(&url, 6 * MIB as u64, body[6 * MIB..].to_vec(), None).await;
    assert_eq!((status, offset), (204, Some(body.len() as u64)));
    assert!(
        get(&client, &bucket, "long.flac").await == body,
        "bytes differ"
    );
    assert_eq!(open_multipart(&client, &bucket).await, 0);
    assert!(third.by_key().await.contains_key("long.flac"));
}

#[tokio::test]
async fn s3_terminated_and_expired_uploads_leave_nothing() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "abort").await;
    let data = tempfile::tempdir().expect("data");
    let source = || SourceConfig::S3(garage.source(&bucket));

    let server1 = server(source(), data.path(), 1 << 30, DAY).await;
    let url = create(&server1, (8 * MIB) as u64, &[("filename", "gone.mp4")]).await;
    let (status, _, _) = patch(&url, 0, bytes(6 * MIB, 1), None).await;
    assert_eq!(status, 204);
    assert_eq!(open_multipart(&client, &bucket).await, 1);
    assert_eq!(delete(&url).await, 204);
    assert_eq!(head(&url).await.0, 404);
    assert_eq!(open_multipart(&client, &bucket).await, 0);
    drop(server1);

    // Expiry: one second without a write, then a restart aborts it.
    let short = Duration::from_secs(1);
    let server2 = server(source(), data.path(), 1 << 30, short).await;
    let url = create(&server2, (8 * MIB) as u64, &[("filename", "idle.mp4")]).await;
    let path = url.trim_start_matches(&server2.url("")).to_owned();
    let (status, _, _) = patch(&url, 0, bytes(MIB, 2), None).await;
    assert_eq!(status, 204);
    drop(server2);
    assert_eq!(open_multipart(&client, &bucket).await, 1);
    // Expiry is kept in whole seconds, rounded up: past it for sure after 2.5 s.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let server3 = server(source(), data.path(), 1 << 30, DAY).await;
    crate::common::eventually(20, "the expired multipart upload aborted", || async {
        open_multipart(&client, &bucket).await == 0
    })
    .await;
    let (status, _) = head(&server3.url(&path)).await;
    assert!(status == 404 || status == 410, "{status}");
    assert!(keys(&client, &bucket).await.is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(data.path().join("uploads"))
        .expect("uploads folder")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn s3_refusals_are_clear_and_write_nothing() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "refuse").await;
    let data = tempfile::tempdir().expect("data");
    let server = server(
        SourceConfig::S3(garage.source(&bucket)),
        data.path(),
        10 * MIB as u64,
        DAY,
    )
    .await;
    let base = server.url("");
    let meta = |name: &str, folder: &str| tus::metadata(&[("filename", name), ("folder", folder)]);
    let cases: Vec<(u64, String, u16, &str)> = vec![
        (10, meta("../x.mp3", ""), 400, "bad_upload"),
        (10, meta("x.mp3", "../up"), 400, "bad_upload"),
        (10, meta("x.mp3", "/abs"), 400, "bad_upload"),
        (10, meta("x.mp3", "a//b"), 400, "bad_upload"),
        (10, meta("a\\b.mp3", ""), 400, "bad_upload"),
        (10, meta("a\u{1}b.mp3", ""), 400, "bad_upload"),
        (10, meta(".hidden.mp3", ""), 400, "bad_upload"),
        (10, tus::metadata(&[("folder", "a")]), 400, "bad_upload"),
        (10, "filename !!notbase64".into(), 400, "bad_upload"),
        (10, meta("notes.txt", ""), 415, "unsupported_type"),
        (10, meta("run.sh", ""), 415, "unsupported_type"),
        (10 * MIB as u64 + 1, meta("big.mkv", ""), 413, "too_large"),
    ];
    for (length, metadata, status, code) in &cases {
        let resp = tus::create_with(&http(), &base, *length, metadata).await;
        let (got, _, got_code) = tus::answer(resp).await;
        assert_eq!(
            (got, got_code.as_deref()),
            (*status, Some(*code)),
            "{metadata}"
        );
    }
    // No Tus-Resumable: 412 with the version the server speaks.
    let resp = http()
        .post(server.url("/api/uploads"))
        .header("upload-length", "10")
        .header("upload-metadata", meta("x.mp3", ""))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 412);
    assert_eq!(resp.headers()["tus-version"], "1.0.0");
    // A PATCH with another body type: 415; an unknown id: 404; a hostile id: 404.
    let url = create(&server, 4, &[("filename", "ok.mp3")]).await;
    let resp = http()
        .patch(&url)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/octet-stream")
        .header("upload-offset", "0")
        .body("abcd")
        .send()
        .await
        .expect("patch");
    assert_eq!(tus::answer(resp).await.0, 415);
    assert_eq!(
        head(&server.url("/api/uploads/0123456789abcdef0123456789abcdef"))
            .await
            .0,
        404
    );
    assert_eq!(head(&server.url("/api/uploads/..%2F..%2Fetc")).await.0, 404);
    // A body longer than the upload: 413, and the upload is not completed with it.
    let (status, _, code) = patch(&url, 0, b"abcdef".to_vec(), None).await;
    assert_eq!((status, code.as_deref()), (413, Some("too_large")));
    // Another site's page cannot upload through the owner's browser.
    let resp = http()
        .post(server.url("/api/uploads"))
        .header("origin", "http://evil.example")
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "10")
        .header("upload-metadata", meta("x.mp3", ""))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 403);
    assert_eq!(delete(&url).await, 204);
    assert!(keys(&client, &bucket).await.is_empty());
    assert_eq!(open_multipart(&client, &bucket).await, 0);
}

#[tokio::test]
async fn s3_upload_keeps_what_arrived_when_the_connection_drops() {
    use tokio::io::AsyncWriteExt;
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "drop").await;
    let data = tempfile::tempdir().expect("data");
    let server = server(
        SourceConfig::S3(garage.source(&bucket)),
        data.path(),
        1 << 30,
        DAY,
    )
    .await;
    let body = bytes(7 * MIB + 3, 9);
    let url = create(&server, body.len() as u64, &[("filename", "cut.m4a")]).await;
    let path = url.trim_start_matches(&server.url("")).to_owned();
    // A PATCH that promises the whole body, sends 6 MiB + 1 (past the first part), then
    // the connection goes away.
    let sent = 6 * MIB + 1;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let head_text = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n\
         Content-Length: {}\r\n\r\n",
        server.addr,
        body.len()
    );
    stream.write_all(head_text.as_bytes()).await.expect("head");
    stream.write_all(&body[..sent]).await.expect("body");
    stream.flush().await.expect("flush");
    drop(stream);
    // Everything that arrived is kept and acknowledged on disk.
    crate::common::eventually(20, "the bytes that arrived kept", || async {
        head(&url).await == (200, Some(sent as u64))
    })
    .await;
    let (status, offset, _) = patch(&url, sent as u64, body[sent..].to_vec(), None).await;
    assert_eq!((status, offset), (204, Some(body.len() as u64)));
    assert!(
        get(&client, &bucket, "cut.m4a").await == body,
        "bytes differ"
    );
    assert_eq!(open_multipart(&client, &bucket).await, 0);
}
