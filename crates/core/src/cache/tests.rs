//! Cache behaviour over a real local-folder origin: exactness under concurrency, single
//! flight, eviction, warm restart, ETag change, origin failure.

use super::*;
use crate::source::local::LocalSource;
use futures_util::StreamExt;

const CS: u64 = 64 * 1024;

fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

struct Fixture {
    origin: tempfile::TempDir,
    cache_dir: tempfile::TempDir,
    source: Arc<Source>,
}

impl Fixture {
    fn new() -> Fixture {
        let origin = tempfile::tempdir().expect("tempdir");
        let cache_dir = tempfile::tempdir().expect("tempdir");
        let source = Arc::new(Source::Local(
            LocalSource::new(&[origin.path().to_owned()]).expect("source"),
        ));
        Fixture {
            origin,
            cache_dir,
            source,
        }
    }

    /// Writes an origin file and describes it with the ETag the source lists for it.
    async fn put(&self, key: &str, bytes: &[u8]) -> ObjectRef {
        std::fs::write(self.origin.path().join(key), bytes).expect("write");
        let listed = self.source.list().await.expect("list");
        let meta = listed.iter().find(|o| o.key == key).expect("listed");
        ObjectRef::new("t", key, key, meta.etag.as_deref(), bytes.len() as u64)
    }

    fn cache(&self, max: u64) -> EdgeCache {
        EdgeCache::with_chunks(self.cache_dir.path(), max, CS, 2).expect("cache")
    }

    /// Every file in the cache's fan-out folders (complete chunks and temporary ones alike;
    /// not the marker at the top).
    fn cache_files(&self) -> Vec<walkdir::DirEntry> {
        walkdir::WalkDir::new(self.cache_dir.path())
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file() && e.depth() == 2)
            .collect()
    }
}

async fn read(
    cache: &EdgeCache,
    src: &Arc<Source>,
    obj: &ObjectRef,
    a: u64,
    b: u64,
) -> Result<Vec<u8>> {
    let body = cache.read(src.clone(), obj.clone(), a, b).await?;
    let mut out = Vec::new();
    let mut stream = body.stream;
    while let Some(piece) = stream.next().await {
        out.extend_from_slice(&piece.map_err(crate::Error::Io)?);
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_ranges_are_exact_under_concurrency() {
    let fx = Fixture::new();
    let cache = fx.cache(1 << 30);
    let mut objects: Vec<(ObjectRef, Vec<u8>)> = Vec::new();
    for i in 0..3 {
        let bytes = data(700_000 + i * 12_345, i as u64);
        objects.push((fx.put(&format!("o{i}.mp4"), &bytes).await, bytes));
    }
    let objects = Arc::new(objects);
    let tasks: Vec<_> = (0..24u64)
        .map(|t| {
            let cache = cache.clone();
            let src = fx.source.clone();
            let objects = objects.clone();
            tokio::spawn(async move {
                let mut x = t * 7919 + 1;
                for _ in 0..20 {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let (obj, bytes) = &objects[(x >> 60) as usize % objects.len()];
                    let a = (x >> 20) % obj.size;
                    let b = (a + (x >> 40) % 300_000).min(obj.size - 1);
                    let got = read(&cache, &src, obj, a, b).await.expect("read");
                    assert_eq!(got, bytes[a as usize..=b as usize], "{} {a}-{b}", obj.key);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let stats = cache.stats();
    let size: u64 = objects.iter().map(|(o, _)| o.size).sum();
    assert!(
        stats.total.fetched_bytes <= size,
        "fetched {} of {size}",
        stats.total.fetched_bytes
    );
    assert!(stats.total.served_bytes > stats.total.fetched_bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_readers_of_a_cold_object_fetch_each_byte_once() {
    let fx = Fixture::new();
    let cache = fx.cache(1 << 30);
    let bytes = data(2_000_000, 9);
    let obj = fx.put("film.mp4", &bytes).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (cache, src, obj) = (cache.clone(), fx.source.clone(), obj.clone());
            tokio::spawn(async move {
                read(&cache, &src, &obj, 0, obj.size - 1)
                    .await
                    .expect("read")
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("task"), bytes);
    }
    let s = cache.stats();
    assert_eq!(
        s.total.fetched_bytes,
        bytes.len() as u64,
        "each byte fetched once"
    );
    assert_eq!(s.total.served_bytes, 16 * bytes.len() as u64);
    let chunks = (bytes.len() as u64).div_ceil(CS);
    assert!(
        s.total.get_requests <= chunks,
        "{} GETs for {chunks} chunks",
        s.total.get_requests
    );
    assert!(s.byte_hit_ratio > 0.9);
}

#[tokio::test]
async fn eviction_keeps_the_cap_and_exactness() {
    let fx = Fixture::new();
    let cache = fx.cache(4 * CS);
    let bytes = data(10 * CS as usize + 5, 3);
    let obj = fx.put("big.mp3", &bytes).await;
    for _ in 0..2 {
        assert_eq!(
            read(&cache, &fx.source, &obj, 0, obj.size - 1)
                .await
                .expect("read"),
            bytes
        );
    }
    let s = cache.stats();
    assert!(s.disk_bytes <= 4 * CS, "disk {} over the cap", s.disk_bytes);
    assert!(s.evicted_bytes > 0);
}

#[tokio::test]
async fn a_warm_cache_survives_a_restart_and_serves_without_the_origin() {
    let fx = Fixture::new();
    let bytes = data(300_000, 5);
    let obj = fx.put("song.mp3", &bytes).await;
    {
        let cache = fx.cache(1 << 30);
        assert_eq!(
            read(&cache, &fx.source, &obj, 0, obj.size - 1)
                .await
                .expect("read"),
            bytes
        );
    }
    std::fs::remove_file(fx.origin.path().join("song.mp3")).expect("remove origin");
    let cache = fx.cache(1 << 30);
    let got = read(&cache, &fx.source, &obj, 1000, 250_000)
        .await
        .expect("warm read");
    assert_eq!(got, bytes[1000..=250_000]);
    assert_eq!(cache.stats().total.get_requests, 0);
}

#[tokio::test]
async fn a_new_etag_is_never_served_old_chunks() {
    let fx = Fixture::new();
    let cache = fx.cache(1 << 30);
    let old = data(200_000, 1);
    let obj = fx.put("a.mp3", &old).await;
    assert_eq!(
        read(&cache, &fx.source, &obj, 0, obj.size - 1)
            .await
            .expect("read"),
        old
    );
    std::thread::sleep(std::time::Duration::from_millis(20)); // a distinct mtime, so a new ETag
    let new = data(200_000, 2);
    let obj2 = fx.put("a.mp3", &new).await;
    assert_ne!(obj.etag, obj2.etag);
    assert_eq!(
        read(&cache, &fx.source, &obj2, 0, obj2.size - 1)
            .await
            .expect("read"),
        new
    );
    // The old version's chunks are not served for it, and asking for the old one now fails
    // at the origin for missing chunks rather than mixing versions.
    assert_eq!(cache.stats().total.fetched_bytes, 400_000);
}

#[tokio::test]
async fn an_origin_failure_is_an_error_and_caches_nothing() {
    let fx = Fixture::new();
    let cache = fx.cache(1 << 30);
    let obj = ObjectRef::new("t", "gone.mp3", "gone.mp3", None, 500_000);
    let err = read(&cache, &fx.source, &obj, 0, 1000)
        .await
        .expect_err("must fail");
    assert_eq!(err.code(), "not_found");
    let s = cache.stats();
    assert_eq!((s.chunks, s.disk_bytes), (0, 0));
    let leftovers = fx.cache_files().len();
    assert_eq!(leftovers, 0, "no temporary file stays");
}

#[tokio::test]
async fn sequential_reads_batch_chunks_into_few_requests() {
    let fx = Fixture::new();
    let cache = EdgeCache::with_chunks(fx.cache_dir.path(), 1 << 30, CS, 8).expect("cache");
    let bytes = data(40 * CS as usize, 21);
    let obj = fx.put("seq.mp4", &bytes).await;
    assert_eq!(
        read(&cache, &fx.source, &obj, 0, obj.size - 1)
            .await
            .expect("read"),
        bytes
    );
    let s = cache.stats();
    assert_eq!(s.total.fetched_bytes, bytes.len() as u64);
    assert!(
        s.total.get_requests <= 12,
        "{} GETs for 40 chunks",
        s.total.get_requests
    );
}

#[tokio::test]
async fn warm_reads_are_slices_of_kept_maps_that_outlive_eviction() {
    let fx = Fixture::new();
    let cache = fx.cache(1 << 30);
    let bytes = data(5 * CS as usize + 77, 31);
    let obj = fx.put("warm.mp4", &bytes).await;
    // Cold: the fills' readers switch to the chunks' maps once each fill is done.
    assert_eq!(
        read(&cache, &fx.source, &obj, 0, obj.size - 1)
            .await
            .expect("cold"),
        bytes
    );
    // Warm: every chunk mapped once and kept; unaligned ranges across chunk edges are exact.
    for (a, b) in [
        (0, obj.size - 1),
        (CS - 3, 3 * CS + 5),
        (obj.size - 10, obj.size - 1),
    ] {
        let got = read(&cache, &fx.source, &obj, a, b).await.expect("warm");
        assert_eq!(got, bytes[a as usize..=b as usize], "{a}-{b}");
    }
    let s = cache.stats();
    assert_eq!(s.mapped_chunks, 6);
    assert_eq!(s.chunks, 6);
    assert_eq!(
        s.total.fetched_bytes, obj.size,
        "warm reads fetched nothing"
    );
    // A body holding a slice keeps its map readable after the chunk is evicted and unlinked.
    let body = cache
        .read(fx.source.clone(), obj.clone(), 10, CS - 1)
        .await
        .expect("open");
    {
        let mut store = cache.inner.lock_store();
        store.set_max_bytes(0);
        store.evict();
    }
    assert_eq!(cache.stats().mapped_chunks, 0);
    let mut got = Vec::new();
    let mut stream = body.stream;
    while let Some(piece) = stream.next().await {
        got.extend_from_slice(&piece.expect("piece"));
    }
    assert_eq!(got, bytes[10..CS as usize]);
    let complete = fx.cache_files().len();
    assert_eq!(complete, 0, "evicted files are unlinked");
}

#[tokio::test]
async fn complete_chunk_files_are_read_only() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let cache = fx.cache(1 << 30);
    let bytes = data(2 * CS as usize, 41);
    let obj = fx.put("ro.mp3", &bytes).await;
    read(&cache, &fx.source, &obj, 0, obj.size - 1)
        .await
        .expect("read");
    let files = fx.cache_files();
    assert_eq!(files.len(), 2);
    for f in files {
        let mode = f.metadata().expect("meta").permissions().mode();
        assert_eq!(mode & 0o222, 0, "{:?} is writable: {mode:o}", f.path());
    }
}
