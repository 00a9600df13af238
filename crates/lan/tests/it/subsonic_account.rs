//! The account and what plays now, as Subsonic apps ask for them: `getUser` (DSub and
//! Ultrasonic call it at sign-in to learn what the user may do) and `getNowPlaying`, fed by
//! the "now playing" notices (`scrobble` with `submission=false`) each player sends. Driven
//! by py-sonic (PyPI) over the fixtures of `subsonic.rs`; then the XML of `getUser`.

use serde_json::json;

use crate::subsonic::{rest_xml, walk_with_python, USER};

/// Two players (py-sonic's `appName` is the `c` parameter) announce songs; prints what the
/// server then says of the user and of what plays.
const ACCOUNT_CLIENT: &str = r#"
import json, sys
import libsonic
from libsonic import errors
host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
phone = libsonic.Connection("http://" + host, user, password, port=port, appName="phone")
desk = libsonic.Connection("http://" + host, user, password, port=port, appName="desk")
seen = {}
u = phone.getUser(user)["user"]
seen["user"] = {k: u.get(k) for k in ["username", "streamRole", "downloadRole", "playlistRole",
                                      "adminRole", "uploadRole", "scrobblingEnabled", "folder"]}
try:
    phone.getUser("someone-else")
    seen["other_user"] = "found"
except errors.SonicError as e:
    seen["other_user"] = type(e).__name__
entries = lambda: [(e["title"], e["username"], e["playerName"], e["minutesAgo"])
                   for e in phone.getNowPlaying()["nowPlaying"].get("entry", [])]
seen["before"] = entries()
songs = phone.search3("", artistCount=0, albumCount=0, songCount=50)["searchResult3"]["song"]
by_title = {s["title"]: s for s in songs}
phone.scrobble(by_title["So What"]["id"], submission=False)
desk.scrobble(by_title["Come Together"]["id"], submission=False)
seen["two_players"] = entries()
# The phone moves on: its entry is replaced, not added to.
phone.scrobble(by_title["Freddie Freeloader"]["id"], submission=False)
seen["phone_moved_on"] = entries()
# A notice is not a play; a submission is.
seen["plays_after_notices"] = phone.getSong(by_title["So What"]["id"])["song"].get("playCount", 0)
phone.scrobble(by_title["So What"]["id"])
seen["plays_after_submission"] = phone.getSong(by_title["So What"]["id"])["song"].get("playCount", 0)
try:
    phone.scrobble("no-such-song", submission=False)
    seen["unknown_song"] = "accepted"
except errors.SonicError as e:
    seen["unknown_song"] = type(e).__name__
print(json.dumps(seen))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_read_the_account_and_what_each_player_plays_now() {
    let walked = walk_with_python(ACCOUNT_CLIENT).await;
    let (seen, addr) = (&walked.seen, walked.server.addr);
    assert_eq!(
        seen["user"],
        json!({"username": USER, "streamRole": true, "downloadRole": true,
            "playlistRole": true, "adminRole": false, "uploadRole": false,
            "scrobblingEnabled": true, "folder": [1]})
    );
    assert_eq!(seen["other_user"], "DataNotFoundError");
    assert_eq!(seen["before"], json!([]));
    assert_eq!(
        seen["two_players"],
        json!([
            ["Come Together", USER, "desk", 0],
            ["So What", USER, "phone", 0]
        ])
    );
    assert_eq!(
        seen["phone_moved_on"],
        json!([
            ["Freddie Freeloader", USER, "phone", 0],
            ["Come Together", USER, "desk", 0]
        ])
    );
    assert_eq!(seen["plays_after_notices"], 0);
    assert_eq!(seen["plays_after_submission"], 1);
    assert_eq!(seen["unknown_song"], "DataNotFoundError");

    // Without `f=json`: the spec's XML, the folder as a text element.
    let body = rest_xml(addr, &format!("getUser.view?username={USER}")).await;
    assert!(
        body.contains(&format!("<user username=\"{USER}\"")),
        "{body}"
    );
    assert!(body.contains("<folder>1</folder></user>"), "{body}");
    let body = rest_xml(addr, "getNowPlaying").await;
    assert!(
        body.contains("<nowPlaying><entry ") && body.contains("playerName=\"phone\""),
        "{body}"
    );
}
