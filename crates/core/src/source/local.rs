//! Local folders as a library: recursive, hidden files skipped, symlinks never escape a root.
//!
//! This is the embedded default (no cloud account needed) and the fixture for tests of the
//! server without S3. Keys are `/`-separated paths relative to the root; with several roots,
//! each key starts with its root's folder name.

use std::io::SeekFrom;
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::{ObjectBody, ObjectMeta};
use crate::error::{Error, Result};
use crate::media;

/// Buffer size for file reads: large enough for efficient streaming, small enough for many clients.
const READ_CHUNK: usize = 64 * 1024;

/// One served folder.
#[derive(Debug, Clone)]
struct Root {
    /// Key prefix for this root (`""` when it is the only root).
    label: String,
    /// Canonical path: the boundary no served file may leave.
    path: PathBuf,
}

/// Local folders.
#[derive(Debug, Clone)]
pub struct LocalSource {
    roots: Vec<Root>,
}

impl LocalSource {
    /// Checks that every root is a readable folder.
    pub fn new(roots: &[PathBuf]) -> Result<LocalSource> {
        let mut out: Vec<Root> = Vec::new();
        for dir in roots {
            let folder_err = |reason: String| Error::Folder {
                path: dir.clone(),
                reason,
            };
            let path = dir.canonicalize().map_err(|e| folder_err(e.to_string()))?;
            if !path.is_dir() {
                return Err(folder_err("not a folder".into()));
            }
            std::fs::read_dir(&path).map_err(|e| folder_err(e.to_string()))?;
            let base = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "root".into());
            let mut label = base.clone();
            let mut n = 2;
            while out.iter().any(|r| r.label == label) {
                label = format!("{base}-{n}");
                n += 1;
            }
            out.push(Root { label, path });
        }
        if out.is_empty() {
            return Err(Error::Config("no media folder given".into()));
        }
        if out.len() == 1 {
            out[0].label.clear();
        }
        Ok(LocalSource { roots: out })
    }

    /// The folders, for display.
    pub fn describe(&self) -> String {
        let paths: Vec<String> = self
            .roots
            .iter()
            .map(|r| r.path.display().to_string())
            .collect();
        paths.join(", ")
    }

    /// The roots as `(label, canonical folder)`: a key starts with `label/` when there are
    /// several roots (the label is empty for a single root). Uploads write beneath them.
    pub fn roots(&self) -> Vec<(String, PathBuf)> {
        self.roots
            .iter()
            .map(|r| (r.label.clone(), r.path.clone()))
            .collect()
    }

    /// Walks every root on a blocking thread.
    pub async fn list(&self) -> Result<Vec<ObjectMeta>> {
        let roots = self.roots.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for root in &roots {
                walk(root, &mut out)?;
            }
            Ok(out)
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
    }

    /// Maps a key to its root and the path relative to it, refusing anything but plain,
    /// visible components (no `..`, no absolute path, no hidden name).
    fn resolve<'a>(&'a self, key: &'a str) -> Result<(&'a Root, &'a Path)> {
        let (root, rel) = if self.roots.len() == 1 {
            (&self.roots[0], key)
        } else {
            let (label, rel) = key.split_once('/').ok_or(Error::NotFound)?;
            let root = self
                .roots
                .iter()
                .find(|r| r.label == label)
                .ok_or(Error::NotFound)?;
            (root, rel)
        };
        let rel = Path::new(rel);
        let clean = rel.components().all(|c| match c {
            Component::Normal(part) => !part.to_string_lossy().starts_with('.'),
            _ => false,
        });
        if !clean || rel.as_os_str().is_empty() {
            return Err(Error::NotFound);
        }
        Ok((root, rel))
    }

    /// The canonical root folder of `key` and its path relative to that root (plain, visible
    /// components only), for the writes of [`super::manage`].
    pub(crate) fn locate<'a>(&'a self, key: &'a str) -> Result<(&'a Path, &'a Path)> {
        let (root, rel) = self.resolve(key)?;
        Ok((&root.path, rel))
    }

    /// Opens a file (or an inclusive range of it) as a stream.
    ///
    /// The file is opened first and checked after (see the `beneath` module): a symlink or a FIFO
    /// swapped in after the listing is never followed out of the root nor blocks a thread.
    pub async fn open(
        &self,
        key: &str,
        etag: Option<&str>,
        range: Option<(u64, u64)>,
    ) -> Result<ObjectBody> {
        let (root, rel) = self.resolve(key)?;
        let (root, rel) = (root.path.clone(), rel.to_owned());
        let (file, meta) = tokio::task::spawn_blocking(move || open_file(&root, &rel))
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        let mut file = tokio::fs::File::from_std(file);
        if let Some(want) = etag {
            if etag_of(&meta) != want {
                return Err(Error::Changed);
            }
        }
        let (start, len) = match range {
            Some((start, end)) if end >= start && end < meta.len() => (start, end - start + 1),
            Some(_) => return Err(Error::Changed),
            None => (0, meta.len()),
        };
        file.seek(SeekFrom::Start(start)).await?;
        let stream = ReaderStream::with_capacity(file.take(len), READ_CHUNK);
        Ok(ObjectBody {
            stream: Box::pin(stream),
            len,
        })
    }
}

/// Opens `rel` beneath `root`, refusing anything that is not a regular file inside it.
#[cfg(unix)]
fn open_file(root: &Path, rel: &Path) -> Result<(std::fs::File, std::fs::Metadata)> {
    beneath::open_beneath(root, rel)
}

/// Without `openat`: resolve, check the prefix, open (racy where links can be swapped).
#[cfg(not(unix))]
fn open_file(root: &Path, rel: &Path) -> Result<(std::fs::File, std::fs::Metadata)> {
    let path = root.join(rel).canonicalize().map_err(|_| Error::NotFound)?;
    if !path.starts_with(root) {
        return Err(Error::NotFound);
    }
    let file = std::fs::File::open(&path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::NotFound);
    }
    Ok((file, meta))
}

/// The file `key` as a listing shows it (what the server puts in the catalog after writing it).
pub fn object_meta(key: String, meta: &std::fs::Metadata) -> ObjectMeta {
    ObjectMeta {
        key,
        size: meta.len(),
        etag: Some(etag_of(meta)),
        last_modified: meta.modified().ok(),
    }
}

/// A strong validator for a local file: size and modification time.
pub(crate) fn etag_of(meta: &std::fs::Metadata) -> String {
    let nanos = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("\"{:x}-{:x}\"", meta.len(), nanos)
}

fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
}

/// Whether `entry` is a link to a folder that is not beneath `root` (or cannot be resolved).
fn leaves_root(entry: &walkdir::DirEntry, root: &Path) -> bool {
    if !entry.path_is_symlink() || !entry.file_type().is_dir() {
        return false;
    }
    let inside = entry
        .path()
        .canonicalize()
        .is_ok_and(|real| real.starts_with(root));
    if !inside {
        tracing::debug!(path = %entry.path().display(), "folder link leaves the library root; not walked");
    }
    !inside
}

fn walk(root: &Root, out: &mut Vec<ObjectMeta>) -> Result<()> {
    // A root that vanished is a failed listing, not an empty library.
    std::fs::read_dir(&root.path).map_err(|e| Error::Folder {
        path: root.path.clone(),
        reason: e.to_string(),
    })?;
    // Links are followed (users link albums within their library), but a link to a folder
    // outside the root is not descended into: `filter_entry` runs before the descent.
    let walker = walkdir::WalkDir::new(&root.path)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| !is_hidden(e) && !leaves_root(e, &root.path));
    for entry in walker {
        // Unreadable subfolders and symlink loops are skipped, not fatal.
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(real) = entry.path().canonicalize() else {
            continue;
        };
        if !real.starts_with(&root.path) {
            tracing::debug!(path = %entry.path().display(), "symlink leaves the library root; skipped");
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&root.path) else {
            continue;
        };
        let Some(rel) = rel.to_str() else {
            continue; // not UTF-8: cannot be a key
        };
        let rel = rel.replace(std::path::MAIN_SEPARATOR, "/");
        // Media, and what the catalog keeps aside (folder art, subtitle files).
        if media::classify(&rel).is_none() && !media::kept_aside(&rel) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let key = if root.label.is_empty() {
            rel
        } else {
            format!("{}/{rel}", root.label)
        };
        out.push(object_meta(key, &meta));
    }
    Ok(())
}

#[cfg(unix)]
mod beneath;
#[cfg(test)]
mod tests;
