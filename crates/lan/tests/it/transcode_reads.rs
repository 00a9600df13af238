//! What a transcode costs the store: ffmpeg reads the source through the server's own
//! `/media` (the edge cache) with ranges, so a stream started late in a film reads the rest of
//! it, not the whole object, counted on the wire by a proxy between the server and Garage.

use futures_util::StreamExt;

use crate::byteproxy::ByteProxy;
use crate::common::{eventually, ffmpeg, Garage};
use crate::transcode::Srv;

/// ffmpeg reads the source through the server's own `/media` (the edge cache), with ranges:
/// a remux started two thirds into a 12 MB film reads from the store the container's head and
/// what follows the seek point, not the whole object (counted on the wire by a proxy
/// between the server and Garage); the same stream asked again costs the store nothing more.
#[tokio::test]
async fn a_seek_reads_from_the_store_only_what_it_needs() {
    let dir = tempfile::tempdir().expect("tmp");
    let big = dir.path().join("big.mkv");
    let out = big.display().to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25:duration=24",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-b:v",
        "4M",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        &out,
    ]);
    let data = std::fs::read(&big).expect("read");
    let size = data.len() as u64;
    assert!(size > 8 << 20, "a film of several chunks: {size} bytes");
    let proxy = ByteProxy::start(Garage::shared().addr()).await;
    let (srv, bucket) =
        Srv::start_with(|_| {}, Some(&proxy), vec![("big.mkv".to_owned(), data)]).await;
    proxy.reset();
    let first_fragment = |resp: reqwest::Response| async move {
        assert_eq!(resp.status(), 200);
        let mut body = resp.bytes_stream();
        let mut got = 0usize;
        while let Some(piece) = body.next().await {
            got += piece.expect("body").len();
            if got > 256 << 10 {
                break;
            }
        }
        got
    };
    let got = first_fragment(
        srv.transcode("big.mkv", "mode=remux&start=16&session=a")
            .await,
    )
    .await;
    assert!(got > 256 << 10, "the stream plays from 0:16");
    // ffmpeg goes on to the end of the film (its output is kept for other clients) unless the
    // client leaves first; either way it is gone soon: count once it is.
    eventually(20, "the first ffmpeg ends", || async { srv.ffmpegs() == 0 }).await;
    let read = proxy.object_bytes(&bucket, "media/big.mkv");
    eprintln!("transcode from 0:16 of {size} bytes: {read} bytes from the store");
    assert!(read > 0, "ffmpeg read through the server");
    // What follows 0:16 (a third of the film), plus the head, the index and chunk rounding
    // (1 MiB chunks): at most three chunks more; and far from the whole.
    assert!(
        read <= size / 3 + (3 << 20) && read < size * 2 / 3,
        "a seek two thirds in reads the rest of the film, not the whole: {read} of {size}"
    );
    // The same start again (another session): the chunks come from the edge cache.
    let got = first_fragment(
        srv.transcode("big.mkv", "mode=remux&start=16&session=b")
            .await,
    )
    .await;
    assert!(got > 256 << 10);
    assert_eq!(
        proxy.object_bytes(&bucket, "media/big.mkv"),
        read,
        "nothing more from the store"
    );
}
