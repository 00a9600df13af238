//! The S3 sink's staging files: the bytes of each part not yet uploaded, one file per part
//! (`ID.N.part` in the store's folder), so a part is uploaded from disk and never held in
//! memory, and a restart finds exactly the parts still to send.
//!
//! Part `N` holds the upload's bytes from `(N - 1) * part_size`. Writes fill the current part's
//! file up to `part_size` and go on in the next one, so a body of any length costs one body
//! frame of memory. The acknowledged offset counts only bytes that were fsync'd.

use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::error::Result;

/// S3's smallest part (all but the last).
pub const MIN_PART: u64 = 5 << 20;
/// S3's most parts per upload.
pub const MAX_PARTS: u64 = 10_000;
/// S3's largest part.
pub const MAX_PART: u64 = 5 << 30;

/// The part size for an upload of `length` bytes: at least 5 MiB, so that at most 10,000
/// parts hold it, rounded up to a whole MiB (and never above S3's 5 GiB part limit).
pub fn part_size(length: u64) -> u64 {
    const MIB: u64 = 1 << 20;
    let need = length.div_ceil(MAX_PARTS);
    let rounded = need.div_ceil(MIB).saturating_mul(MIB);
    rounded.clamp(MIN_PART, MAX_PART)
}

/// The staging files of one upload.
#[derive(Debug, Clone)]
pub struct Staging {
    dir: PathBuf,
    id: String,
    part_size: u64,
}

impl Staging {
    /// The staging files of upload `id` in `dir`.
    pub fn new(dir: &Path, id: &str, part_size: u64) -> Staging {
        Staging {
            dir: dir.to_owned(),
            id: id.to_owned(),
            part_size,
        }
    }

    /// The file of part `number`.
    pub fn path(&self, number: i32) -> PathBuf {
        self.dir.join(format!("{}.{number}.part", self.id))
    }

    /// The part size.
    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// Makes the files agree with `acked` staged bytes (bytes after the uploaded parts, from
    /// part `first`): each file truncated to what was acknowledged, files past it removed.
    /// Returns the staged bytes really on disk (less than `acked` only if a disk lied about
    /// an fsync).
    pub async fn recover(&self, first: i32, acked: u64) -> Result<u64> {
        let mut left = acked;
        let mut have = 0;
        let mut broken = false;
        // Writes are contiguous: the first missing file ends the staged bytes.
        for number in first..first.saturating_add(MAX_PARTS as i32 + 1) {
            let path = self.path(number);
            let len = match tokio::fs::metadata(&path).await {
                Ok(m) => m.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => return Err(e.into()),
            };
            let keep = if broken {
                0
            } else {
                len.min(left).min(self.part_size)
            };
            if keep == 0 {
                tokio::fs::remove_file(&path).await?;
            } else if keep < len {
                let file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .await?;
                file.set_len(keep).await?;
                file.sync_all().await?;
            }
            // A part shorter than it should be: nothing after it counts.
            broken |= keep < self.part_size.min(left);
            have += keep;
            left -= keep;
        }
        Ok(have)
    }

    /// Appends `data` at staged position `staged` (bytes already staged from part `first`),
    /// filling parts in turn, in one hop to the blocking pool. Returns the new staged length.
    pub async fn write(&self, first: i32, staged: u64, data: Bytes) -> Result<u64> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.write_blocking(first, staged, &data))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    }

    fn write_blocking(&self, first: i32, mut staged: u64, mut data: &[u8]) -> Result<u64> {
        while !data.is_empty() {
            let index = staged / self.part_size;
            let within = staged % self.part_size;
            let room = usize::try_from(self.part_size - within).unwrap_or(usize::MAX);
            let take = room.min(data.len());
            let number = first + i32::try_from(index).unwrap_or(i32::MAX - first);
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(number))?;
            file.write_all(&data[..take])?;
            staged += take as u64;
            data = &data[take..];
        }
        Ok(staged)
    }

    /// Fsyncs the files holding `staged` bytes from part `first`.
    pub async fn sync(&self, first: i32, staged: u64) -> Result<()> {
        let files = staged.div_ceil(self.part_size);
        for i in 0..files {
            let number = first + i32::try_from(i).unwrap_or(0);
            let file = tokio::fs::OpenOptions::new()
                .write(true)
                .open(self.path(number))
                .await?;
            file.sync_all().await?;
        }
        Ok(())
    }

    /// Cuts the staged bytes back to `keep` (a chunk whose checksum failed).
    pub async fn truncate(&self, first: i32, staged: u64, keep: u64) -> Result<()> {
        let files = staged.div_ceil(self.part_size);
        for i in 0..files {
            let number = first + i32::try_from(i).unwrap_or(0);
            let start = i * self.part_size;
            let path = self.path(number);
            if keep <= start {
                let _ = tokio::fs::remove_file(&path).await;
            } else if keep < start + self.part_size {
                let file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .await?;
                file.set_len(keep - start).await?;
            }
        }
        Ok(())
    }

    /// Removes every staging file of the upload.
    pub async fn remove_all(&self) {
        let prefix = format!("{}.", self.id);
        let Ok(mut entries) = tokio::fs::read_dir(&self.dir).await else {
            return;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(&prefix) && name.ends_with(".part") {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes_table() {
        const MIB: u64 = 1 << 20;
        let cases = [
            (0, 5 * MIB),
            (1, 5 * MIB),
            (200 * MIB, 5 * MIB),
            (50_000 * MIB, 5 * MIB),
            (50_000 * MIB + 1, 6 * MIB),
            (50 << 30, 6 * MIB),
            (1 << 40, 105 * MIB),
            (u64::MAX, 5 << 30),
        ];
        for (length, want) in cases {
            let size = part_size(length);
            assert_eq!(size, want, "{length}");
            assert_eq!(size % MIB, 0);
            if length <= MAX_PARTS * MAX_PART {
                assert!(length.div_ceil(size) <= MAX_PARTS, "{length}");
            }
        }
    }

    #[tokio::test]
    async fn writes_fill_parts_in_turn_and_recover_to_what_was_acknowledged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Staging::new(dir.path(), "x", 4);
        let staged = s
            .write(3, 0, Bytes::from_static(b"abcdefghij"))
            .await
            .expect("write");
        assert_eq!(staged, 10);
        assert_eq!(std::fs::read(s.path(3)).expect("3"), b"abcd");
        assert_eq!(std::fs::read(s.path(4)).expect("4"), b"efgh");
        assert_eq!(std::fs::read(s.path(5)).expect("5"), b"ij");
        let staged = s
            .write(3, staged, Bytes::from_static(b"k"))
            .await
            .expect("write");
        s.sync(3, staged).await.expect("sync");
        // Only 6 bytes were acknowledged: part 4 is cut to 2 bytes, part 5 goes.
        assert_eq!(s.recover(3, 6).await.expect("recover"), 6);
        assert_eq!(std::fs::read(s.path(4)).expect("4"), b"ef");
        assert!(!s.path(5).exists());
        s.truncate(3, 6, 3).await.expect("truncate");
        assert_eq!(std::fs::read(s.path(3)).expect("3"), b"abc");
        assert!(!s.path(4).exists());
        // A file lost: only what is contiguous counts.
        assert_eq!(s.recover(3, 9).await.expect("recover"), 3);
        s.remove_all().await;
        assert!(!s.path(3).exists());
    }
}
