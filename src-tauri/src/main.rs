//! `bucketstream-desktop`: opens Bucketstream's window (see the library crate for everything else).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything else (and any thread): it sets WebKit's environment.
    let rendering = bucketstream_desktop::rendering::choose();
    bucketstream_core::app::init_tracing();
    tracing::info!(?rendering, "WebKit rendering");
    match bucketstream_desktop::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bucketstream-desktop: {err}");
            ExitCode::FAILURE
        }
    }
}
