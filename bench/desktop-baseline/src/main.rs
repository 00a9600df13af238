//! The smallest Tauri 2 app, as a memory and start-up baseline for the desktop app.
//!
//! It logs the same "page loaded … since_start_ms=Some(N)" line as the desktop app, so
//! `src-tauri/tests/measure.sh` measures both the same way.

fn main() {
    let start = std::time::Instant::now();
    let app = tauri::Builder::default()
        .on_page_load(move |_window, payload| {
            if let tauri::webview::PageLoadEvent::Finished = payload.event() {
                println!(
                    "page loaded since_start_ms=Some({})",
                    start.elapsed().as_millis()
                );
            }
        })
        .run(tauri::generate_context!());
    if let Err(err) = app {
        eprintln!("desktop-baseline: {err}");
        std::process::exit(1);
    }
}
