//! The desktop window's paged library (issue #15): above `lan.paging_threshold` the player asks
//! for pages and folder levels instead of the whole list, through these commands. They run the
//! core's own query and folder functions on the snapshot, exactly as the LAN server's
//! `GET /api/videos?…` and `GET /api/folders?…` do, and take the same query strings.

use bucketstream_core::catalog::{folders, query};
use bucketstream_core::error::ErrorCode;
use serde::Serialize;
use tauri::ipc::Response;
use tauri::State;

use crate::error::IpcError;
use crate::state::Desktop;

/// The library's size and the threshold above which the player pages (`/api/health`'s
/// `count`, `generation` and `paging_threshold`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct LibraryState {
    /// Items in the snapshot.
    pub count: usize,
    /// The snapshot's generation.
    pub generation: u64,
    /// `lan.paging_threshold`.
    pub paging_threshold: usize,
}

/// The library's count and generation, and the paging threshold.
#[tauri::command]
pub fn library_state(state: State<'_, Desktop>) -> LibraryState {
    let snap = state.library().snapshot();
    LibraryState {
        count: snap.items.len(),
        generation: snap.generation,
        paging_threshold: state.paging_threshold(),
    }
}

/// One page of the library for `query`, a query string as `/api/videos` takes it
/// (`limit`, `offset`, `q`, `folder`, `under`, `kind`, `sort`): `{total, items, generation}`.
#[tauri::command]
pub async fn query_library(state: State<'_, Desktop>, query: String) -> Result<Response, IpcError> {
    let snap = state.library().snapshot();
    let parsed = query::parse(&pairs(&query))
        .map_err(|bad| bad_query(bad.0))?
        .unwrap_or_default();
    let json =
        tokio::task::spawn_blocking(move || serde_json::to_string(&query::run(&snap, &parsed)))
            .await
            .map_err(|e| internal(e.to_string()))?
            .map_err(|e| internal(e.to_string()))?;
    Ok(Response::new(json))
}

/// The subfolders of a folder with their counts, for `query` as `/api/folders` takes it
/// (`under`, `kind`): `{generation, under, items, folders: [{name, path, count}]}`.
#[tauri::command]
pub async fn library_folders(
    state: State<'_, Desktop>,
    query: String,
) -> Result<Response, IpcError> {
    let snap = state.library().snapshot();
    let parsed = folders::parse(&pairs(&query)).map_err(bad_query)?;
    let json = tokio::task::spawn_blocking(move || {
        serde_json::to_string(&folders::subfolders(&snap, &parsed))
    })
    .await
    .map_err(|e| internal(e.to_string()))?
    .map_err(|e| internal(e.to_string()))?;
    Ok(Response::new(json))
}

/// The percent-decoded pairs of a query string (`a=1&b=x+y`).
pub fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .into_owned()
        .collect()
}

fn bad_query(message: String) -> IpcError {
    IpcError {
        code: ErrorCode::BadQuery,
        message,
    }
}

fn internal(message: String) -> IpcError {
    IpcError {
        code: ErrorCode::Internal,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_decoded() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("?q=a+b&folder=", &[("q", "a b"), ("folder", "")]),
            ("under=J%C3%A9r%C3%B4me%2Flive", &[("under", "Jérôme/live")]),
            ("sort=-size&limit=10", &[("sort", "-size"), ("limit", "10")]),
        ];
        for (query, want) in cases {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(pairs(query), want, "{query}");
        }
    }
}
