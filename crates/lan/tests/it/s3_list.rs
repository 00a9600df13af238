//! The parallel S3 listing (folders fanned out, N pages in flight) against the sequential
//! ListObjectsV2 walk on a real Garage: the same objects (keys, sizes, ETags, dates) in the same
//! order, for a tricky layout, with and without a prefix, at several concurrencies.

use bucketstream_core::error::Error;
use bucketstream_core::source::s3::S3Source;
use bucketstream_core::source::ObjectMeta;
use futures_util::StreamExt;

use crate::common::{put, Garage};

/// Keys that trip up naive folder splitting: `/` first, `//`, folder markers, a key equal to a
/// folder's name, unicode, spaces, URL-ish characters, very deep paths.
const HOSTILE: &[&str] = &[
    "/lead.mp3",
    "//double-lead.mp3",
    "a",
    "a/",
    "a/b",
    "a//b.mp3",
    "a///c/.mp3",
    "x/",
    "x/y/",
    "x/y/z.mp3",
    "ünï/cödé/ファイル.mp3",
    "emoji/😀/🎵.flac",
    "space key/ a .mp3",
    "%2F/percent%20.mp3",
    "plus+sign/a+b.mp3",
    "amp&q?/x=1&y.mp3",
    "trailing/dot.",
    "deep/1/2/3/4/5/6/7/8/9/10/11/12/k.mp3",
    "deep/1/2/3/4/5/side.mp3",
    "root-file.mp3",
    "li",
    "lib",
    "lib/",
    "lib/x.mp3",
    "lib//y.mp3",
    "lib/sub/z.mp3",
    "lib-other/w.mp3",
    "zz",
];

/// Every key of the fixture: the hostile ones, 1,100 directly under one folder and 1,050 under
/// a late folder with sub-folders (ranges that take several pages), 40 small folders (cut
/// points; at concurrency 64 they are too few and the walk probes a level deeper).
fn fixture_keys() -> Vec<String> {
    let mut keys: Vec<String> = HOSTILE.iter().map(|k| (*k).to_owned()).collect();
    keys.extend((0..1_100).map(|i| format!("a-wide/{i:05}.mp3")));
    for f in 0..40 {
        keys.extend((0..3).map(|i| format!("f{f:02}/album {i}/track.mp3")));
    }
    keys.extend((0..1_050).map(|i| format!("zz/{}/{i:05}.m4a", i % 3)));
    keys
}

async fn fill(garage: &Garage, tag: &str) -> String {
    let client = garage.client();
    let bucket = garage.bucket(&client, tag).await;
    let puts =
        futures_util::stream::iter(fixture_keys().into_iter().enumerate()).map(|(i, key)| {
            let client = client.clone();
            let bucket = bucket.clone();
            async move { put(&client, &bucket, &key, vec![b'x'; i % 5]).await }
        });
    puts.buffer_unordered(32).collect::<Vec<()>>().await;
    bucket
}

async fn source(garage: &Garage, bucket: &str, prefix: &str) -> S3Source {
    let mut cfg = garage.source(bucket);
    cfg.prefix = prefix.to_owned();
    S3Source::new(&cfg).await
}

fn keys(list: &[ObjectMeta]) -> Vec<&str> {
    list.iter().map(|o| o.key.as_str()).collect()
}

#[tokio::test]
async fn parallel_listing_equals_the_sequential_walk() {
    let garage = Garage::shared();
    let bucket = fill(&garage, "plist").await;
    for prefix in [
        "", "lib/", "li", "lib", "/", "a", "a-wide/", "zz/", "deep/1/", "none/",
    ] {
        let src = source(&garage, &bucket, prefix).await;
        let sequential = src.list_sequential().await.expect("sequential listing");
        // The SDK sends a key's leading `/` as part of the path, which the store folds away:
        // what it holds under those keys is the sequential walk's business; every other key is
        // listed as put.
        let mut expected: Vec<String> = fixture_keys()
            .into_iter()
            .filter(|k| k.starts_with(prefix) && !k.ends_with('/') && !k.starts_with('/'))
            .collect();
        expected.sort();
        let listed: Vec<&str> = keys(&sequential)
            .into_iter()
            .filter(|k| expected.binary_search_by(|e| e.as_str().cmp(k)).is_ok())
            .collect();
        assert_eq!(listed, expected, "the sequential walk, prefix {prefix:?}");
        for concurrency in [1, 3, 8, 64] {
            let parallel = src
                .list_parallel(concurrency)
                .await
                .expect("parallel listing");
            assert_eq!(
                keys(&parallel),
                keys(&sequential),
                "keys, prefix {prefix:?}, concurrency {concurrency}"
            );
            // Sizes, ETags and dates too, object by object.
            assert_eq!(
                parallel, sequential,
                "prefix {prefix:?}, concurrency {concurrency}"
            );
        }
        assert_eq!(
            src.list().await.expect("list"),
            sequential,
            "prefix {prefix:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_bucket_fails_the_parallel_listing_as_before() {
    let garage = Garage::shared();
    let src = source(&garage, "t-no-such-bucket-plist", "").await;
    let parallel = src.list().await;
    let sequential = src.list_sequential().await;
    assert!(
        matches!(parallel, Err(Error::NoSuchBucket(ref b)) if b == "t-no-such-bucket-plist"),
        "{parallel:?}"
    );
    assert!(
        matches!(sequential, Err(Error::NoSuchBucket(_))),
        "{sequential:?}"
    );
}
