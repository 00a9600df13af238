//! Resume positions (`/api/items/{id}/position`) and Subsonic bookmarks are one thing: a
//! bookmark made through `/rest/createBookmark` is the position the LAN API answers, a position
//! the player PUTs is the bookmark `getBookmarks` lists (keeping its Subsonic comment), and
//! either side's delete is seen by the other. Also Subsonic's `setRating` and the
//! `getAlbumList2` type it feeds (`highest`). Over a local folder read by the real media
//! library (its SQLite database), with raw HTTP as a Subsonic client sends it.

use bucketstream_core::config::SubsonicAccount;
use bucketstream_core::secret::Sensitive;
use serde_json::Value;

use crate::common::http;
use crate::subsonic::{fixtures, start_with, Running};

const USER: &str = "ann";
const PASSWORD: &str = "positions";

/// `/rest/{method}` with plain-password auth and JSON; the `subsonic-response` object.
async fn rest(server: &Running, method: &str, query: &str) -> Value {
    let url = format!(
        "http://{}/rest/{method}?u={USER}&p={PASSWORD}&v=1.16.1&c=it&f=json&{query}",
        server.addr
    );
    let body: Value = http()
        .get(url)
        .send()
        .await
        .expect("rest")
        .json()
        .await
        .expect("json");
    let answer = body["subsonic-response"].clone();
    assert_eq!(answer["status"], "ok", "{method}: {answer}");
    answer
}

/// The id of the item at `key`.
async fn id_of(server: &Running, key: &str) -> String {
    let items: Value = http()
        .get(format!("http://{}/api/videos", server.addr))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    items
        .as_array()
        .and_then(|all| all.iter().find(|i| i["key"] == key))
        .and_then(|i| i["id"].as_str())
        .unwrap_or_else(|| panic!("no item {key} in {items}"))
        .to_owned()
}

/// `METHOD /api/items/{id}/position` with an optional JSON body: (status, body).
async fn position(
    server: &Running,
    method: reqwest::Method,
    id: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = http().request(
        method,
        format!("http://{}/api/items/{id}/position", server.addr),
    );
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let resp = req.send().await.expect("position");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

/// `getBookmarks` as (position, comment, title) triples.
async fn bookmarks(server: &Running) -> Vec<(u64, Option<String>, String)> {
    let answer = rest(server, "getBookmarks", "").await;
    answer["bookmarks"]["bookmark"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|b| {
                    (
                        b["position"].as_u64().expect("position"),
                        b["comment"].as_str().map(str::to_owned),
                        b["entry"]["title"].as_str().expect("title").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subsonic_bookmarks_are_the_players_resume_positions() {
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    fixtures(root.path());
    let server = start_with(root.path(), data.path(), true, |lan| {
        lan.subsonic = Some(SubsonicAccount {
            user: USER.into(),
            password: Sensitive::new(PASSWORD.into()),
            api_key: None,
        })
    })
    .await;
    let so_what = id_of(&server, "Jazz/Miles Davis/Kind of Blue/01 So What.mp3").await;
    let freddie = id_of(
        &server,
        "Jazz/Miles Davis/Kind of Blue/02 Freddie Freeloader.mp3",
    )
    .await;
    use reqwest::Method;

    // Nothing yet: both sides say so.
    let (status, none) = position(&server, Method::GET, &so_what, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        none,
        serde_json::json!({"id": so_what, "position_ms": null, "changed_ms": null})
    );
    assert_eq!(bookmarks(&server).await, []);

    // A phone bookmarks So What at 61 s: the player's position is there.
    rest(
        &server,
        "createBookmark",
        &format!("id={so_what}&position=61000&comment=solo"),
    )
    .await;
    let (status, got) = position(&server, Method::GET, &so_what, None).await;
    assert_eq!((status, got["position_ms"].as_u64()), (200, Some(61_000)));
    assert!(got["changed_ms"].as_u64().is_some_and(|ms| ms > 0), "{got}");

    // The player moves it to 75.5 s: the phone's bookmark moves, its comment stays.
    let (status, moved) = position(
        &server,
        Method::PUT,
        &so_what,
        Some(r#"{"position_ms": 75500}"#),
    )
    .await;
    assert_eq!((status, moved["position_ms"].as_u64()), (200, Some(75_500)));
    // The player pauses Freddie Freeloader at 12 s: a new bookmark for the phone.
    let (status, _) = position(
        &server,
        Method::PUT,
        &freddie,
        Some(r#"{"position_ms": 12000}"#),
    )
    .await;
    assert_eq!(status, 200);
    let mut marks = bookmarks(&server).await;
    marks.sort();
    assert_eq!(
        marks,
        [
            (12_000, None, "Freddie Freeloader".to_owned()),
            (75_500, Some("solo".to_owned()), "So What".to_owned()),
        ]
    );

    // The player finishes So What (DELETE): the phone no longer has it.
    let (status, gone) = position(&server, Method::DELETE, &so_what, None).await;
    assert_eq!((status, gone["position_ms"].clone()), (200, Value::Null));
    assert_eq!(
        bookmarks(&server).await,
        [(12_000, None, "Freddie Freeloader".to_owned())]
    );
    // The phone deletes Freddie's: the player starts it from the top.
    rest(&server, "deleteBookmark", &format!("id={freddie}")).await;
    let (_, got) = position(&server, Method::GET, &freddie, None).await;
    assert_eq!(got["position_ms"], Value::Null);

    // Bad input: a clear error, nothing lost.
    rest(
        &server,
        "createBookmark",
        &format!("id={freddie}&position=3000"),
    )
    .await;
    for (body, kind) in [
        (r#"{"position_ms": -5}"#, "negative"),
        (r#"{"position_ms": "soon"}"#, "text"),
        (r#"{"position": 5}"#, "unknown field"),
        ("not json", "not JSON"),
    ] {
        let (status, err) = position(&server, Method::PUT, &freddie, Some(body)).await;
        assert_eq!(status, 400, "{kind}: {err}");
        assert_eq!(err["error"]["code"], "malformed", "{kind}: {err}");
    }
    let resp = http()
        .put(format!(
            "http://{}/api/items/{freddie}/position",
            server.addr
        ))
        .header("content-type", "text/plain")
        .body(r#"{"position_ms": 1}"#)
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 400, "a body not sent as JSON");
    let (_, kept) = position(&server, Method::GET, &freddie, None).await;
    assert_eq!(kept["position_ms"].as_u64(), Some(3_000), "nothing lost");
    let (status, err) = position(
        &server,
        Method::GET,
        "0123456789abcdef0123456789abcdef",
        None,
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = position(
        &server,
        Method::PUT,
        "0123456789abcdef0123456789abcdef",
        Some(r#"{"position_ms": 1}"#),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn without_the_media_library_positions_are_404() {
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    std::fs::write(root.path().join("a.mp3"), b"not really").expect("file");
    let server = start_with(root.path(), data.path(), false, |_| {}).await;
    let id = id_of(&server, "a.mp3").await;
    let (status, err) = position(&server, reqwest::Method::GET, &id, None).await;
    assert_eq!(status, 404);
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("off on this server")),
        "{err}"
    );
}

/// The album list of `type` as album names.
async fn album_list(server: &Running, kind: &str) -> Vec<(String, Option<u64>)> {
    let answer = rest(server, "getAlbumList2", &format!("type={kind}&size=50")).await;
    answer["albumList2"]["album"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|a| {
                    (
                        a["name"].as_str().expect("name").to_owned(),
                        a["userRating"].as_u64(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_rating_orders_the_highest_albums() {
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    fixtures(root.path());
    let server = start_with(root.path(), data.path(), true, |lan| {
        lan.subsonic = Some(SubsonicAccount {
            user: USER.into(),
            password: Sensitive::new(PASSWORD.into()),
            api_key: None,
        })
    })
    .await;
    assert_eq!(
        album_list(&server, "highest").await,
        [],
        "nothing rated yet"
    );
    let albums = rest(&server, "getAlbumList2", "type=alphabeticalByName").await;
    let id = |name: &str| {
        albums["albumList2"]["album"]
            .as_array()
            .and_then(|all| all.iter().find(|a| a["name"] == name))
            .and_then(|a| a["id"].as_str())
            .unwrap_or_else(|| panic!("no album {name}: {albums}"))
            .to_owned()
    };
    let (abbey, blue) = (id("Abbey Road"), id("Kind of Blue"));
    rest(&server, "setRating", &format!("id={abbey}&rating=3")).await;
    rest(&server, "setRating", &format!("id={blue}&rating=5")).await;
    assert_eq!(
        album_list(&server, "highest").await,
        [
            ("Kind of Blue".to_owned(), Some(5)),
            ("Abbey Road".to_owned(), Some(3))
        ]
    );
    // Equal ratings: the more played album first.
    rest(&server, "setRating", &format!("id={blue}&rating=3")).await;
    let come_together = id_of(&server, "Rock/The Beatles/Abbey Road/01 Come Together.mp3").await;
    rest(&server, "scrobble", &format!("id={come_together}")).await;
    assert_eq!(
        album_list(&server, "highest").await,
        [
            ("Abbey Road".to_owned(), Some(3)),
            ("Kind of Blue".to_owned(), Some(3))
        ]
    );
    // A song can be rated too; 0 removes a rating; 6 is refused (error 0), no rating is 10.
    rest(
        &server,
        "setRating",
        &format!("id={come_together}&rating=4"),
    )
    .await;
    rest(&server, "setRating", &format!("id={abbey}&rating=0")).await;
    assert_eq!(
        album_list(&server, "highest").await,
        [("Kind of Blue".to_owned(), Some(3))]
    );
    let url = |q: &str| {
        format!(
            "http://{}/rest/setRating?u={USER}&p={PASSWORD}&f=json&{q}",
            server.addr
        )
    };
    for (q, code) in [
        (format!("id={blue}&rating=6"), 0),
        (format!("id={blue}"), 10),
        ("id=nope&rating=1".to_owned(), 70),
    ] {
        let body: Value = http()
            .get(url(&q))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(
            body["subsonic-response"]["error"]["code"], code,
            "{q}: {body}"
        );
    }
    assert_eq!(
        album_list(&server, "highest").await,
        [("Kind of Blue".to_owned(), Some(3))],
        "a refused rating changed nothing"
    );
}
