//! Memory maps of complete chunk files: the warm path hands slices of them to the HTTP body.
//!
//! # Why a map
//! hyper writes a response body from `Bytes` and has no sendfile path, so the cheapest warm
//! read is one with no `read()` at all: each complete chunk is mapped once (`mmap`, pages
//! populated on the blocking pool so the runtime threads do not take the disk faults) and
//! every piece of every response is a `Bytes` slice of that mapping (a reference count, no
//! copy, no thread hop). The [`super::store::Store`] keeps the last [`MAX_MAPPED`] maps with
//! their index entries, touched in the same LRU order, so a hot chunk is mapped once however
//! many requests read it; a map the store drops (LRU, eviction) is unmapped when the last
//! response slice of it goes. Where mapping fails (no address space, `vm.max_map_count`, a
//! file system without mmap) the chunk is read into memory once instead and not kept.
//!
//! # Why it is safe (SIGBUS)
//! Touching a mapped page that no longer exists in the file — the file was truncated under
//! the map, or the disk failed to read it back — raises SIGBUS, which kills the process; a
//! `read()` would have returned an error instead. So the mapped files must never shrink:
//! - Chunk files are immutable once named: written as `*.tmp` (never mapped), length-checked,
//!   made read-only (0444), then renamed into place. Nothing in this crate opens a complete
//!   chunk for writing, truncates one (`set_len`, `O_TRUNC`) or renames over one; eviction
//!   and the startup scan only unlink, which on Unix keeps the inode and every map of it
//!   intact until the last map goes. The length is checked on the open descriptor (`fstat`)
//!   before mapping, so the map never covers bytes past the end of the file.
//! - The cache folder belongs to the server. A second server on the same folder only unlinks
//!   and renames too. What is left is someone else truncating a file by hand (root, or the
//!   owner after a `chmod`) or an I/O error on the cache disk while a page is read back; those
//!   can kill the server, which is documented rather than guarded (no SIGBUS handler can
//!   resume the copy soundly). Populating the map reads the pages in up front, so the copy
//!   normally finds them resident, but populate ignores a failed read: a bad sector still
//!   surfaces at the copy. nginx's sendfile would get `EIO` there; this is the price of the
//!   map, for a folder the server owns on a disk that works.
//! - Who touches the pages: the kernel, when the connection writes vectored (`writev` from the
//!   map; a bad page is then `EFAULT` for that one response), or hyper's flatten copy into its
//!   write buffer when it does not. The LAN server's connection wrapper forwards vectored
//!   writes, so body pieces go to `writev` uncopied. Nothing else reads the bytes in user space.
//! - A chunk being filled is never mapped: its readers `pread` only the bytes written so far.

use std::io::{self, Read};
use std::path::Path;

use bytes::Bytes;
use memmap2::MmapOptions;

/// Maps the store keeps at most. Each is one kernel mapping (Linux allows 65,530 per process
/// by default) and one chunk of address space: 1 GiB at the default 1 MiB chunk. Mapped pages
/// are the page cache's own, so they count in the process's RSS (as file pages) but are not
/// extra memory.
pub const MAX_MAPPED: usize = 1024;

/// A complete chunk's bytes, and whether they are a map (worth keeping) or a copy.
pub struct ChunkBytes {
    pub bytes: Bytes,
    pub mapped: bool,
}

/// Opens the complete chunk at `path`, checks that it has `len` bytes and maps it (blocking:
/// run it on the blocking pool).
pub fn open(path: &Path, len: u64) -> io::Result<ChunkBytes> {
    let file = std::fs::File::open(path)?;
    let actual = file.metadata()?.len();
    if actual != len || len == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a cached chunk has {actual} bytes where the index says {len}"),
        ));
    }
    let n = usize::try_from(len).map_err(io::Error::other)?;
    // SAFETY: the map is read-only and covers exactly the `len` bytes the open file has now;
    // complete chunk files are never written, truncated or replaced in place (see the module
    // doc), so the bytes behind the map neither change nor go away while it lives.
    match unsafe { MmapOptions::new().len(n).populate().map(&file) } {
        Ok(map) => Ok(ChunkBytes {
            bytes: Bytes::from_owner(map),
            mapped: true,
        }),
        Err(err) => {
            tracing::debug!(error = %err, "cannot map a cached chunk; reading it instead");
            let mut buf = Vec::with_capacity(n);
            (&file).take(len).read_to_end(&mut buf)?;
            if buf.len() != n {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a cached chunk ended early",
                ));
            }
            Ok(ChunkBytes {
                bytes: Bytes::from(buf),
                mapped: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_exactly_the_named_length_and_refuses_a_mismatch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        let got = open(&path, data.len() as u64).expect("open");
        assert!(got.mapped);
        assert_eq!(got.bytes, data);
        let err = open(&path, 99_999)
            .err()
            .expect("a wrong length is refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // Unlinking a mapped file (eviction) leaves the map readable.
        std::fs::remove_file(&path).expect("unlink");
        assert_eq!(got.bytes.slice(5..10), data[5..10]);
        assert!(open(&path, 1).is_err(), "gone");
    }
}
