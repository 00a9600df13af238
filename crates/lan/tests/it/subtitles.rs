//! Subtitles (issue #17) against a real Garage: sidecar files beside a video (SRT, WebVTT,
//! ASS, hostile names, garbage) and an SRT track inside an mkv, listed by
//! `/api/items/{id}/subtitles` and served as WebVTT by `/subtitles/{id}/{sub}.vtt`, exactly,
//! moved by `?offset=`, converted once (the second answer comes from the store), and never
//! listed as media. Fixtures are made with ffmpeg at test time.

use std::path::PathBuf;
use std::sync::OnceLock;

use bucketstream_core::config::SourceConfig;
use serde_json::{json, Value};

use crate::common::{ffmpeg, http, put, Garage, TestServer};

const SRT: &str = "1\n00:00:01,000 --> 00:00:02,500\nHello <i>world</i> & friends\n\n\
                   2\n00:00:03,000 --> 00:00:05,000\nSecond line\n";
const SRT_VTT: &str =
    "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello <i>world</i> &amp; friends\n\n\
                       00:00:03.000 --> 00:00:05.000\nSecond line\n";
const DE_VTT: &str = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nHallo Welt\n";
const ASS: &str = "[Script Info]\nScriptType: v4.00+\n\n[Events]\n\
                   Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n\
                   Dialogue: 0,0:00:02.00,0:00:03.50,Default,,0,0,0,,{\\b1}Fête{\\b0}, \"quoted\"\\Nnext\n";

/// The fixture videos (made once): a plain mp4 and an mkv (H.264 alone) with an SRT track in
/// German.
fn fixtures() -> &'static (PathBuf, PathBuf) {
    static FIXTURES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("bucketstream-subs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mp4 = dir.join("clip.mp4");
        let mkv = dir.join("inside.mkv");
        let srt = dir.join("en.srt");
        std::fs::write(&srt, SRT).expect("srt");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "6",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
            &mp4.display().to_string(),
        ]);
        // Picture only: an audio stream (AAC's priming, Opus's pre-skip) makes the muxer move
        // every stream, the subtitles with it, by a few milliseconds.
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=10",
            "-i",
            &srt.display().to_string(),
            "-t",
            "6",
            "-map",
            "0:v",
            "-map",
            "1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:s",
            "srt",
            "-metadata:s:s:0",
            "language=ger",
            "-metadata:s:s:0",
            "title=Deutsch",
            &mkv.display().to_string(),
        ]);
        (mp4, mkv)
    })
}

async fn get(server: &TestServer, path: &str) -> reqwest::Response {
    http().get(server.url(path)).send().await.expect("get")
}

/// `path`'s WebVTT and its `X-Subtitle-Cache`, asserting a `text/vtt` 200.
async fn vtt(server: &TestServer, path: &str) -> (String, String) {
    let resp = get(server, path).await;
    assert_eq!(resp.status(), 200, "{path}");
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/vtt; charset=utf-8", "{path}");
    let cache = h["x-subtitle-cache"].to_str().expect("ascii").to_owned();
    (resp.text().await.expect("text"), cache)
}

/// The status and error code of `path`.
async fn refused(server: &TestServer, path: &str) -> (u16, String) {
    let resp = get(server, path).await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("json error");
    (
        status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn sidecar_and_embedded_subtitles_as_webvtt() {
    let (mp4, mkv) = fixtures();
    let video = std::fs::read(mp4).expect("mp4");
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "subs").await;
    let hostile = "films/Ünï \"q\" ;x".to_owned();
    for (key, body) in [
        ("films/Film.mp4", video.clone()),
        ("films/Film.en.srt", SRT.as_bytes().to_vec()),
        ("films/Film.de.vtt", DE_VTT.as_bytes().to_vec()),
        ("films/Filmmaker.srt", SRT.as_bytes().to_vec()),
        ("films/Garbage.mp4", video.clone()),
        (
            "films/Garbage.en.srt",
            b"\x00\x01 not subtitles at all --> no".to_vec(),
        ),
        ("films/Inside.mkv", std::fs::read(mkv).expect("mkv")),
        ("../Up.mp4", video.clone()),
        ("../Up.en.srt", SRT.as_bytes().to_vec()),
        ("song.mp3", b"ID3 not really".to_vec()),
        ("song.en.srt", SRT.as_bytes().to_vec()),
    ] {
        put(&client, &bucket, key, body).await;
    }
    put(&client, &bucket, &format!("{hostile}.mp4"), video.clone()).await;
    put(
        &client,
        &bucket,
        &format!("{hostile}.fr.ass"),
        ASS.as_bytes().to_vec(),
    )
    .await;
    let server = TestServer::start(SourceConfig::S3(garage.source(&bucket)), None).await;
    server.refresh().await;
    let items = server.by_key().await;
    // Subtitle files are not media.
    let mut keys: Vec<&str> = items.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let hostile_mp4 = format!("{hostile}.mp4");
    assert_eq!(
        keys,
        [
            "../Up.mp4",
            "films/Film.mp4",
            "films/Garbage.mp4",
            "films/Inside.mkv",
            hostile_mp4.as_str(),
            "song.mp3"
        ]
    );
    let id = |key: &str| items[key]["id"].as_str().expect("id").to_owned();
    let film = id("films/Film.mp4");

    // The list: sidecars by key (the `Filmmaker.srt` of another stem is not one).
    let list = server
        .get_json(&format!("/api/items/{film}/subtitles"))
        .await;
    assert_eq!(
        list,
        json!([
            {"id": "s0", "label": "de", "language": "de", "source": "sidecar", "format": "vtt",
             "forced": false, "sdh": false},
            {"id": "s1", "label": "en", "language": "en", "source": "sidecar", "format": "srt",
             "forced": false, "sdh": false}
        ])
    );

    // Converted exactly, once: the second answer comes from the store.
    let path = format!("/subtitles/{film}/s1.vtt");
    assert_eq!(
        vtt(&server, &path).await,
        (SRT_VTT.to_owned(), "miss".into())
    );
    assert_eq!(
        vtt(&server, &path).await,
        (SRT_VTT.to_owned(), "hit".into())
    );
    let path_de = format!("/subtitles/{film}/s0.vtt");
    assert_eq!(vtt(&server, &path_de).await.0, DE_VTT);

    // Moved for a stream that starts later: cues before 0 dropped, a straddling one cut.
    let shifted = |offset: &str| format!("{path}?offset={offset}");
    assert_eq!(
        vtt(&server, &shifted("2")).await,
        (
            "WEBVTT\n\n00:00:00.000 --> 00:00:00.500\nHello <i>world</i> &amp; friends\n\n\
             00:00:01.000 --> 00:00:03.000\nSecond line\n"
                .to_owned(),
            "hit".into()
        )
    );
    assert_eq!(
        vtt(&server, &shifted("2.6")).await.0,
        "WEBVTT\n\n00:00:00.400 --> 00:00:02.400\nSecond line\n"
    );
    assert_eq!(vtt(&server, &shifted("0")).await.0, SRT_VTT);
    assert_eq!(vtt(&server, &shifted("60")).await.0, "WEBVTT\n");

    // An SRT track inside an mkv, extracted by ffmpeg over the loopback /media URL.
    let inside = id("films/Inside.mkv");
    let list = server
        .get_json(&format!("/api/items/{inside}/subtitles"))
        .await;
    assert_eq!(
        list,
        json!([{"id": "e0", "label": "Deutsch", "language": "de", "source": "embedded",
                "format": "subrip", "forced": false, "sdh": false}])
    );
    let path = format!("/subtitles/{inside}/e0.vtt");
    let (text, cache) = vtt(&server, &path).await;
    assert_eq!(cache, "miss");
    assert_eq!(text, SRT_VTT);
    assert_eq!(vtt(&server, &path).await, (text, "hit".to_owned()));
    assert_eq!(
        vtt(&server, &format!("{path}?offset=3")).await.0,
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nSecond line\n"
    );

    // Hostile names: quotes, unicode, `..` in keys; an ASS sidecar.
    let odd = id(&hostile_mp4);
    let list = server
        .get_json(&format!("/api/items/{odd}/subtitles"))
        .await;
    assert_eq!(list[0]["language"], "fr");
    assert_eq!(list[0]["format"], "ass");
    assert_eq!(
        vtt(&server, &format!("/subtitles/{odd}/s0.vtt")).await.0,
        "WEBVTT\n\n00:00:02.000 --> 00:00:03.500\n<b>Fête</b>, \"quoted\"\nnext\n"
    );
    let up = id("../Up.mp4");
    assert_eq!(
        vtt(&server, &format!("/subtitles/{up}/s0.vtt")).await.0,
        SRT_VTT
    );

    // Garbage: a clear error, and the video and its listing are untouched.
    let garbage = id("films/Garbage.mp4");
    let list = server
        .get_json(&format!("/api/items/{garbage}/subtitles"))
        .await;
    assert_eq!(list[0]["id"], "s0");
    assert_eq!(
        refused(&server, &format!("/subtitles/{garbage}/s0.vtt")).await,
        (422, "subtitle_unreadable".into())
    );
    assert_eq!(
        get(&server, &format!("/media/{garbage}")).await.status(),
        200
    );

    // Audio has no subtitles; bad ids, tracks and offsets are refused.
    let song = id("song.mp3");
    assert_eq!(
        server
            .get_json(&format!("/api/items/{song}/subtitles"))
            .await,
        json!([])
    );
    for path in [
        "/api/items/0123456789abcdef0123456789abcdef/subtitles".to_owned(),
        "/api/items/..%2F..%2Fetc/subtitles".to_owned(),
        "/subtitles/0123456789abcdef0123456789abcdef/s0.vtt".to_owned(),
        format!("/subtitles/{film}/s2.vtt"),
        format!("/subtitles/{film}/s1"),
        format!("/subtitles/{film}/e0.vtt"),
        format!("/subtitles/{film}/x0.vtt"),
        format!("/subtitles/{film}/..%2Fs0.vtt"),
        format!("/subtitles/{song}/s0.vtt"),
        format!("/subtitles/{inside}/e1.vtt"),
    ] {
        assert_eq!(
            refused(&server, &path).await,
            (404, "not_found".into()),
            "{path}"
        );
    }
    for query in ["offset=-1", "offset=abc", "offset=1&offset=2", "start=3"] {
        assert_eq!(
            refused(&server, &format!("/subtitles/{film}/s1.vtt?{query}")).await,
            (400, "bad_query".into()),
            "{query}"
        );
    }
}

/// A local folder: file names with a newline, quotes and `..` in them keep their sidecars, and
/// a sidecar changed on disk is converted again (its version is part of the stored name).
#[tokio::test]
async fn local_sidecars_with_hostile_names_and_a_changed_file() {
    let (mp4, _) = fixtures();
    let dir = tempfile::tempdir().expect("tempdir");
    let stem = "Nuit \"blanche\"\n..é";
    std::fs::copy(mp4, dir.path().join(format!("{stem}.mp4"))).expect("copy");
    let srt = dir.path().join(format!("{stem}.fr.srt"));
    std::fs::write(&srt, SRT).expect("srt");
    let server = TestServer::start(crate::common::local_source(dir.path()), None).await;
    server.refresh().await;
    let items = server.by_key().await;
    assert_eq!(items.len(), 1, "{:?}", items.keys());
    let id = items[&format!("{stem}.mp4")]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let list = server.get_json(&format!("/api/items/{id}/subtitles")).await;
    assert_eq!(list[0]["language"], "fr");
    let path = format!("/subtitles/{id}/s0.vtt");
    assert_eq!(
        vtt(&server, &path).await,
        (SRT_VTT.to_owned(), "miss".into())
    );
    // The file changes (another size): the next listing sees it, and it is converted again.
    std::fs::write(
        &srt,
        "1\n00:00:01,000 --> 00:00:02,000\nChanged, longer text\n",
    )
    .expect("srt");
    server.refresh().await;
    assert_eq!(
        vtt(&server, &path).await,
        (
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nChanged, longer text\n".to_owned(),
            "miss".into()
        )
    );
}
