//! The account and what it is playing: `getUser` (the one user and what it may do) and
//! `getNowPlaying`, fed by the "now playing" notices clients send (`scrobble` with
//! `submission=false`), so a second phone or a desktop client shows what plays in the house.
//!
//! Notices are kept in memory only, one per player (the `c` parameter), and expire when the
//! song would have ended (its duration, plus a minute), or after [`UNTIMED`] when its
//! duration is unknown.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bucketstream_core::catalog::Snapshot;
use bucketstream_subsonic::{Node, Params, SubsonicError};

use super::marks::Marks;

/// How long a notice lasts when the song's duration is unknown.
const UNTIMED: Duration = Duration::from_secs(15 * 60);
/// How long a notice outlives the song's end (a paused player).
const GRACE: Duration = Duration::from_secs(60);
/// Players remembered at once (the oldest notice goes first).
const MAX_PLAYERS: usize = 64;

/// One player's notice.
#[derive(Debug, Clone)]
struct Notice {
    /// The client's name (`c`), which Subsonic calls the player.
    player: String,
    /// The item's key (ids change when the library is re-listed; keys do not).
    key: String,
    /// When the notice came.
    at: Instant,
}

/// What each player said it plays now.
#[derive(Debug, Default)]
pub struct NowPlaying {
    notices: Mutex<Vec<Notice>>,
}

impl NowPlaying {
    /// `scrobble?submission=false`: player `player` plays the items of `ids` now (the last of
    /// them, when a client sends several). Unknown ids are error 70.
    pub fn notice(&self, snap: &Snapshot, params: &Params) -> Result<(), SubsonicError> {
        self.notice_at(snap, params, Instant::now())
    }

    fn notice_at(
        &self,
        snap: &Snapshot,
        params: &Params,
        at: Instant,
    ) -> Result<(), SubsonicError> {
        let mut key = None;
        for id in params.all("id") {
            let item = snap
                .get(id)
                .ok_or_else(|| SubsonicError::not_found(&format!("song {id:?}")))?;
            key = Some(item.key.clone());
        }
        let key = key.ok_or_else(|| SubsonicError::missing("id"))?;
        let player = params.get("c").unwrap_or("unknown").to_owned();
        let mut notices = self.notices.lock().unwrap_or_else(|p| p.into_inner());
        notices.retain(|n| n.player != player);
        if notices.len() >= MAX_PLAYERS {
            notices.remove(0);
        }
        notices.push(Notice { player, key, at });
        Ok(())
    }

    /// `getNowPlaying`: an entry per player whose song has not ended yet, newest first, each
    /// a song with `username`, `minutesAgo`, `playerId` and `playerName`.
    pub fn entries(&self, snap: &Snapshot, marks: &Marks, user: &str) -> Node {
        self.entries_at(snap, marks, user, Instant::now())
    }

    fn entries_at(&self, snap: &Snapshot, marks: &Marks, user: &str, now: Instant) -> Node {
        let mut notices = self.notices.lock().unwrap_or_else(|p| p.into_inner());
        notices.retain(|n| {
            snap.by_key(&n.key).is_some_and(|item| {
                let lasts = item
                    .meta
                    .duration_ms
                    .map_or(UNTIMED, |ms| Duration::from_millis(ms) + GRACE);
                now.duration_since(n.at) < lasts
            })
        });
        let entries = notices
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(slot, n)| {
                let item = snap.by_key(&n.key)?;
                let minutes = now.duration_since(n.at).as_secs() / 60;
                Some(
                    marks
                        .song(item)
                        .node("entry")
                        .attr("username", user)
                        .attr("minutesAgo", minutes)
                        .attr("playerId", slot + 1)
                        .attr("playerName", n.player.as_str()),
                )
            })
            .collect();
        Node::new("nowPlaying").list("entry", entries)
    }
}

/// `getUser`: the one account, when `username` (if given) names it. It may stream,
/// download, scrobble, keep playlists and see cover art; it cannot change settings, upload,
/// share or use the jukebox, which this API does not offer. Its folder is the library's one
/// music folder.
pub fn user(params: &Params, user: &str) -> Result<Node, SubsonicError> {
    if params.get("username").is_some_and(|asked| asked != user) {
        return Err(SubsonicError::not_found("user"));
    }
    let roles = [
        ("adminRole", false),
        ("settingsRole", false),
        ("downloadRole", true),
        ("uploadRole", false),
        ("playlistRole", true),
        ("coverArtRole", true),
        ("commentRole", false),
        ("podcastRole", false),
        ("streamRole", true),
        ("jukeboxRole", false),
        ("shareRole", false),
        ("videoConversionRole", true),
    ];
    let node = Node::new("user")
        .attr("username", user)
        .attr("scrobblingEnabled", true);
    Ok(roles
        .into_iter()
        .fold(node, |node, (role, may)| node.attr(role, may))
        .values("folder", vec![1u32.into()]))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bucketstream_core::catalog::item::from_object;
    use bucketstream_core::catalog::ItemMeta;
    use bucketstream_core::source::ObjectMeta;
    use bucketstream_subsonic::envelope::render;
    use bucketstream_subsonic::Format;

    use super::*;

    /// A snapshot of `(key, duration in seconds)`.
    fn snapshot(items: &[(&str, Option<u64>)]) -> Snapshot {
        let items = items
            .iter()
            .map(|(key, secs)| {
                let obj = ObjectMeta {
                    key: (*key).to_owned(),
                    size: 1,
                    etag: None,
                    last_modified: None,
                };
                let mut item = from_object("t", "", &obj).expect("a media item");
                item.meta = Arc::new(ItemMeta {
                    duration_ms: secs.map(|s| s * 1000),
                    ..ItemMeta::default()
                });
                Arc::new(item)
            })
            .collect();
        Snapshot::of_items(items)
    }

    fn id(snap: &Snapshot, key: &str) -> String {
        snap.by_key(key).expect("listed").id.to_string()
    }

    /// `(player, key)` of each entry at `now`, newest first.
    fn playing(now_playing: &NowPlaying, snap: &Snapshot, now: Instant) -> Vec<String> {
        let node = now_playing.entries_at(snap, &Marks::default(), "ann", now);
        let json: serde_json::Value =
            serde_json::from_str(&render(Format::Json, Ok(Some(&node)), "v")).expect("json");
        json["subsonic-response"]["nowPlaying"]["entry"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| format!("{} {} {}", e["playerName"], e["path"], e["minutesAgo"]))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn a_notice_lasts_until_its_song_would_have_ended() {
        let snap = snapshot(&[("short.mp3", Some(120)), ("untimed.mp3", None)]);
        let now_playing = NowPlaying::default();
        let t0 = Instant::now();
        let say = |player: &str, key: &str, at: Instant| {
            let query = format!("id={}&c={player}", id(&snap, key));
            now_playing.notice_at(&snap, &Params::parse(Some(&query), None), at)
        };
        say("phone", "short.mp3", t0).expect("notice");
        say("desk", "untimed.mp3", t0).expect("notice");
        assert_eq!(
            playing(&now_playing, &snap, t0 + Duration::from_secs(90)),
            ["\"desk\" \"untimed.mp3\" 1", "\"phone\" \"short.mp3\" 1"]
        );
        // Two minutes of song and one of grace: the phone's entry is gone after three.
        assert_eq!(
            playing(&now_playing, &snap, t0 + Duration::from_secs(181)),
            ["\"desk\" \"untimed.mp3\" 3"]
        );
        assert!(playing(&now_playing, &snap, t0 + UNTIMED).is_empty());
        // Ids that are not listed are refused, and so is a notice without any.
        let unknown = Params::parse(Some("id=nope&c=phone"), None);
        assert!(now_playing.notice_at(&snap, &unknown, t0).is_err());
        let none = Params::parse(Some("c=phone"), None);
        assert!(now_playing.notice_at(&snap, &none, t0).is_err());
    }

    #[test]
    fn players_are_bounded_and_an_item_that_left_drops_out() {
        let snap = snapshot(&[("a.mp3", Some(600))]);
        let now_playing = NowPlaying::default();
        let t0 = Instant::now();
        let query = |player: usize| format!("id={}&c=p{player}", id(&snap, "a.mp3"));
        for player in 0..MAX_PLAYERS + 5 {
            let params = Params::parse(Some(&query(player)), None);
            now_playing.notice_at(&snap, &params, t0).expect("notice");
        }
        let entries = playing(&now_playing, &snap, t0);
        assert_eq!(entries.len(), MAX_PLAYERS);
        assert!(entries[0].starts_with(&format!("\"p{}\"", MAX_PLAYERS + 4)));
        let relisted = snapshot(&[("b.mp3", Some(600))]);
        assert!(playing(&now_playing, &relisted, t0).is_empty());
    }

    #[test]
    fn get_user_answers_only_for_the_account() {
        let ok = user(&Params::parse(Some("username=ann"), None), "ann").expect("ann");
        let xml = render(Format::Xml, Ok(Some(&ok)), "v");
        assert!(
            xml.contains("<user username=\"ann\" scrobblingEnabled=\"true\""),
            "{xml}"
        );
        assert!(xml.contains("streamRole=\"true\"") && xml.contains("adminRole=\"false\""));
        assert!(user(&Params::parse(Some("username=bob"), None), "ann").is_err());
        assert!(user(&Params::parse(None, None), "ann").is_ok());
    }
}
