//! `bucketstream-desktop`: opens Bucketstream's window (see the library crate for everything else).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything else (and any thread): it sets WebKit's environment.
    let rendering = bucketstream_desktop::rendering::choose();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BUCKETSTREAM_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // A closed stderr (a pipe whose reader left, a stopped terminal) must not stop the
        // server: by default the subscriber reports a failed write with eprintln!, which
        // panics when stderr is gone.
        .log_internal_errors(false)
        .init();
    tracing::info!(?rendering, "WebKit rendering");
    match bucketstream_desktop::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bucketstream-desktop: {err}");
            ExitCode::FAILURE
        }
    }
}
