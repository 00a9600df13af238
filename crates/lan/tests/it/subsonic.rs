//! The OpenSubsonic API (`/rest`) driven by Subsonic clients nobody on the project wrote:
//! py-sonic (`libsonic`, POSTing forms with token auth) and py-opensonic (`libopensonic`),
//! from PyPI, installed by `scripts/setup.sh --test` into `target/py`. The library is a local
//! folder of songs and a video made with ffmpeg, read by the real media library (tags, art).
//! The API by hand (errors, API keys, sign-in limits) and the npm client: [`crate::subsonic_wire`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bucketstream_core::config::{CacheConfig, LibraryConfig, SubsonicAccount};
use bucketstream_core::library::Library;
use bucketstream_core::secret::Sensitive;
use bucketstream_core::Config;
use bucketstream_lan::{self as server, LanOptions, ServerState};
use bucketstream_library::MediaLibrary;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{eventually, ffmpeg, http, local_source};

pub(crate) const USER: &str = "ann";
pub(crate) const PASSWORD: &str = "open sesame & more";

/// The one JSON object a client script printed, once it exited successfully (else the test
/// fails with what it printed).
pub(crate) fn printed_json(out: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("one JSON object printed by the client")
}

/// `GET /rest/{query}` signed in with [`PASSWORD`] (as `enc:` hex), without `f`: the XML
/// answer a client gets by default.
pub(crate) async fn rest_xml(addr: std::net::SocketAddr, query: &str) -> String {
    let p = format!("enc:{}", hex::encode(PASSWORD));
    let joiner = if query.contains('?') { '&' } else { '?' };
    let url = format!("http://{addr}/rest/{query}{joiner}u={USER}&p={p}&v=1.16.1&c=t");
    let answer = crate::common::http().get(url).send().await.expect("get");
    answer.text().await.expect("text")
}

/// A song of `secs` seconds with tags, at `path` under `root`.
fn song(root: &Path, path: &str, tags: &[(&str, &str)], cover: Option<&Path>) {
    let out = root.join(path);
    std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
    let mut args: Vec<String> = vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        "sine=frequency=440:duration=2".into(),
    ];
    if let Some(cover) = cover {
        args.extend([
            "-i".into(),
            cover.display().to_string(),
            "-map".into(),
            "0".into(),
            "-map".into(),
            "1".into(),
            "-c:v".into(),
            "copy".into(),
            "-id3v2_version".into(),
            "3".into(),
            "-metadata:s:v".into(),
            "comment=Cover (front)".into(),
        ]);
    }
    for (k, v) in tags {
        args.extend(["-metadata".into(), format!("{k}={v}")]);
    }
    args.extend([
        "-c:a".into(),
        "libmp3lame".into(),
        "-b:a".into(),
        "64k".into(),
        out.display().to_string(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ffmpeg(&refs);
}

/// The library: two albums by two artists (one with a cover, one artist under "The"), a
/// song without tags at the top, and a short video.
pub(crate) fn fixtures(root: &Path) {
    let cover = root.join("cover-src.jpg");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=blue:s=64x64",
        "-frames:v",
        "1",
        &cover.display().to_string(),
    ]);
    for (n, title) in [(1, "So What"), (2, "Freddie Freeloader")] {
        song(
            root,
            &format!("Jazz/Miles Davis/Kind of Blue/0{n} {title}.mp3"),
            &[
                ("title", title),
                ("artist", "Miles Davis"),
                ("album_artist", "Miles Davis"),
                ("album", "Kind of Blue"),
                ("track", &n.to_string()),
                ("genre", "Jazz"),
                ("date", "1959"),
            ],
            Some(&cover),
        );
    }
    song(
        root,
        "Rock/The Beatles/Abbey Road/01 Come Together.mp3",
        &[
            ("title", "Come Together"),
            ("artist", "The Beatles"),
            ("album_artist", "The Beatles"),
            ("album", "Abbey Road"),
            ("track", "1"),
            ("genre", "Rock"),
            ("date", "1969"),
        ],
        None,
    );
    song(root, "loose <tags> & \"quotes\".mp3", &[], None);
    std::fs::create_dir_all(root.join("Films")).expect("mkdir");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=1:size=160x120:rate=10",
        "-pix_fmt",
        "yuv420p",
        &root.join("Films/clip.mp4").display().to_string(),
    ]);
    std::fs::remove_file(cover).expect("rm cover source");
}

/// The Python with py-sonic and py-opensonic that `scripts/setup.sh --test` installs (or
/// `BUCKETSTREAM_PYTHON`).
pub(crate) fn python() -> PathBuf {
    let python = std::env::var_os("BUCKETSTREAM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py/bin/python")
        });
    let ok = Command::new(&python)
        .args(["-c", "import libsonic, libopensonic"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "py-sonic and py-opensonic are missing: run scripts/setup.sh --test (or set BUCKETSTREAM_PYTHON)");
    python
}

pub(crate) struct Running {
    pub(crate) addr: std::net::SocketAddr,
    _library: Arc<Library>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A server over `root` with the Subsonic `account`; with `scan`, the media library reads the
/// tags and art first (the call returns once the scan is done).
pub(crate) async fn start(
    root: &Path,
    data: &Path,
    account: Option<SubsonicAccount>,
    scan: bool,
) -> Running {
    start_with(root, data, scan, |lan| lan.subsonic = account).await
}

/// A server over `root` whose LAN options `configure` adjusts (mDNS is off); with `scan`, it
/// returns once the media library has read every object.
pub(crate) async fn start_with(
    root: &Path,
    data: &Path,
    scan: bool,
    configure: impl FnOnce(&mut LanOptions),
) -> Running {
    let config = Config {
        bind: [127, 0, 0, 1].into(),
        port: 0,
        refresh: None,
        source: local_source(root),
        cache: CacheConfig {
            enabled: false,
            dir: None,
            max_bytes: 0,
            direct: false,
        },
        library: LibraryConfig::new(data.to_owned()),
    };
    let library = Library::with_client_refresh_interval(config, Duration::ZERO)
        .await
        .expect("library");
    let media = if scan {
        MediaLibrary::start(&library).await.0
    } else {
        None
    };
    library.refresh().await.expect("listing");
    let mut options = LanOptions::default();
    options.config.mdns = false;
    configure(&mut options);
    let mut state = ServerState::with_options(library.clone(), options).expect("state");
    if let Some(media) = media {
        state = state.with_media(media);
    }
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
    let running = Running {
        addr,
        _library: library,
        stop: Some(stop),
    };
    if !scan {
        return running;
    }
    let health = format!("http://{addr}/api/health");
    eventually(120, "the scan to finish", || {
        let health = health.clone();
        async move {
            let h: Value = match http().get(&health).send().await {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(_) => return false,
            };
            h["scan"]["running"] == false
                && h["scan"]["total"]
                    .as_u64()
                    .is_some_and(|t| t > 0 && h["scan"]["done"] == t)
        }
    })
    .await;
    running
}

/// Walks the library with py-sonic and py-opensonic; prints one JSON object of what it saw.
const CLIENTS: &str = r#"
import hashlib, json, sys
import libsonic, libopensonic
from libsonic import errors
host, port, user, password, out_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
c = libsonic.Connection("http://" + host, user, password, port=port, appName="it")
seen = {"ping": c.ping()}
seen["folders"] = c.getMusicFolders()["musicFolders"]["musicFolder"]
idx = c.getIndexes()["indexes"]
seen["index_names"] = [a["name"] for i in idx["index"] for a in i["artist"]]
seen["top_files"] = [x["title"] for x in idx.get("child", [])]
jazz = [a for i in idx["index"] for a in i["artist"] if a["name"] == "Jazz"][0]
d = c.getMusicDirectory(jazz["id"])["directory"]
seen["jazz_children"] = [(x["title"], x["isDir"]) for x in d["child"]]
arts = c.getArtists()["artists"]
seen["artist_groups"] = [(i["name"], [a["name"] for a in i["artist"]]) for i in arts["index"]]
miles = [a for i in arts["index"] for a in i["artist"] if a["name"] == "Miles Davis"][0]
artist = c.getArtist(miles["id"])["artist"]
seen["miles_albums"] = [a["name"] for a in artist["album"]]
album = c.getAlbum(artist["album"][0]["id"])["album"]
seen["album"] = {"name": album["name"], "songCount": album["songCount"], "year": album.get("year"),
                 "songs": [(s["track"], s["title"]) for s in album["song"]], "coverArt": "coverArt" in album}
song = album["song"][0]
seen["getSong"] = c.getSong(song["id"])["song"]["title"]
seen["search_blue"] = [a["name"] for a in c.search3("blue")["searchResult3"].get("album", [])]
seen["search_accent"] = [s["title"] for s in c.search3("FREDDIE")["searchResult3"].get("song", [])]
everything = c.search3("", artistCount=0, albumCount=0, songCount=500)["searchResult3"].get("song", [])
seen["everything"] = sorted(s["path"] for s in everything)
seen["videos"] = [s["title"] for s in everything if s["isVideo"]]
seen["genres"] = sorted((g["value"], g["songCount"]) for g in c.getGenres()["genres"]["genre"])
seen["by_name"] = [a["name"] for a in c.getAlbumList2("alphabeticalByName", size=10)["albumList2"]["album"]]
seen["random"] = len(c.getRandomSongs(size=2)["randomSongs"]["song"])
data = c.stream(song["id"]).read()
seen["stream_sha256"] = hashlib.sha256(data).hexdigest()
seen["stream_path"] = song["path"]
art = c.getCoverArt(album["coverArt"], size=64).read()
seen["cover_magic"] = art[:3].hex()
try:
    libsonic.Connection("http://" + host, user, "wrong", port=port).ping()
    seen["wrong_password"] = "accepted"
except errors.SonicError as e:
    seen["wrong_password"] = type(e).__name__ + ": " + str(e)
# The listener's data: stars, plays, a playlist and a bookmark, then read back.
songs = album["song"]
c.star(sids=[songs[1]["id"]], albumIds=[album["id"]], artistIds=[miles["id"]])
st = c.getStarred2()["starred2"]
seen["starred"] = {"songs": [x["title"] for x in st.get("song", [])],
                   "albums": [x["name"] for x in st.get("album", [])],
                   "artists": [x["name"] for x in st.get("artist", [])],
                   "song_has_date": all("starred" in x for x in st.get("song", []))}
c.unstar(artistIds=[miles["id"]])
seen["starred_after_unstar"] = [x["name"] for x in c.getStarred2()["starred2"].get("artist", [])]
c.scrobble(songs[0]["id"])
c.scrobble(songs[0]["id"])
seen["frequent"] = [a["name"] for a in c.getAlbumList2("frequent")["albumList2"].get("album", [])]
seen["recent"] = [a["name"] for a in c.getAlbumList2("recent")["albumList2"].get("album", [])]
seen["starred_albums"] = [a["name"] for a in c.getAlbumList2("starred")["albumList2"].get("album", [])]
pl = c.createPlaylist(name="Road <trip> & more", songIds=[songs[0]["id"], songs[1]["id"], songs[0]["id"]])["playlist"]
seen["created"] = {"name": pl["name"], "songCount": pl["songCount"], "entries": [e["title"] for e in pl["entry"]]}
c.updatePlaylist(pl["id"], name="Road trip", comment="for the car", songIdsToAdd=[everything[0]["id"]], songIndexesToRemove=[0, 2])
pl2 = c.getPlaylist(pl["id"])["playlist"]
seen["updated"] = {"name": pl2["name"], "comment": pl2.get("comment"), "entries": [e["title"] for e in pl2["entry"]]}
seen["playlists"] = [p["name"] for p in c.getPlaylists()["playlists"]["playlist"]]
c.deletePlaylist(pl["id"])
seen["playlists_after_delete"] = len(c.getPlaylists()["playlists"].get("playlist", []))
try:
    c.getPlaylist(pl["id"])
    seen["deleted_playlist"] = "found"
except errors.SonicError as e:
    seen["deleted_playlist"] = type(e).__name__
c.createBookmark(songs[1]["id"], 61000, comment="solo")
bm = c.getBookmarks()["bookmarks"]["bookmark"]
seen["bookmarks"] = [(b["position"], b.get("comment"), b["entry"]["title"]) for b in bm]
c.deleteBookmark(songs[1]["id"])
seen["bookmarks_after_delete"] = len(c.getBookmarks()["bookmarks"].get("bookmark", []))
o = libopensonic.Connection("http://" + host, user, password, port=port, app_name="it")
seen["opensonic_ping"] = bool(o.ping())
seen["opensonic_album"] = o.get_album(album["id"]).name
print(json.dumps(seen))
"#;

/// A server over [`fixtures`] with the account and its scan finished, walked by the Python
/// `script` (run with host, port, user, password and `-`): what the script printed, as JSON.
pub(crate) struct Walked {
    pub(crate) seen: Value,
    pub(crate) server: Running,
    pub(crate) root: tempfile::TempDir,
    _data: tempfile::TempDir,
}

pub(crate) async fn walk_with_python(script: &'static str) -> Walked {
    let python = python();
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    fixtures(root.path());
    let account = SubsonicAccount {
        user: USER.into(),
        password: Sensitive::new(PASSWORD.into()),
        api_key: None,
    };
    let server = start(root.path(), data.path(), Some(account), true).await;
    let addr = server.addr;
    let out = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg("-c")
            .arg(script)
            .args(["127.0.0.1", &addr.port().to_string(), USER, PASSWORD, "-"])
            .output()
            .expect("run python")
    })
    .await
    .expect("join");
    let seen = printed_json(&out);
    println!("{seen:#}");
    Walked {
        seen,
        server,
        root,
        _data: data,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subsonic_clients_browse_search_and_stream() {
    let walked = walk_with_python(CLIENTS).await;
    let (seen, root) = (&walked.seen, &walked.root);
    assert_eq!(seen["ping"], true);
    assert_eq!(
        seen["index_names"],
        serde_json::json!(["Films", "Jazz", "Rock"])
    );
    assert_eq!(
        seen["top_files"],
        serde_json::json!(["loose <tags> & \"quotes\""])
    );
    assert_eq!(
        seen["jazz_children"],
        serde_json::json!([["Miles Davis", true]])
    );
    assert_eq!(
        seen["artist_groups"],
        serde_json::json!([["B", ["The Beatles"]], ["M", ["Miles Davis"]]])
    );
    assert_eq!(seen["miles_albums"], serde_json::json!(["Kind of Blue"]));
    assert_eq!(
        seen["album"],
        serde_json::json!({"name": "Kind of Blue", "songCount": 2, "year": 1959,
            "songs": [[1, "So What"], [2, "Freddie Freeloader"]], "coverArt": true})
    );
    assert_eq!(seen["getSong"], "So What");
    assert_eq!(seen["search_blue"], serde_json::json!(["Kind of Blue"]));
    assert_eq!(
        seen["search_accent"],
        serde_json::json!(["Freddie Freeloader"])
    );
    assert_eq!(seen["everything"].as_array().map(Vec::len), Some(5));
    assert_eq!(seen["videos"], serde_json::json!(["clip"]));
    assert_eq!(
        seen["genres"],
        serde_json::json!([["Jazz", 2], ["Rock", 1]])
    );
    assert_eq!(
        seen["by_name"],
        serde_json::json!(["Abbey Road", "Kind of Blue"])
    );
    assert_eq!(seen["random"], 2);
    let path = seen["stream_path"].as_str().expect("path");
    let bytes = std::fs::read(root.path().join(path)).expect("song file");
    assert_eq!(seen["stream_sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(seen["cover_magic"], "ffd8ff", "a JPEG");
    assert!(
        seen["wrong_password"]
            .as_str()
            .is_some_and(|s| s.starts_with("CredentialError")),
        "{}",
        seen["wrong_password"]
    );
    assert_eq!(
        seen["starred"],
        serde_json::json!({"songs": ["Freddie Freeloader"], "albums": ["Kind of Blue"],
            "artists": ["Miles Davis"], "song_has_date": true})
    );
    assert_eq!(seen["starred_after_unstar"], serde_json::json!([]));
    assert_eq!(seen["frequent"], serde_json::json!(["Kind of Blue"]));
    assert_eq!(seen["recent"], serde_json::json!(["Kind of Blue"]));
    assert_eq!(seen["starred_albums"], serde_json::json!(["Kind of Blue"]));
    assert_eq!(
        seen["created"],
        serde_json::json!({"name": "Road <trip> & more", "songCount": 3,
            "entries": ["So What", "Freddie Freeloader", "So What"]})
    );
    assert_eq!(
        seen["updated"],
        serde_json::json!({"name": "Road trip", "comment": "for the car",
            "entries": ["Freddie Freeloader", "clip"]})
    );
    assert_eq!(seen["playlists"], serde_json::json!(["Road trip"]));
    assert_eq!(seen["playlists_after_delete"], 0);
    assert_eq!(seen["deleted_playlist"], "DataNotFoundError");
    assert_eq!(
        seen["bookmarks"],
        serde_json::json!([[61000, "solo", "Freddie Freeloader"]])
    );
    assert_eq!(seen["bookmarks_after_delete"], 0);
    assert_eq!(seen["opensonic_ping"], true);
    assert_eq!(seen["opensonic_album"], "Kind of Blue");
}
