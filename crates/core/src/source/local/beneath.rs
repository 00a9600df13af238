//! Opens a file beneath a library root so that what is opened is what was checked.
//!
//! Resolving a path with `canonicalize` and then opening it leaves a window in which someone
//! who can write into the folder swaps a component for a symlink to a file outside the root
//! (or for a FIFO, whose `open` blocks a thread until a writer appears). Here the path is walked
//! one component at a time from a descriptor of the root, each component opened with
//! `O_NOFOLLOW` relative to the descriptor of its parent, so no step can leave the root
//! behind our back; the file itself is opened with `O_NONBLOCK` (a FIFO cannot block the
//! open) and `fstat`ed, and anything but a regular file is refused.
//!
//! Symlinks inside the library are followed by hand: a relative target is resolved against
//! the directories already walked (`..` may not climb above the root), an absolute one must
//! lie beneath the root's canonical path (then it is walked again from the root, the same
//! way). Users do link albums within their library with `ln -s "$PWD/..."`, which is why this
//! is not `openat2(RESOLVE_BENEATH)`: that refuses every absolute link. One code path on
//! every kernel, a few system calls per path component.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;

use crate::error::{Error, Result};

/// Links followed in one resolution before giving up (the kernel's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// How an intermediate directory is opened: `O_PATH` where it exists (needs only search
/// permission and never opens the object for I/O), else read-only.
#[cfg(any(target_os = "linux", target_os = "android"))]
const DIR_FLAGS: OFlags = OFlags::PATH;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const DIR_FLAGS: OFlags = OFlags::RDONLY;

/// Opens `rel` (a relative path of normal components) beneath the folder `root` (a
/// canonical path) for reading. Blocking: call it from a blocking thread.
///
/// Errors: [`Error::NotFound`] when the path does not exist, leaves the root, loops, or is not
/// a regular file (a folder, a FIFO, a device, a socket); [`Error::Io`] for other failures.
pub fn open_beneath(root: &Path, rel: &Path) -> Result<(File, std::fs::Metadata)> {
    let root_fd = rustix::fs::openat(
        CWD,
        root,
        OFlags::DIRECTORY | DIR_FLAGS | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io)?;
    // Components still to walk, the next one last.
    let mut todo: Vec<Vec<u8>> = Vec::new();
    push_components(&mut todo, rel)?;
    // The directories walked so far, the root first: `..` pops one.
    let mut dirs: Vec<OwnedFd> = vec![root_fd];
    let mut links = 0;
    while let Some(name) = todo.pop() {
        let name = OsStr::from_bytes(&name);
        if name == ".." {
            if dirs.len() == 1 {
                return Err(Error::NotFound); // would climb out of the root
            }
            dirs.pop();
            continue;
        }
        let parent = dirs.last().ok_or(Error::NotFound)?;
        let last = todo.is_empty();
        let opened = if last {
            open_file(parent, name)
        } else {
            rustix::fs::openat(
                parent,
                name,
                OFlags::DIRECTORY | OFlags::NOFOLLOW | DIR_FLAGS | OFlags::CLOEXEC,
                Mode::empty(),
            )
        };
        match opened {
            Ok(fd) if last => {
                let file = File::from(fd);
                let meta = file.metadata()?;
                if !meta.file_type().is_file() {
                    // Swapped in after the check in `open_file`: still never read.
                    return Err(Error::NotFound);
                }
                return Ok((file, meta));
            }
            Ok(fd) => dirs.push(fd),
            // A symlink (ELOOP from O_NOFOLLOW; ENOTDIR when O_DIRECTORY is checked first).
            Err(Errno::LOOP | Errno::NOTDIR) => {
                let target = match rustix::fs::readlinkat(parent, name, Vec::new()) {
                    Ok(target) => target,
                    // Not a link after all: a file where a folder was expected.
                    Err(Errno::INVAL | Errno::NOENT) => return Err(Error::NotFound),
                    Err(e) => return Err(io(e)),
                };
                links += 1;
                if links > MAX_LINKS {
                    return Err(Error::NotFound);
                }
                let target = Path::new(OsStr::from_bytes(target.as_bytes()));
                if target.is_absolute() {
                    // Only a link into this root is followed, walked again from the root.
                    // canonicalize only proposes a path: the walk below checks every step.
                    let real = target.canonicalize().map_err(|_| Error::NotFound)?;
                    let inside = real.strip_prefix(root).map_err(|_| Error::NotFound)?;
                    dirs.truncate(1);
                    push_components(&mut todo, inside)?;
                } else {
                    push_components(&mut todo, target)?;
                }
            }
            Err(Errno::NOENT) => return Err(Error::NotFound),
            Err(e) => return Err(io(e)),
        }
    }
    // An empty path, or one that ended on `..`: the root itself is not a file.
    Err(Error::NotFound)
}

/// Opens the last component: refused unless it is a regular file, checked before the open
/// (so a FIFO or a device is never opened) and again on the opened descriptor by the caller.
fn open_file(parent: &OwnedFd, name: &OsStr) -> rustix::io::Result<OwnedFd> {
    let stat = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)?;
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => {}
        FileType::Symlink => return Err(Errno::LOOP),
        _ => return Err(Errno::NOENT),
    }
    rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Queues the components of `path` (which must be relative) so that the first is walked next.
fn push_components(todo: &mut Vec<Vec<u8>>, path: &Path) -> Result<()> {
    let mut parts = Vec::new();
    for part in path.components() {
        match part {
            Component::Normal(name) => parts.push(name.as_bytes().to_vec()),
            Component::ParentDir => parts.push(b"..".to_vec()),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return Err(Error::NotFound),
        }
    }
    todo.extend(parts.into_iter().rev());
    Ok(())
}

fn io(e: Errno) -> Error {
    Error::Io(e.into())
}
