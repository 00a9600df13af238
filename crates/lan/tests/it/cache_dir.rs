//! The cache folder belongs to the user until the cache can prove it is its own: a folder of
//! someone's files is refused at start with every byte left in place, and a previous
//! version's cache is adopted and keeps serving.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bucketstream_core::config::{CacheConfig, Config, LibraryConfig, S3Config, SourceConfig};
use bucketstream_core::secret::{Credentials, Sensitive};
use bucketstream_core::Library;

use crate::common::{bytes, http, put, Garage, TestServer};

/// The marker the cache writes at the top of its folder.
const MARKER: &str = "BUCKETSTREAM-CACHE";

/// Every entry under `dir` (links not followed) with its bytes.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read").flatten() {
            let t = e.file_type().expect("type");
            if t.is_dir() {
                out.insert(e.path(), b"(folder)".to_vec());
                stack.push(e.path());
            } else {
                out.insert(e.path(), std::fs::read(e.path()).unwrap_or_default());
            }
        }
    }
    out
}

/// A configuration with the edge cache in `cache_dir` and the library in `library`.
fn config(source: S3Config, cache_dir: &Path, library: LibraryConfig) -> Config {
    Config {
        bind: [127, 0, 0, 1].into(),
        port: 0,
        refresh: None,
        source: SourceConfig::S3(source),
        cache: CacheConfig {
            enabled: true,
            dir: Some(cache_dir.to_owned()),
            max_bytes: 1 << 30,
            direct: false,
        },
        library,
    }
}

/// A bucket at an address nothing listens on: the cache folder is checked before any listing.
fn nowhere() -> S3Config {
    S3Config {
        bucket: "media".into(),
        region: Some("garage".into()),
        endpoint: Some("http://127.0.0.1:9".into()),
        failover_endpoints: Vec::new(),
        prefix: String::new(),
        path_style: true,
        credentials: Some(Credentials {
            access_key_id: "GK0".into(),
            secret_access_key: Sensitive::new("x".into()),
            session_token: None,
        }),
        create_bucket: false,
    }
}

#[tokio::test]
async fn a_folder_of_the_users_files_is_refused_and_left_byte_for_byte() {
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    std::fs::write(h.join("notes.txt"), b"shopping: milk").expect("write");
    std::fs::create_dir_all(h.join("ab")).expect("mkdir");
    std::fs::create_dir_all(h.join("Photos")).expect("mkdir");
    std::fs::write(h.join("ab/letter.doc"), bytes(5000, 1)).expect("write");
    std::fs::write(h.join("Photos/cat.jpg"), bytes(70_000, 2)).expect("write");
    // Names that almost parse as chunks or temporaries.
    let hash = "0123456789abcdef0123456789abcdef";
    for name in [
        format!("{hash}-1-2.txt"),
        format!("{hash}-1-2"), // a chunk name whose length is wrong: torn, if it were ours
        format!("{hash}-3.4.tmp"), // a temporary's name, in a folder that is not ours
    ] {
        std::fs::write(h.join("ab").join(name), b"user data").expect("write");
    }
    let before = contents(h);
    for _ in 0..2 {
        let (_library_dir, library) = crate::common::own_library();
        let err = match Library::new(config(nowhere(), h, library)).await {
            Err(err) => err,
            Ok(_) => panic!("the cache started in a folder of someone's files"),
        };
        assert_eq!(err.code(), "cache_dir_foreign", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("empty"),
            "the message says how to fix it: {text}"
        );
        assert_eq!(
            contents(h),
            before,
            "every file is still there, byte for byte"
        );
    }
    // Refused means untouched: not even a marker.
    assert!(!h.join(MARKER).exists());
}

/// Lists the library, then plays `film.mp4` whole and checks it is `data`.
async fn plays_film(server: &TestServer, data: &[u8]) {
    server.refresh().await;
    let url = server.url(
        server.by_key().await["film.mp4"]["url"]
            .as_str()
            .expect("url"),
    );
    let body = http().get(&url).send().await.expect("get").bytes().await;
    assert_eq!(body.expect("body").as_ref(), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_previous_versions_cache_is_adopted_and_still_served() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "adopt").await;
    let data = bytes(2_500_000, 9);
    put(&client, &bucket, "film.mp4", data.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = Some((dir.path(), 1u64 << 30));
    let source = || SourceConfig::S3(garage.source(&bucket));
    {
        let server = TestServer::start_with_cache(source(), None, cache).await;
        plays_film(&server, &data).await;
        let s = server.stats().await;
        assert_eq!(s["cache"]["chunks"], 3, "{s}");
    }
    // What 0.1 left: the same chunks, no marker.
    std::fs::remove_file(dir.path().join(MARKER)).expect("the cache wrote its marker");
    let chunks = contents(dir.path());
    let server = TestServer::start_with_cache(source(), None, cache).await;
    assert!(dir.path().join(MARKER).is_file(), "adopted: marked as ours");
    plays_film(&server, &data).await;
    let s = server.stats().await;
    assert_eq!(
        s["cache"]["total"]["fetched_bytes"], 0,
        "served from the adopted chunks: {s}"
    );
    assert_eq!(s["cache"]["total"]["chunk_misses"], 0, "{s}");
    let mut now = contents(dir.path());
    now.remove(&dir.path().join(MARKER));
    assert_eq!(now, chunks, "the adopted chunks were kept as they were");
}
