//! The folder of converted subtitles: one WebVTT file per item version and track, named by a
//! hash of both (so no file name ever comes from a key), written whole under a temporary name
//! and renamed into place, and kept under a byte cap by removing the oldest files first.
//! Losing it loses nothing: every file can be made again from the source.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// The cap on the folder's WebVTT, in bytes (a film's subtitles are about 100 KiB).
pub(super) const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The folder and its cap.
pub(super) struct VttStore {
    dir: PathBuf,
    max_bytes: u64,
    /// Writes and evictions one at a time.
    write: tokio::sync::Mutex<()>,
}

impl VttStore {
    /// A store in `dir` (made on the first write) holding at most `max_bytes`.
    pub(super) fn new(dir: PathBuf, max_bytes: u64) -> VttStore {
        VttStore {
            dir,
            max_bytes,
            write: tokio::sync::Mutex::new(()),
        }
    }

    /// The WebVTT stored as `name` (a hex hash), if any.
    pub(super) async fn get(&self, name: &str) -> Option<Arc<str>> {
        let path = self.dir.join(format!("{name}.vtt"));
        tokio::fs::read_to_string(path).await.ok().map(Arc::from)
    }

    /// Stores `text` as `name`, then removes the oldest files while the folder is over its
    /// cap. Failures are logged only: the answer is served anyway, just not kept.
    pub(super) async fn put(&self, name: &str, text: &str) {
        if text.len() as u64 > self.max_bytes {
            return;
        }
        let _one = self.write.lock().await;
        let dir = self.dir.clone();
        let name = name.to_owned();
        let text = text.to_owned();
        let max = self.max_bytes;
        let done = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, dir.join(format!("{name}.vtt")))?;
            evict(&dir, max)
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "cannot keep converted subtitles"),
            Err(err) => tracing::warn!(error = %err, "the subtitle store task failed"),
        }
    }
}

/// Removes the oldest `.vtt` files of `dir` until they hold at most `max` bytes.
fn evict(dir: &std::path::Path, max: u64) -> std::io::Result<()> {
    let mut files: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("vtt") {
            continue;
        }
        let meta = entry.metadata()?;
        let at = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        files.push((at, meta.len(), path));
    }
    let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= max {
            break;
        }
        std::fs::remove_file(&path)?;
        total -= len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_and_keeps_under_the_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = VttStore::new(dir.path().join("subs"), 25);
        assert!(store.get("a").await.is_none());
        store.put("a", "WEBVTT\n\n0123456789").await;
        assert_eq!(
            store.get("a").await.as_deref(),
            Some("WEBVTT\n\n0123456789")
        );
        // Over the cap together: the older goes (the name breaks a tie of times).
        store.put("b", "WEBVTT\n\nabcdefghij").await;
        assert!(store.get("a").await.is_none());
        assert!(store.get("b").await.is_some());
        // Larger than the cap alone: not kept.
        store.put("c", &"x".repeat(26)).await;
        assert!(store.get("c").await.is_none());
        assert!(store.get("b").await.is_some());
    }
}
