//! Gives memory freed by large, short-lived work back to the system: the whole list streamed
//! (hundreds of MB of JSON at 1,000,000 items, made a chunk at a time) or gzipped, and the
//! database's page cache after the library's records are loaded (SQLite allocates with the C
//! library's malloc whatever allocator the program uses).
//!
//! glibc's allocator keeps freed blocks of its per-thread arenas resident; `malloc_trim(0)`
//! returns those pages. A mitigation only: at 1,000,000 items the process still held about
//! 1 GiB after one plain and one gzipped whole list (see the report of issue #15), which this
//! did not change; where that memory stays is not found yet. Elsewhere than glibc, a no-op.

/// Returns freed heap memory to the system (glibc on Linux; nothing elsewhere). On the
/// blocking pool when there is a runtime (it walks every arena), else here.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        fn trim() {
            // SAFETY: malloc_trim only returns unused pages of the allocator's own heaps to
            // the kernel; it touches no memory the program holds.
            unsafe { libc::malloc_trim(0) };
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(trim)),
            Err(_) => trim(),
        }
    }
}
