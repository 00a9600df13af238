//! The local-folder sink: the upload is written to a hidden temporary file in the target
//! folder (`.NAME.ID.upload`: the library never lists hidden files), fsync'd, and renamed to
//! its name without overwriting anything (`name (2).mp3` when `name.mp3` exists), then the
//! folder is fsync'd.
//!
//! Every folder is opened from the root one component at a time with `O_NOFOLLOW` (and
//! created with `mkdirat` when missing), so a link planted in the tree cannot lead a write out
//! of the root; the temporary file is kept across a restart so the upload resumes, and removed
//! when the upload is terminated or expires.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

/// Most ` (N)` variants tried before giving up.
const MAX_VARIANTS: u32 = 999;

fn io_err(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// The temporary file's name for upload `id` of `filename`.
pub fn temp_name(filename: &str, id: &str) -> String {
    format!(".{filename}.{id}.upload")
}

/// Opens the folder `folder` beneath `root`, component by component without following a
/// link, creating missing ones when `create`.
fn open_folder(root: &Path, folder: &[String], create: bool) -> io::Result<OwnedFd> {
    let dir_flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
    let mut dir = rfs::open(root, dir_flags, Mode::empty()).map_err(io_err)?;
    for part in folder {
        if create {
            match rfs::mkdirat(&dir, part.as_str(), Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        dir = rfs::openat(
            &dir,
            part.as_str(),
            dir_flags | OFlags::NOFOLLOW,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::LOOP | Errno::NOTDIR => io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{part:?} is not a folder of the library (a link or a file)"),
            ),
            e => io_err(e),
        })?;
    }
    Ok(dir)
}

/// Creates the folder and an empty temporary file (blocking).
pub fn create(root: &Path, folder: &[String], temp: &str) -> io::Result<()> {
    let dir = open_folder(root, folder, true)?;
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let file = rfs::openat(&dir, temp, flags, Mode::from_raw_mode(0o644)).map_err(io_err)?;
    File::from(file).sync_all()?;
    rfs::fsync(&dir).map_err(io_err)
}

/// Opens the temporary file for writing, cut to the acknowledged `offset` (blocking).
pub fn open_temp(root: &Path, folder: &[String], temp: &str, offset: u64) -> io::Result<File> {
    let dir = open_folder(root, folder, false)?;
    let flags = OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let file = File::from(rfs::openat(&dir, temp, flags, Mode::empty()).map_err(io_err)?);
    let len = file.metadata()?.len();
    if len < offset {
        return Err(io::Error::other(format!(
            "the temporary file holds {len} bytes, {offset} were acknowledged"
        )));
    }
    file.set_len(offset)?;
    Ok(file)
}

/// `name (n).ext` for the `n`th variant of `filename` (`n` from 2).
pub fn variant(filename: &str, n: u32) -> String {
    match filename.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{filename} ({n})"),
    }
}

/// Renames `to` without replacing: `renameat2(RENAME_NOREPLACE)`, or where the file system
/// lacks it, a hard link then an unlink (`link` never replaces either).
fn rename_noreplace(dir: &OwnedFd, from: &str, to: &str) -> Result<(), Errno> {
    match rfs::renameat_with(dir, from, dir, to, RenameFlags::NOREPLACE) {
        Err(Errno::INVAL) | Err(Errno::NOSYS) => {
            rfs::linkat(dir, from, dir, to, rfs::AtFlags::empty())?;
            rfs::unlinkat(dir, from, rfs::AtFlags::empty())
        }
        other => other,
    }
}

/// Moves the complete temporary file to `filename`, or its first free variant, without
/// overwriting; fsyncs the folder. The final name and its metadata (blocking).
pub fn finish(
    root: &Path,
    folder: &[String],
    temp: &str,
    filename: &str,
) -> io::Result<(String, std::fs::Metadata)> {
    let dir = open_folder(root, folder, false)?;
    let file = File::from(
        rfs::openat(
            &dir,
            temp,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(io_err)?,
    );
    file.sync_all()?;
    for n in 1..=MAX_VARIANTS {
        let name = if n == 1 {
            filename.to_owned()
        } else {
            variant(filename, n)
        };
        match rename_noreplace(&dir, temp, &name) {
            Ok(()) => {
                rfs::fsync(&dir).map_err(io_err)?;
                return Ok((name, file.metadata()?));
            }
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(io_err(e)),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{filename:?} and its first {MAX_VARIANTS} variants all exist"),
    ))
}

/// Removes the temporary file (a missing one is fine) (blocking).
pub fn remove(root: &Path, folder: &[String], temp: &str) -> io::Result<()> {
    let dir = match open_folder(root, folder, false) {
        Ok(dir) => dir,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    match rfs::unlinkat(&dir, temp, rfs::AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(io_err(e)),
    }
}

/// The root's folder as a path (for messages and tests).
pub fn folder_path(root: &Path, folder: &[String]) -> PathBuf {
    folder.iter().fold(root.to_owned(), |p, s| p.join(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_keep_the_extension() {
        assert_eq!(variant("a.mp3", 2), "a (2).mp3");
        assert_eq!(variant("a.b.flac", 3), "a.b (3).flac");
        assert_eq!(variant("noext", 2), "noext (2)");
    }

    #[test]
    fn writes_beneath_the_root_never_overwrite_never_follow_links() {
        let root = tempfile::tempdir().expect("root");
        let outside = tempfile::tempdir().expect("outside");
        let folder = vec!["Artist".to_owned(), "Album".to_owned()];
        let temp = temp_name("a.mp3", "id1");
        create(root.path(), &folder, &temp).expect("create");
        {
            use std::io::Write;
            let mut f = open_temp(root.path(), &folder, &temp, 0).expect("open");
            f.write_all(b"first").expect("write");
        }
        let (name, meta) = finish(root.path(), &folder, &temp, "a.mp3").expect("finish");
        assert_eq!((name.as_str(), meta.len()), ("a.mp3", 5));

        let temp2 = temp_name("a.mp3", "id2");
        create(root.path(), &folder, &temp2).expect("create");
        let (name, _) = finish(root.path(), &folder, &temp2, "a.mp3").expect("finish");
        assert_eq!(name, "a (2).mp3");
        let dir = folder_path(root.path(), &folder);
        assert_eq!(std::fs::read(dir.join("a.mp3")).expect("first"), b"first");

        // A link in the tree is not followed, whether to create or to write.
        std::os::unix::fs::symlink(outside.path(), root.path().join("out")).expect("link");
        let err = create(root.path(), &["out".to_owned()], &temp_name("x.mp3", "3"))
            .expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert_eq!(std::fs::read_dir(outside.path()).expect("dir").count(), 0);

        // A file where a folder is expected is refused, too; removing twice is fine.
        std::fs::write(root.path().join("file"), b"x").expect("file");
        assert!(create(root.path(), &["file".to_owned()], "t").is_err());
        remove(root.path(), &folder, &temp2).expect("gone already");
        remove(root.path(), &["nowhere".to_owned()], "t").expect("no folder");
    }
}
