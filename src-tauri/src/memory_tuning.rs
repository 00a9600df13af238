//! Idle memory of the app process: a one-shot heap trim once start-up is over (Linux/glibc).
//!
//! Start-up allocates and frees a few MiB in the app process (settings, library scan, asset
//! decompression, GTK and WebKit set-up); glibc's allocator keeps that freed memory. Once
//! start-up is over ([`TRIM_AFTER`]), [`trim_heap`] hands it back to the kernel
//! (`malloc_trim(0)`): about 2-3 MiB of the app's idle footprint (src-tauri/MEASUREMENTS.md).
//! WebKit's own processes allocate mostly with WebKit's allocator and are not touched.
//!
//! `BUCKETSTREAM_MEMORY_TUNING=off` leaves it out (for measuring the difference).

use std::time::Duration;

/// The variable that turns the trim off (`off`, `0` or `false`).
pub const TUNING_VAR: &str = "BUCKETSTREAM_MEMORY_TUNING";

/// How long after the app is built (window created) the heap is trimmed (start-up, first page load and
/// the UI's first commands are over by then: the page loads in about 0.5 s).
pub const TRIM_AFTER: Duration = Duration::from_secs(5);

/// Whether the tuning is on for this process (see [`TUNING_VAR`]).
pub fn enabled_in_process() -> bool {
    enabled(std::env::var(TUNING_VAR).ok().as_deref())
}

/// Whether the tuning applies, given the value of [`TUNING_VAR`].
pub fn enabled(value: Option<&str>) -> bool {
    !matches!(value.map(str::trim), Some("off" | "0" | "false"))
}

/// Schedules [`trim_heap`] [`TRIM_AFTER`] from now on Tauri's async runtime (unless the
/// tuning is off).
pub fn schedule_trim() {
    if !enabled_in_process() {
        return;
    }
    tauri::async_runtime::spawn(async {
        tokio::time::sleep(TRIM_AFTER).await;
        match tokio::task::spawn_blocking(trim_heap).await {
            Ok(true) => tracing::info!("heap trimmed after start-up"),
            Ok(false) => tracing::debug!("heap trim: nothing to give back"),
            Err(err) => tracing::warn!(%err, "heap trim task failed"),
        }
    });
}

/// Returns free heap memory to the kernel (glibc's `malloc_trim(0)`); whether any was
/// returned. Always `false` where the C library is not glibc.
pub fn trim_heap() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: malloc_trim takes no pointer, is thread-safe (it locks every arena) and
        // only releases memory that is free in the allocator.
        unsafe { malloc_trim(0) != 0 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_unless_turned_off() {
        assert!(enabled(None));
        assert!(enabled(Some("on")));
        assert!(enabled(Some("")));
        assert!(!enabled(Some("off")));
        assert!(!enabled(Some(" 0 ")));
        assert!(!enabled(Some("false")));
    }

    #[test]
    fn trim_heap_is_safe_to_call() {
        let garbage: Vec<Vec<u8>> = (0..64).map(|_| vec![1u8; 64 * 1024]).collect();
        drop(garbage);
        trim_heap();
        trim_heap();
    }
}
