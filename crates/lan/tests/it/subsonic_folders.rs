//! Browsing by folders, the way DSub and Ultrasonic do unless "browse by tags" is switched
//! on: album lists from `getAlbumList`, albums opened with `getMusicDirectory`, `search2`
//! and `getStarred`; and the listener's marks (starred, rating, plays) on every song and album
//! wherever it is listed. Driven by py-sonic (PyPI), which nobody on the project wrote, over
//! the same fixtures as `subsonic.rs`; then the XML a client gets without `f=json`.

use serde_json::json;

use crate::subsonic::{rest_xml, walk_with_python};

/// Walks the library by folders with py-sonic; prints one JSON object of what it saw.
const FOLDER_CLIENT: &str = r#"
import json, sys
import libsonic
from libsonic import errors
host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = libsonic.Connection("http://" + host, user, password, port=port, appName="it")
seen = {}
names = lambda l: [a["title"] for a in l["albumList"].get("album", [])]
by_name = c.getAlbumList("alphabeticalByName", size=10)["albumList"]["album"]
seen["by_name"] = [(a["title"], a["isDir"], a["artist"], a["songCount"]) for a in by_name]
blue = [a for a in by_name if a["title"] == "Kind of Blue"][0]
d = c.getMusicDirectory(blue["id"])["directory"]
seen["album_dir"] = {"name": d["name"], "id_is_album": d["id"] == blue["id"],
                     "children": [(x["title"], x["isDir"], x.get("track")) for x in d["child"]]}
a = c.getMusicDirectory(blue["parent"])["directory"]
seen["artist_dir"] = {"name": a["name"], "children": [(x["title"], x["isDir"]) for x in a["child"]]}
seen["newest"] = sorted(names(c.getAlbumList("newest")))
seen["random"] = len(names(c.getAlbumList("random", size=1)))
seen["by_year"] = names(c.getAlbumList("byYear", fromYear=1960, toYear=1970))
seen["by_genre"] = names(c.getAlbumList("byGenre", genre="jazz"))
seen["paged"] = names(c.getAlbumList("alphabeticalByName", size=1, offset=1))
s = c.search2("blue")["searchResult2"]
seen["search_albums"] = [(x["title"], x["isDir"]) for x in s.get("album", [])]
seen["search_songs"] = [x["title"] for x in c.search2("FREDDIE")["searchResult2"].get("song", [])]
seen["search_artists"] = [x["name"] for x in c.search2("miles")["searchResult2"].get("artist", [])]
so_what = d["child"][0]
c.star(sids=[so_what["id"]], albumIds=[blue["id"]])
st = c.getStarred()["starred"]
seen["starred"] = {"albums": [(x["title"], x["isDir"], "starred" in x) for x in st.get("album", [])],
                   "songs": [x["title"] for x in st.get("song", [])]}
seen["starred_list"] = [(x["title"], "starred" in x) for x in c.getAlbumList("starred")["albumList"].get("album", [])]
c.scrobble(so_what["id"])
seen["frequent"] = [(x["title"], x.get("playCount")) for x in c.getAlbumList("frequent")["albumList"].get("album", [])]
seen["recent"] = names(c.getAlbumList("recent"))
c.setRating(blue["id"], 5)
seen["highest"] = [(x["title"], x.get("userRating")) for x in c.getAlbumList("highest")["albumList"].get("album", [])]
# The marks show wherever the song or album is listed again, not only in getStarred.
c.setRating(so_what["id"], 4)
mark = lambda x: [x["title"] if "title" in x else x["name"], "starred" in x, x.get("playCount"), x.get("userRating")]
seen["marks"] = {
    "directory": [mark(x) for x in c.getMusicDirectory(blue["id"])["directory"]["child"]],
    "album": mark(c.getAlbum(blue["id"])["album"]),
    "album_songs": [mark(x) for x in c.getAlbum(blue["id"])["album"]["song"]],
    "song": mark(c.getSong(so_what["id"])["song"]),
    "search": [mark(x) for x in c.search3("so what")["searchResult3"]["song"]],
    "by_name": [mark(x) for x in c.getAlbumList2("alphabeticalByName")["albumList2"]["album"]],
}
try:
    c.getMusicDirectory("0123456789abcdef0123456789abcdef")
    seen["unknown_dir"] = "found"
except errors.SonicError as e:
    seen["unknown_dir"] = type(e).__name__
try:
    c.getAlbumList("mostLiked")
    seen["bad_type"] = "accepted"
except errors.SonicError as e:
    seen["bad_type"] = type(e).__name__
print(json.dumps(seen))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_browsing_by_folders_lists_and_opens_albums() {
    let walked = walk_with_python(FOLDER_CLIENT).await;
    let (seen, addr) = (&walked.seen, walked.server.addr);
    assert_eq!(
        seen["by_name"],
        json!([
            ["Abbey Road", true, "The Beatles", 1],
            ["Kind of Blue", true, "Miles Davis", 2]
        ])
    );
    assert_eq!(
        seen["album_dir"],
        json!({"name": "Kind of Blue", "id_is_album": true,
            "children": [["So What", false, 1], ["Freddie Freeloader", false, 2]]})
    );
    assert_eq!(
        seen["artist_dir"],
        json!({"name": "Miles Davis", "children": [["Kind of Blue", true]]})
    );
    assert_eq!(seen["newest"], json!(["Abbey Road", "Kind of Blue"]));
    assert_eq!(seen["random"], 1);
    assert_eq!(seen["by_year"], json!(["Abbey Road"]));
    assert_eq!(seen["by_genre"], json!(["Kind of Blue"]));
    assert_eq!(seen["paged"], json!(["Kind of Blue"]));
    assert_eq!(seen["search_albums"], json!([["Kind of Blue", true]]));
    assert_eq!(seen["search_songs"], json!(["Freddie Freeloader"]));
    assert_eq!(seen["search_artists"], json!(["Miles Davis"]));
    assert_eq!(
        seen["starred"],
        json!({"albums": [["Kind of Blue", true, true]], "songs": ["So What"]})
    );
    assert_eq!(seen["starred_list"], json!([["Kind of Blue", true]]));
    assert_eq!(seen["frequent"], json!([["Kind of Blue", 1]]));
    assert_eq!(seen["recent"], json!(["Kind of Blue"]));
    assert_eq!(seen["highest"], json!([["Kind of Blue", 5]]));
    assert_eq!(
        seen["marks"],
        json!({
            "directory": [["So What", true, 1, 4], ["Freddie Freeloader", false, null, null]],
            "album": ["Kind of Blue", true, 1, 5],
            "album_songs": [["So What", true, 1, 4], ["Freddie Freeloader", false, null, null]],
            "song": ["So What", true, 1, 4],
            "search": [["So What", true, 1, 4]],
            "by_name": [["Abbey Road", false, null, null], ["Kind of Blue", true, 1, 5]],
        })
    );
    assert_eq!(seen["unknown_dir"], "DataNotFoundError");
    assert_eq!(seen["bad_type"], "SonicError");

    // Without `f=json` the same lists are XML, the spec's default.
    let body = rest_xml(addr, "getAlbumList.view?type=alphabeticalByName").await;
    assert!(body.contains("<albumList>"), "{body}");
    assert!(
        body.contains("isDir=\"true\" title=\"Kind of Blue\""),
        "{body}"
    );
    let body = rest_xml(addr, "search2?query=come").await;
    assert!(
        body.contains("<searchResult2>") && body.contains("title=\"Come Together\""),
        "{body}"
    );
}
