//! Delete, rename and move of files in a local library folder, never leaving its root.
//!
//! Each path is walked one folder at a time from a descriptor of the root, every component
//! opened with `O_NOFOLLOW`: a link anywhere on the way is refused (a write never follows a
//! link, in or out of the root), and a folder swapped for a link after a check cannot
//! redirect the write. The file itself is checked against the ETag the catalog listed (a file
//! replaced since is not deleted or moved). A move never overwrites: `renameat2` with
//! `RENAME_NOREPLACE` (or `link` then `unlink` where the filesystem lacks it) to the name, or
//! to `name (2).ext`, `name (3).ext`… up to [`MAX_NUMBERED`], each attempt atomic.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, CWD};
use rustix::io::Errno;

use super::names::numbered;
use crate::error::{Error, Result};
use crate::source::local::etag_of;

/// How many numbered names a move tries before giving up (`name (2)` … `name (1000)`).
pub const MAX_NUMBERED: u32 = 1000;

/// Folders a move creates get these permissions (before the umask).
const FOLDER_MODE: u32 = 0o755;

/// A file found for a write: its folder's descriptor, its name, and what it is now.
struct Found {
    dir: OwnedFd,
    name: Vec<u8>,
    meta: std::fs::Metadata,
}

fn io(e: Errno) -> Error {
    Error::Io(e.into())
}

/// Opens the folder `rel` (plain components) beneath `root`, creating missing folders when
/// `create`; a link or a file on the way is refused.
fn open_dir(root: &Path, rel: Option<&Path>, create: bool) -> Result<OwnedFd> {
    let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC;
    let mut dir = rustix::fs::openat(CWD, root, flags, Mode::empty()).map_err(io)?;
    for part in rel.into_iter().flat_map(Path::components) {
        let Component::Normal(name) = part else {
            return Err(Error::NameInvalid(
                "a path leaves the library folder".into(),
            ));
        };
        let next = match rustix::fs::openat(&dir, name, flags, Mode::empty()) {
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(FOLDER_MODE)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(io(e)),
                }
                rustix::fs::openat(&dir, name, flags, Mode::empty())
            }
            other => other,
        };
        dir = match next {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Err(Error::NotFound),
            Err(Errno::LOOP | Errno::NOTDIR) => {
                return Err(Error::NameInvalid(format!(
                    "{:?} is a link or a file, not a folder; links are not written through",
                    name.to_string_lossy()
                )))
            }
            Err(e) => return Err(io(e)),
        };
    }
    Ok(dir)
}

/// Finds the regular file `rel` beneath `root`, as listed with `etag` (when given).
fn find(root: &Path, rel: &Path, etag: Option<&str>) -> Result<Found> {
    let name = rel.file_name().ok_or(Error::NotFound)?;
    let dir = open_dir(root, rel.parent(), false)?;
    let fd = rustix::fs::openat(
        &dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::NOENT => Error::NotFound,
        Errno::LOOP => Error::NameInvalid(format!(
            "{:?} is a link; change it in a file manager",
            name.to_string_lossy()
        )),
        e => io(e),
    })?;
    let meta = File::from(fd).metadata()?;
    if !meta.is_file() {
        return Err(Error::NotFound);
    }
    if etag.is_some_and(|want| etag_of(&meta) != want) {
        return Err(Error::Changed);
    }
    Ok(Found {
        dir,
        name: name.as_bytes().to_vec(),
        meta,
    })
}

/// Deletes the file `rel` beneath `root` if it is still as listed (`etag`). Blocking.
pub fn delete(root: &Path, rel: &Path, etag: Option<&str>) -> Result<()> {
    let found = find(root, rel, etag)?;
    rustix::fs::unlinkat(&found.dir, OsStr::from_bytes(&found.name), AtFlags::empty()).map_err(
        |e| match e {
            Errno::NOENT => Error::NotFound,
            e => io(e),
        },
    )
}

/// Moves the file `from` (beneath `from_root`, as listed with `etag`) to `to` (beneath
/// `to_root`, the same root for a move inside one library folder), creating its folders;
/// never overwrites: when `to`'s name is taken the first free `name (n).ext` is used.
/// Returns the file name used and the file's metadata (unchanged by the move). Blocking.
pub fn move_file(
    from_root: &Path,
    from: &Path,
    etag: Option<&str>,
    to_root: &Path,
    to: &Path,
) -> Result<(String, std::fs::Metadata)> {
    let found = find(from_root, from, etag)?;
    let to_name = to
        .file_name()
        .and_then(OsStr::to_str)
        .ok_or_else(|| Error::NameInvalid("the new name is empty".into()))?;
    if from_root == to_root && from == to {
        return Ok((to_name.to_owned(), found.meta));
    }
    let dest = open_dir(to_root, to.parent(), true)?;
    let old = OsStr::from_bytes(&found.name);
    for n in 1..=MAX_NUMBERED {
        let candidate = numbered(to_name, n);
        match place(&found.dir, old, &dest, &candidate) {
            Ok(()) => return Ok((candidate, found.meta)),
            Err(Errno::EXIST) => continue,
            Err(Errno::XDEV) => {
                return Err(Error::NameInvalid(
                    "a file cannot move between two library folders on different disks".into(),
                ))
            }
            Err(Errno::NOENT) => return Err(Error::NotFound),
            Err(e) => return Err(io(e)),
        }
    }
    Err(Error::TargetExists(format!(
        "{to_name} and {MAX_NUMBERED} numbered names after it"
    )))
}

/// Renames `old` in `from` to `new` in `to` unless `new` exists (`EEXIST` then).
fn place(from: &OwnedFd, old: &OsStr, to: &OwnedFd, new: &str) -> rustix::io::Result<()> {
    match rustix::fs::renameat_with(from, old, to, new, RenameFlags::NOREPLACE) {
        // Filesystems without RENAME_NOREPLACE: a hard link fails on an existing name too.
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
            rustix::fs::linkat(from, old, to, new, AtFlags::empty())?;
            rustix::fs::unlinkat(from, old, AtFlags::empty())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, body: &[u8]) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
    }

    #[test]
    fn moves_without_overwriting_and_creates_folders() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().canonicalize().expect("canonical");
        write(&root, "a.mp3", b"a");
        write(&root, "x/a.mp3", b"x");
        write(&root, "x/a (2).mp3", b"x2");
        let (name, _) =
            move_file(&root, "a.mp3".as_ref(), None, &root, "x/a.mp3".as_ref()).expect("move");
        assert_eq!(name, "a (3).mp3");
        assert_eq!(std::fs::read(root.join("x/a.mp3")).expect("kept"), b"x");
        assert_eq!(
            std::fs::read(root.join("x/a (2).mp3")).expect("kept"),
            b"x2"
        );
        assert_eq!(
            std::fs::read(root.join("x/a (3).mp3")).expect("moved"),
            b"a"
        );
        assert!(!root.join("a.mp3").exists());
        let (name, _) = move_file(
            &root,
            "x/a (3).mp3".as_ref(),
            None,
            &root,
            "new/deep/b.mp3".as_ref(),
        )
        .expect("move into new folders");
        assert_eq!(name, "b.mp3");
        assert_eq!(
            std::fs::read(root.join("new/deep/b.mp3")).expect("moved"),
            b"a"
        );
    }

    #[test]
    fn links_are_never_written_through_and_changed_files_are_kept() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("outside");
        let root = tmp.path().canonicalize().expect("canonical");
        write(&root, "a.mp3", b"a");
        std::os::unix::fs::symlink(outside.path(), root.join("out")).expect("link");
        let err = move_file(&root, "a.mp3".as_ref(), None, &root, "out/a.mp3".as_ref())
            .expect_err("through a link");
        assert_eq!(err.code(), "name_invalid");
        assert!(std::fs::read_dir(outside.path())
            .expect("dir")
            .next()
            .is_none());
        write(outside.path(), "secret.mp3", b"s");
        std::os::unix::fs::symlink(outside.path().join("secret.mp3"), root.join("s.mp3"))
            .expect("link");
        assert_eq!(
            delete(&root, "s.mp3".as_ref(), None)
                .expect_err("a link")
                .code(),
            "name_invalid"
        );
        assert!(outside.path().join("secret.mp3").exists());
        assert_eq!(
            delete(&root, "out/secret.mp3".as_ref(), None)
                .expect_err("through a link")
                .code(),
            "name_invalid"
        );
        assert!(outside.path().join("secret.mp3").exists());
        assert_eq!(
            delete(&root, "a.mp3".as_ref(), Some("\"0-0\""))
                .expect_err("changed")
                .code(),
            "changed"
        );
        delete(&root, "a.mp3".as_ref(), None).expect("delete");
        assert!(!root.join("a.mp3").exists());
        assert_eq!(
            delete(&root, "a.mp3".as_ref(), None)
                .expect_err("gone")
                .code(),
            "not_found"
        );
    }
}
