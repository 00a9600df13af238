//! `/transcode/{id}`'s ffmpeg processes and their lifetime, over [`crate::transcode`]'s server
//! and fixtures: one ffmpeg shared by two clients (and then its cached output), a running one
//! joined by a second client (niced, leading its own process group), killed when its clients
//! leave, when the same session seeks elsewhere or when the server stops; and the bound on
//! concurrent ffmpegs answering busy until a slot is free.

use futures_util::StreamExt;
use serde_json::Value;

use crate::common::eventually;
use crate::transcode::{fixtures, header, Srv};

#[tokio::test]
async fn two_clients_share_one_ffmpeg_and_then_the_cache() {
    let srv = Srv::start(|_| {}).await;
    let q = "mode=full&start=1";
    let a = srv.transcode("film.mkv", q).await;
    assert_eq!(header(&a, "x-transcode"), "started");
    let b = srv.transcode("film.mkv", q).await;
    let how = header(&b, "x-transcode");
    assert!(how == "joined" || how == "cached", "{how}");
    assert!(srv.ffmpegs() <= 1, "one ffmpeg for both");
    let (a, b) = tokio::join!(a.bytes(), b.bytes());
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert!(a.len() > 10_000);
    assert_eq!(a, b, "the same bytes");
    let c = srv.transcode("film.mkv", q).await;
    assert_eq!(header(&c, "x-transcode"), "cached");
    assert_eq!(c.bytes().await.expect("c"), a);
    assert_eq!(srv.ffmpegs(), 0);
}

#[tokio::test]
async fn two_clients_of_a_running_ffmpeg_share_it() {
    let endless = fixtures().join("ffmpeg-endless");
    let srv = Srv::start(|o| o.transcode.ffmpeg = endless).await;
    let a = srv.transcode("film.mkv", "mode=remux").await;
    assert_eq!(a.status(), 200);
    let b = srv.transcode("film.mkv", "mode=remux").await;
    assert_eq!(header(&b, "x-transcode"), "joined");
    assert_eq!(srv.ffmpegs(), 1, "one ffmpeg for two clients");
    // Niced, and the leader of its own process group (killed as a group).
    let pid = srv.ffmpeg_pids()[0];
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(
        fields.get(2),
        Some(&pid.to_string().as_str()),
        "pgrp: {stat}"
    );
    assert_eq!(fields.get(16), Some(&"10"), "nice: {stat}");
    let (mut a, mut b) = (a.bytes_stream(), b.bytes_stream());
    let (first_a, first_b) = (a.next().await, b.next().await);
    let (first_a, first_b) = (
        first_a.expect("a").expect("a"),
        first_b.expect("b").expect("b"),
    );
    let n = first_a.len().min(first_b.len());
    assert_eq!(first_a[..n], first_b[..n], "the same stream");
    drop(a);
    // One client left: the other still reads, ffmpeg still runs.
    assert!(b.next().await.is_some());
    assert_eq!(srv.ffmpegs(), 1);
    drop(b);
    eventually(10, "ffmpeg killed once both clients left", || async {
        srv.ffmpegs() == 0
    })
    .await;
}

#[tokio::test]
async fn a_seek_elsewhere_by_the_same_session_stops_the_first_stream() {
    let endless = fixtures().join("ffmpeg-endless");
    let srv = Srv::start(|o| o.transcode.ffmpeg = endless).await;
    let first = srv.transcode("film.mkv", "mode=audio&session=s1").await;
    assert_eq!(first.status(), 200);
    assert_eq!(srv.ffmpegs(), 1);
    let second = srv
        .transcode("film.mkv", "mode=audio&start=3&session=s1")
        .await;
    assert_eq!(second.status(), 200);
    // The first stream is cut (not ended cleanly), and its ffmpeg killed.
    let cut = first.bytes().await;
    assert!(cut.is_err(), "the first stream is cut");
    eventually(10, "only the second ffmpeg runs", || async {
        srv.ffmpegs() == 1
    })
    .await;
    drop(second);
    eventually(10, "no ffmpeg once the client left", || async {
        srv.ffmpegs() == 0
    })
    .await;
}

#[tokio::test]
async fn server_shutdown_leaves_no_ffmpeg() {
    let endless = fixtures().join("ffmpeg-endless");
    let mut srv = Srv::start(|o| o.transcode.ffmpeg = endless).await;
    let held = srv.transcode("hevc.mp4", "mode=full").await;
    assert_eq!(held.status(), 200);
    assert_eq!(srv.ffmpegs(), 1);
    srv.stop();
    eventually(15, "no ffmpeg after the server stopped", || async {
        srv.ffmpegs() == 0
    })
    .await;
    drop(held);
}

#[tokio::test]
async fn the_bound_answers_busy_until_a_slot_is_free() {
    let endless = fixtures().join("ffmpeg-endless");
    let srv = Srv::start(|o| {
        o.transcode.ffmpeg = endless;
        o.transcode.max_concurrent = 1;
    })
    .await;
    let held = srv.transcode("film.mkv", "mode=remux").await;
    assert_eq!(held.status(), 200);
    let busy = srv.transcode("film.mkv", "mode=remux&start=2").await;
    assert_eq!(busy.status(), 503);
    assert_eq!(header(&busy, "retry-after"), "5");
    let body: Value = busy.json().await.expect("json");
    assert_eq!(body["error"]["code"], "transcode_busy");
    drop(held);
    eventually(10, "the slot is free again", || async {
        srv.transcode("film.mkv", "mode=remux&start=2")
            .await
            .status()
            == 200
    })
    .await;
}
