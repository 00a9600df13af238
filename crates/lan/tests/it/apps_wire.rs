//! Other people's apps go through the edge cache too: two Subsonic clients streaming the same
//! song at once (`/rest/stream`) read it from the store once, and the `res` URL a DLNA
//! `Browse` hands out, played by ffprobe and fetched whole, reads nothing more. Bytes are
//! counted on the wire by the byte-counting proxy between the server and a real Garage.

use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::config::{CacheConfig, IpNet, LibraryConfig, SourceConfig, SubsonicAccount};
use bucketstream_core::library::Library;
use bucketstream_core::secret::Sensitive;
use bucketstream_core::Config;
use bucketstream_lan::{self as server, LanOptions, ServerState};
use serde_json::Value;

use crate::byteproxy::ByteProxy;
use crate::common::{ffmpeg, http, put, Garage};

const USER: &str = "ann";
const PASSWORD: &str = "on the wire";
const KEY: &str = "Albums/Long/01 long tone.mp3";

/// A server over `source` with a 1 GiB edge cache in `cache`, the Subsonic API and DLNA on.
async fn start(
    source: SourceConfig,
    data: &std::path::Path,
    cache: &std::path::Path,
) -> (
    std::net::SocketAddr,
    Arc<Library>,
    tokio::sync::oneshot::Sender<()>,
) {
    let config = Config {
        bind: [127, 0, 0, 1].into(),
        port: 0,
        refresh: None,
        source,
        cache: CacheConfig {
            enabled: true,
            dir: Some(cache.to_owned()),
            max_bytes: 1 << 30,
            direct: false,
        },
        library: LibraryConfig::new(data.to_owned()),
    };
    let library = Library::with_client_refresh_interval(config, Duration::ZERO)
        .await
        .expect("library");
    library.refresh().await.expect("listing");
    let mut options = LanOptions::default();
    options.config.mdns = false;
    options.config.dlna = true;
    options.config.trusted_networks = vec!["127.0.0.1/32".parse::<IpNet>().expect("net")];
    options.config.subsonic = Some(SubsonicAccount {
        user: USER.into(),
        password: Sensitive::new(PASSWORD.into()),
        api_key: None,
    });
    // SSDP on a free port: this test needs no discovery.
    options.ssdp_port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("udp")
        .port();
    let state = ServerState::with_options(library.clone(), options).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        server::run(listener, state, async move {
            let _ = stopped.await;
        })
        .await
        .expect("server runs");
    });
    (addr, library, stop)
}

/// `Browse` with `BrowseMetadata` of `object`, as raw SOAP: the DIDL-Lite (unescaped).
async fn browse_metadata(addr: std::net::SocketAddr, object: &str) -> String {
    let envelope = format!(
        "<?xml version=\"1.0\"?>\
         <s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>\
         <u:Browse xmlns:u=\"urn:schemas-upnp-org:service:ContentDirectory:1\">\
         <ObjectID>{object}</ObjectID><BrowseFlag>BrowseMetadata</BrowseFlag>\
         <Filter>*</Filter><StartingIndex>0</StartingIndex><RequestedCount>0</RequestedCount>\
         <SortCriteria></SortCriteria></u:Browse></s:Body></s:Envelope>"
    );
    let resp = http()
        .post(format!("http://{addr}/dlna/control/content-directory"))
        .header("content-type", "text/xml; charset=\"utf-8\"")
        .header(
            "soapaction",
            "\"urn:schemas-upnp-org:service:ContentDirectory:1#Browse\"",
        )
        .body(envelope)
        .send()
        .await
        .expect("browse");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("text");
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// GET `url` whole: (status, body).
async fn get(url: &str) -> (u16, Vec<u8>) {
    let resp = http().get(url).send().await.expect("get");
    let status = resp.status().as_u16();
    (status, resp.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subsonic_and_dlna_clients_share_the_edge_cache() {
    let garage = Garage::shared();
    let client = garage.client();
    let bucket = garage.bucket(&client, "apps-wire").await;
    // About 3.2 MB: four chunks of the edge cache.
    let work = tempfile::tempdir().expect("work");
    let song = work.path().join("long.mp3");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=200",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "128k",
        &song.display().to_string(),
    ]);
    let bytes = std::fs::read(&song).expect("song");
    let size = bytes.len() as u64;
    put(&client, &bucket, KEY, bytes.clone()).await;

    let proxy = ByteProxy::start(garage.addr()).await;
    let mut source = garage.source(&bucket);
    source.endpoint = Some(proxy.endpoint());
    let data = tempfile::tempdir().expect("data");
    let cache = tempfile::tempdir().expect("cache");
    let (addr, library, stop) = start(SourceConfig::S3(source), data.path(), cache.path()).await;
    let id = library
        .snapshot()
        .items
        .iter()
        .find(|i| i.key == KEY)
        .map(|i| i.id.to_string())
        .expect("listed");
    assert_eq!(proxy.object_bytes(&bucket, KEY), 0, "nothing read yet");

    // Two Subsonic clients stream the song at the same time (plain and hex-encoded password).
    let plain = format!("http://{addr}/rest/stream?u={USER}&p={PASSWORD}&v=1.16.1&c=a&id={id}");
    let hex = format!(
        "http://{addr}/rest/stream.view?u={USER}&p=enc:{}&v=1.16.1&c=b&id={id}",
        hex::encode(PASSWORD)
    );
    let (a, b) = tokio::join!(get(&plain), get(&hex));
    assert_eq!(a.0, 200);
    assert_eq!(b.0, 200);
    assert!(a.1 == bytes, "client a: the object's bytes");
    assert!(b.1 == bytes, "client b: the object's bytes");
    let after_two = proxy.object_bytes(&bucket, KEY);
    println!("{size} B object; two Subsonic clients at once read {after_two} B from the store");
    assert_eq!(
        after_two, size,
        "the song left the store once for both clients"
    );

    // A DLNA control point browses to the song: its res URL is this server's /media.
    let didl = browse_metadata(addr, &format!("i:{id}")).await;
    let res = didl
        .split("<res ")
        .nth(1)
        .and_then(|r| r.split_once('>'))
        .and_then(|(_, rest)| rest.split("</res>").next())
        .unwrap_or_else(|| panic!("a res element: {didl}"))
        .to_owned();
    assert_eq!(res, format!("http://{addr}/media/{id}"));
    let probe_url = res.clone();
    let probe = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "format=duration", "-of"])
            .args(["default=noprint_wrappers=1:nokey=1", &probe_url])
            .output()
            .expect("run ffprobe")
    })
    .await
    .expect("join");
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let secs: f64 = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .expect("a duration");
    assert!((199.0..=201.0).contains(&secs), "ffprobe says {secs} s");
    let (status, whole) = get(&res).await;
    assert_eq!(status, 200);
    assert!(whole == bytes, "the res URL serves the object's bytes");
    assert_eq!(
        proxy.object_bytes(&bucket, KEY),
        size,
        "ffprobe and the DLNA fetch were served from the cache"
    );
    let stats: Value = http()
        .get(format!("http://{addr}/api/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(
        stats["cache"]["objects"][&id]["fetched_bytes"], size,
        "{stats}"
    );
    let _ = stop.send(());
}
