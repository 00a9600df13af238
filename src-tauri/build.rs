//! Build script: tauri-build with an app manifest, so the app's commands are checked against capabilities.

/// Every command the app exposes; each gets an `allow-<name>` permission.
const COMMANDS: &[&str] = &[
    "list_library",
    "refresh_library",
    "media_base",
    "get_settings",
    "save_settings",
    "test_connection",
    "forget_credentials",
    "import_env",
    "lan_status",
    "set_lan",
    "set_subsonic",
    "new_subsonic_api_key",
    "forget_subsonic_api_key",
    "set_dlna",
    "create_bucket",
    "delete_item",
    "move_item",
    "library_state",
    "query_library",
    "library_folders",
];

fn main() {
    // The UI is embedded at compile time: a new file under ui/ must trigger a rebuild.
    println!("cargo:rerun-if-changed=../ui");
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    let attrs = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attrs).expect("tauri-build failed");
}
