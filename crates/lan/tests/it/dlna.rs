//! The DLNA/UPnP MediaServer driven by a control point nobody on the project wrote:
//! `upnp-client` from PyPI's async-upnp-client (installed by `scripts/setup.sh --test`), which
//! reads our device description, calls `Browse` through SOAP and parses the DIDL-Lite. A `res`
//! URL it returns is then played by ffprobe and fetched byte-exact.

use std::path::{Path, PathBuf};
use std::process::Command;

use bucketstream_core::config::IpNet;
use serde_json::Value;

use crate::common::http;
use crate::subsonic::{fixtures, start_with, Running};

pub(crate) fn upnp_client() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py/bin/upnp-client");
    assert!(
        bin.exists(),
        "upnp-client is missing: run scripts/setup.sh --test (async-upnp-client from PyPI)"
    );
    bin
}

/// `Browse` of `object` through upnp-client: (TotalMatches, the DIDL-Lite text).
pub(crate) fn browse(
    bin: &Path,
    device: &str,
    object: &str,
    flag: &str,
    start: u32,
    count: u32,
) -> (u64, String) {
    let out = Command::new(bin)
        .args(["--timeout", "10", "call-action", device, "CD/Browse"])
        .arg(format!("ObjectID={object}"))
        .arg(format!("BrowseFlag={flag}"))
        .args(["Filter=*", "SortCriteria="])
        .arg(format!("StartingIndex={start}"))
        .arg(format!("RequestedCount={count}"))
        .output()
        .expect("run upnp-client");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(text.trim()).expect("upnp-client prints JSON");
    let outs = &v["out_parameters"];
    let total = outs["TotalMatches"].as_u64().expect("TotalMatches");
    (total, outs["Result"].as_str().expect("Result").to_owned())
}

/// The values of attribute-free element `name` in `xml`, in order (DIDL is flat enough).
pub(crate) fn all<'a>(xml: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    xml.split(open)
        .skip(1)
        .filter_map(|rest| rest.split(close).next())
        .collect()
}

/// A server over `root` with DLNA on for loopback, its scan finished, SSDP on a free UDP port
/// (the real one, 1900, may be taken on a test machine): the server and that port.
pub(crate) async fn start_dlna(root: &Path, data: &Path) -> (Running, u16) {
    let ssdp_port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("udp")
        .port();
    let server = start_with(root, data, true, |lan| {
        lan.dlna = true;
        lan.trusted_networks = vec!["127.0.0.1/32".parse::<IpNet>().expect("net")];
        lan.ssdp_port = ssdp_port;
    })
    .await;
    (server, ssdp_port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_point_browses_and_plays() {
    let bin = upnp_client();
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    fixtures(root.path());
    let (server, ssdp_port) = start_dlna(root.path(), data.path()).await;
    let device = format!("http://{}/dlna/device.xml", server.addr);
    let dev = device.clone();
    let bin2 = bin.clone();
    let (found, root_total, root_didl, albums, album_didl, folders, clip_didl) =
        tokio::task::spawn_blocking(move || {
            // Discovery first: a unicast M-SEARCH to our SSDP port, as UPnP 1.1 allows.
            let out = Command::new(&bin2)
                .args([
                    "--timeout",
                    "3",
                    "search",
                    "--bind",
                    "127.0.0.1",
                    "--target",
                    "127.0.0.1",
                ])
                .args(["--target_port", &ssdp_port.to_string()])
                .args([
                    "--search_target",
                    "urn:schemas-upnp-org:device:MediaServer:1",
                ])
                .output()
                .expect("run upnp-client search");
            let found = String::from_utf8_lossy(&out.stdout).into_owned();
            let (root_total, root_didl) = browse(&bin2, &dev, "0", "BrowseDirectChildren", 0, 0);
            let (_, albums) = browse(&bin2, &dev, "albums", "BrowseDirectChildren", 0, 0);
            let album_id = all(&albums, "<container id=\"", "\"")
                .first()
                .copied()
                .expect("an album")
                .to_owned();
            let (_, album_didl) = browse(&bin2, &dev, &album_id, "BrowseDirectChildren", 1, 1);
            let (_, folders) = browse(&bin2, &dev, "folders", "BrowseDirectChildren", 0, 0);
            let (_, clip_didl) = browse(&bin2, &dev, "videos", "BrowseDirectChildren", 0, 0);
            (
                found, root_total, root_didl, albums, album_didl, folders, clip_didl,
            )
        })
        .await
        .expect("join");
    let answer: Value =
        serde_json::from_str(found.lines().next().unwrap_or_default()).expect("a search answer");
    assert_eq!(answer["location"], device.as_str(), "{found}");
    assert_eq!(
        answer["ST"], "urn:schemas-upnp-org:device:MediaServer:1",
        "{found}"
    );
    assert_eq!(root_total, 4);
    assert_eq!(
        all(&root_didl, "<dc:title>", "</dc:title>"),
        ["Folders", "Albums", "Artists", "Videos"]
    );
    // By artist, then name (as /api/albums).
    assert_eq!(
        all(&albums, "<dc:title>", "</dc:title>"),
        ["Kind of Blue", "Abbey Road"]
    );
    // Paged: the second track only.
    assert_eq!(
        all(&album_didl, "<dc:title>", "</dc:title>"),
        ["Freddie Freeloader"]
    );
    assert!(album_didl.contains("DLNA.ORG_OP=01"), "{album_didl}");
    assert_eq!(
        all(&folders, "<dc:title>", "</dc:title>"),
        // The DIDL is XML: the hostile file name arrives escaped, once.
        [
            "Films",
            "Jazz",
            "Rock",
            "loose &lt;tags&gt; &amp; &quot;quotes&quot;"
        ]
    );
    assert!(
        clip_didl.contains("object.item.videoItem") && clip_didl.contains("resolution=\"160x120\"")
    );

    // The res URL plays in ffprobe and is the object's bytes.
    let url = all(&album_didl, "\">", "</res>")
        .into_iter()
        .find(|u| u.starts_with("http://"))
        .expect("a res URL")
        .to_owned();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
            &url,
        ])
        .output()
        .expect("ffprobe");
    let duration: f64 = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .expect("a duration");
    assert!((1.5..3.0).contains(&duration), "{duration}");
    let body = http()
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    let file = std::fs::read(
        root.path()
            .join("Jazz/Miles Davis/Kind of Blue/02 Freddie Freeloader.mp3"),
    )
    .expect("file");
    assert_eq!(body.as_ref(), file.as_slice());

    // A client outside the trusted networks gets no description (the gate asks for the key;
    // with it, the DLNA handler still answers 404 to anyone but the owner's networks).
    let lan_client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let resp = lan_client.get(&device).send().await.expect("get");
    assert_eq!(resp.status(), 401);
    assert!(!resp
        .text()
        .await
        .expect("text")
        .contains("urn:schemas-upnp-org"));
}

/// Walks a MediaServer's whole tree with async-upnp-client's library; prints the sorted,
/// distinct (title, size) of every item found.
const WALK: &str = r#"
import asyncio, json, sys
import xml.etree.ElementTree as ET
from async_upnp_client.aiohttp import AiohttpRequester
from async_upnp_client.client_factory import UpnpFactory
NS = {"d": "urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/", "dc": "http://purl.org/dc/elements/1.1/"}
async def main(url):
    device = await UpnpFactory(AiohttpRequester(timeout=10)).async_create_device(url)
    browse = device.service("urn:schemas-upnp-org:service:ContentDirectory:1").action("Browse")
    todo, seen, items = ["0"], set(), set()
    while todo:
        oid = todo.pop()
        if oid in seen:
            continue
        seen.add(oid)
        r = await browse.async_call(ObjectID=oid, BrowseFlag="BrowseDirectChildren", Filter="*",
                                    StartingIndex=0, RequestedCount=0, SortCriteria="")
        root = ET.fromstring(r["Result"])
        todo += [c.get("id") for c in root.findall("d:container", NS)]
        for i in root.findall("d:item", NS):
            res = i.find("d:res", NS)
            items.add((i.find("dc:title", NS).text, int(res.get("size"))))
    print(json.dumps(sorted(items)))
asyncio.run(main(sys.argv[1]))
"#;

fn walk(device: &str) -> Value {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py/bin/python");
    let out = Command::new(python)
        .arg("-c")
        .arg(WALK)
        .arg(device)
        .output()
        .expect("python");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.trim()).expect("json")
}

/// minidlna (Debian's) serving the same folder finds the same items as we do: the same titles
/// and sizes, walking each server's whole tree with the same control point.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_items_as_minidlna() {
    assert!(
        Path::new("/usr/sbin/minidlnad").exists(),
        "minidlna is missing: run scripts/setup.sh --test"
    );
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    let mini = tempfile::tempdir().expect("minidlna");
    fixtures(root.path());
    let server = start_with(root.path(), data.path(), true, |lan| {
        lan.dlna = true;
        lan.ssdp_port = 0;
    })
    .await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let conf = mini.path().join("minidlna.conf");
    std::fs::write(
        &conf,
        format!(
            "media_dir={}\nport={port}\ndb_dir={}\nlog_dir={}\nfriendly_name=minidlna-test\n\
             inotify=no\nnetwork_interface=lo\nlisten_ip=127.0.0.1\n",
            root.path().display(),
            mini.path().join("db").display(),
            mini.path().display(),
        ),
    )
    .expect("conf");
    let mut child = Command::new("/usr/sbin/minidlnad")
        .arg("-d")
        .arg("-f")
        .arg(&conf)
        .arg("-P")
        .arg(mini.path().join("pid"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("minidlnad");
    let theirs_url = format!("http://127.0.0.1:{port}/rootDesc.xml");
    let ours_url = format!("http://{}/dlna/device.xml", server.addr);
    let (ours, theirs) = tokio::task::spawn_blocking(move || {
        let ours = walk(&ours_url);
        // minidlna scans at start: wait until it has found every file.
        let mut theirs = Value::Null;
        for _ in 0..60 {
            if http_ok(&theirs_url) {
                theirs = walk(&theirs_url);
                if theirs.as_array().map(Vec::len) == ours.as_array().map(Vec::len) {
                    break;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        (ours, theirs)
    })
    .await
    .expect("join");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(ours.as_array().map(Vec::len), Some(5), "{ours}");
    assert_eq!(ours, theirs);
}

/// Whether `url` answers 200 (blocking; for polling a process that is starting).
fn http_ok(url: &str) -> bool {
    Command::new("curl")
        .args(["-sf", "-o", "/dev/null", url])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
async fn off_by_default() {
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    std::fs::write(root.path().join("a.mp3"), b"x").expect("file");
    let server = start_with(root.path(), data.path(), false, |_| {}).await;
    let resp = http()
        .get(format!("http://{}/dlna/device.xml", server.addr))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 404);
}
