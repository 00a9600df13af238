//! The host's folder paths are for the owner: a paired LAN client sees folder names in
//! `/api/health`, the refresh answer and error messages, never an absolute path.

use serde_json::Value;

use crate::lan_common::{client_from, lan_options, LanServer, LAN_IP};

const LOOPBACK: [u8; 4] = [127, 0, 0, 1];

async fn json(req: reqwest::RequestBuilder) -> Value {
    let resp = req.send().await.expect("send");
    resp.json().await.expect("json")
}

#[tokio::test]
async fn lan_clients_see_no_absolute_folder_path() {
    let home = tempfile::tempdir().expect("tempdir");
    let music = home.path().join("private-home").join("Music");
    std::fs::create_dir_all(&music).expect("mkdir");
    std::fs::write(music.join("a.mp3"), b"aaa").expect("write");
    let full = music.canonicalize().expect("canonical");
    let full = full.to_string_lossy().into_owned();
    let server = LanServer::start(&music, lan_options()).await;
    let key = server.key();
    let lan = || {
        client_from(LAN_IP)
            .get(server.url("/api/health"))
            .bearer_auth(&key)
    };

    // The owner (loopback, a trusted network) sees where the library is.
    let owner = json(client_from(LOOPBACK).get(server.url("/api/health"))).await;
    assert_eq!(owner["location"], full.as_str(), "{owner}");
    // A paired LAN client sees the folder's name only.
    let health = json(lan()).await;
    assert_eq!(health["location"], "Music", "{health}");
    let refresh = json(
        client_from(LAN_IP)
            .post(server.url("/api/refresh"))
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(refresh["location"], "Music", "{refresh}");
    assert!(!refresh.to_string().contains("private-home"), "{refresh}");

    // The folder goes away: the failure is reported without the path.
    std::fs::rename(&music, home.path().join("gone")).expect("rename");
    assert!(server.state.library.refresh().await.is_err());
    let health = json(lan()).await;
    assert_eq!(
        health["last_error"]["code"], "folder_unreadable",
        "{health}"
    );
    let message = health["last_error"]["message"].as_str().expect("message");
    assert!(message.contains("\"Music\""), "{message}");
    assert!(!health.to_string().contains("private-home"), "{health}");
    let owner = json(client_from(LOOPBACK).get(server.url("/api/health"))).await;
    assert!(
        !owner["last_error"].to_string().contains("private-home"),
        "error messages carry no path for anyone: {owner}"
    );
}
