//! The Tauri commands: thin adapters from IPC to [`Desktop`] (one call each, errors as `{code, message}`).
//!
//! Every command here is listed in `build.rs` (the app manifest) and granted to the main
//! window by `capabilities/main-window.json`; nothing else is callable from the webview.
//! No reply carries a secret: settings say "set" / "not set", never a key.

use bucketstream_core::app::ConnectionReport;
use bucketstream_core::catalog::MediaItem;
use bucketstream_core::config::settings::{S3Form, SettingsView};
use serde::Serialize;
use tauri::ipc::Response;
use tauri::State;

use crate::error::IpcError;
use crate::lan::LanStatus;
use crate::state::{Desktop, EnvSource, ImportReport};

/// The library's items, the same JSON array as the LAN server's `/api/videos` (serialised
/// from the snapshot for each call; the snapshot keeps no serialised copy).
#[tauri::command]
pub fn list_library(state: State<'_, Desktop>) -> Response {
    items_response(&state)
}

/// Lists the source now, then answers like [`list_library`].
#[tauri::command]
pub async fn refresh_library(state: State<'_, Desktop>) -> Result<Response, IpcError> {
    state.library().refresh().await?;
    Ok(items_response(&state))
}

fn items_response(state: &Desktop) -> Response {
    let json = state.library().snapshot().to_json();
    Response::new(String::from_utf8(json).unwrap_or_default())
}

/// `http://127.0.0.1:PORT`, the prefix for items' `url` and for `/ws`.
#[tauri::command]
pub async fn media_base(state: State<'_, Desktop>) -> Result<String, IpcError> {
    Ok(state.media_base().await?)
}

/// The settings view.
#[tauri::command]
pub async fn get_settings(state: State<'_, Desktop>) -> Result<SettingsView, IpcError> {
    Ok(state.settings().await?)
}

/// Saves the S3 form (secret to the keyring) and switches the library to the bucket.
#[tauri::command]
pub async fn save_settings(
    state: State<'_, Desktop>,
    form: S3Form,
) -> Result<SettingsView, IpcError> {
    Ok(state.save_settings(form).await?)
}

/// Lists the bucket the form names once.
#[tauri::command]
pub async fn test_connection(
    state: State<'_, Desktop>,
    form: S3Form,
) -> Result<ConnectionReport, IpcError> {
    Ok(state.test_connection(form).await?)
}

/// Removes the credentials from the keyring.
#[tauri::command]
pub async fn forget_credentials(state: State<'_, Desktop>) -> Result<SettingsView, IpcError> {
    Ok(state.forget_credentials().await?)
}

/// Imports a seed-style `.env` (the secret goes to the keyring).
#[tauri::command]
pub async fn import_env(
    state: State<'_, Desktop>,
    source: EnvSource,
) -> Result<ImportReport, IpcError> {
    Ok(state.import_env(source).await?)
}

/// LAN URLs, client count and QR code.
#[tauri::command]
pub async fn lan_status(state: State<'_, Desktop>) -> Result<LanStatus, IpcError> {
    Ok(state.lan_status().await?)
}

/// Turns LAN sharing on or off and sets the port.
#[tauri::command]
pub async fn set_lan(
    state: State<'_, Desktop>,
    enabled: bool,
    port: Option<u16>,
) -> Result<LanStatus, IpcError> {
    Ok(state.set_lan(enabled, port).await?)
}

/// Turns the Subsonic API on (`password` given: the user name and password go to the OS
/// keyring) or off (`password` null: the stored sign-in is forgotten).
#[tauri::command]
pub async fn set_subsonic(
    state: State<'_, Desktop>,
    user: String,
    password: Option<String>,
) -> Result<LanStatus, IpcError> {
    Ok(state.set_subsonic(user, password).await?)
}

/// Makes a new Subsonic API key (kept in the OS keyring); the key, shown to the owner once.
#[tauri::command]
pub async fn new_subsonic_api_key(state: State<'_, Desktop>) -> Result<String, IpcError> {
    Ok(state.new_subsonic_api_key().await?)
}

/// Forgets the Subsonic API key.
#[tauri::command]
pub async fn forget_subsonic_api_key(state: State<'_, Desktop>) -> Result<LanStatus, IpcError> {
    Ok(state.forget_subsonic_api_key().await?)
}

/// Turns the DLNA media server on or off.
#[tauri::command]
pub async fn set_dlna(state: State<'_, Desktop>, enabled: bool) -> Result<LanStatus, IpcError> {
    Ok(state.set_dlna(enabled).await?)
}

/// What [`create_bucket`] did.
#[derive(Debug, Serialize)]
pub struct BucketCreated {
    /// The bucket's name.
    pub name: String,
    /// True when it is new; false when it existed and was already yours.
    pub created: bool,
}

/// Creates the bucket the form names, at the form's endpoint and region, with the typed
/// credentials or else the stored ones (the view then saves the form, selecting it).
#[tauri::command]
pub async fn create_bucket(
    state: State<'_, Desktop>,
    form: S3Form,
) -> Result<BucketCreated, IpcError> {
    Ok(state.create_bucket(form).await?)
}

/// Deletes item `id` (the object, or the file); every client sees it at once.
#[tauri::command]
pub async fn delete_item(state: State<'_, Desktop>, id: String) -> Result<(), IpcError> {
    Ok(state.library().delete_item(&id).await?)
}

/// Moves or renames item `id` (`folder` and `name` default to the item's own); the item at
/// its new key.
#[tauri::command]
pub async fn move_item(
    state: State<'_, Desktop>,
    id: String,
    folder: Option<String>,
    name: Option<String>,
) -> Result<MediaItem, IpcError> {
    Ok(state
        .library()
        .move_item(&id, folder.as_deref(), name.as_deref())
        .await?)
}
