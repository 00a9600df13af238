//! A copy in parts (UploadPartCopy) for the move of an object over 5 GiB, which one
//! CopyObject cannot copy.
//!
//! The parts are inclusive byte ranges of the source ([`copy_ranges`], pure and table-tested),
//! each copied inside the store (no byte passes through us), each conditional on the listed
//! ETag, so a source replaced during the copy fails the copy ([`crate::Error::Changed`]) instead
//! of splicing two versions. A copy that fails is aborted (AbortMultipartUpload): nothing
//! half-copied ever becomes visible at the target.

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use super::s3::{classify_copy, copy_source};
use crate::error::{Error, Result};
use crate::source::s3::{classify, S3Source};
use crate::source::ObjectMeta;

/// S3's smallest part (all but the last).
pub const MIN_PART: u64 = 5 << 20;

/// S3's most parts in one upload.
pub const MAX_PARTS: u64 = 10_000;

/// The part size of a copy in parts: 1 GiB (a 5 TiB object, S3's largest, is 5,120 parts).
pub const COPY_PART: u64 = 1 << 30;

/// The inclusive byte ranges of an object of `size` bytes in parts of `part` bytes (at least
/// [`MIN_PART`]); refused when that would be more than [`MAX_PARTS`] parts.
pub fn copy_ranges(size: u64, part: u64) -> Result<Vec<(u64, u64)>> {
    let part = part.max(MIN_PART);
    let count = size.div_ceil(part);
    if count > MAX_PARTS {
        return Err(Error::TooLargeToCopy(format!(
            "{size} bytes would take more than {MAX_PARTS} parts of {part} bytes"
        )));
    }
    Ok((0..count)
        .map(|n| (n * part, ((n + 1) * part).min(size) - 1))
        .collect())
}

impl S3Source {
    /// Copies `from` (as listed) to `to` in parts of `part` bytes; the new object's ETag.
    pub(super) async fn copy_in_parts(
        &self,
        from: &ObjectMeta,
        to: &str,
        part: u64,
    ) -> Result<Option<String>> {
        let ranges = copy_ranges(from.size, part)?;
        let started = self
            .client()
            .create_multipart_upload()
            .bucket(self.bucket())
            .key(to)
            .send()
            .await
            .map_err(|e| classify(e, self.bucket()))?;
        let upload_id = started
            .upload_id()
            .ok_or_else(|| Error::Upstream("CreateMultipartUpload gave no upload id".into()))?
            .to_owned();
        let copied = self.copy_parts(from, to, &upload_id, &ranges).await;
        if copied.is_err() {
            // Nothing half-copied stays behind (a failure here is only logged: the store
            // expires abandoned uploads by its own lifecycle rules too).
            if let Err(err) = self
                .client()
                .abort_multipart_upload()
                .bucket(self.bucket())
                .key(to)
                .upload_id(&upload_id)
                .send()
                .await
            {
                tracing::warn!(key = to, error = %classify(err, self.bucket()), "cannot abort a failed copy");
            }
        }
        copied
    }

    async fn copy_parts(
        &self,
        from: &ObjectMeta,
        to: &str,
        upload_id: &str,
        ranges: &[(u64, u64)],
    ) -> Result<Option<String>> {
        let source = copy_source(self.bucket(), &from.key);
        let mut parts = Vec::with_capacity(ranges.len());
        for (n, (start, end)) in ranges.iter().enumerate() {
            let number =
                i32::try_from(n + 1).map_err(|_| Error::TooLargeToCopy("too many parts".into()))?;
            let mut req = self
                .client()
                .upload_part_copy()
                .bucket(self.bucket())
                .key(to)
                .upload_id(upload_id)
                .part_number(number)
                .copy_source(&source)
                .copy_source_range(format!("bytes={start}-{end}"));
            if let Some(etag) = &from.etag {
                req = req.copy_source_if_match(etag);
            }
            let out = req
                .send()
                .await
                .map_err(|e| classify_copy(e, self.bucket()))?;
            let etag = out
                .copy_part_result()
                .and_then(|r| r.e_tag())
                .ok_or_else(|| Error::Upstream(format!("UploadPartCopy {number} gave no ETag")))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .e_tag(etag)
                    .build(),
            );
        }
        let done = self
            .client()
            .complete_multipart_upload()
            .bucket(self.bucket())
            .key(to)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| classify(e, self.bucket()))?;
        Ok(done.e_tag().map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(size, part, ranges)`.
    type Case = (u64, u64, &'static [(u64, u64)]);

    #[test]
    fn ranges_table() {
        const MIB: u64 = 1 << 20;
        let cases: &[Case] = &[
            (0, MIN_PART, &[]),
            (1, MIN_PART, &[(0, 0)]),
            (5 * MIB, MIN_PART, &[(0, 5 * MIB - 1)]),
            (
                5 * MIB + 1,
                MIN_PART,
                &[(0, 5 * MIB - 1), (5 * MIB, 5 * MIB)],
            ),
            (
                12 * MIB,
                1,
                &[
                    (0, 5 * MIB - 1),
                    (5 * MIB, 10 * MIB - 1),
                    (10 * MIB, 12 * MIB - 1),
                ],
            ),
        ];
        for (size, part, want) in cases {
            assert_eq!(
                copy_ranges(*size, *part).expect("ranges"),
                *want,
                "{size} {part}"
            );
        }
        // 5 TiB, S3's largest object, in 1 GiB parts: 5,120 parts covering every byte.
        let big = 5u64 << 40;
        let ranges = copy_ranges(big, COPY_PART).expect("ranges");
        assert_eq!(ranges.len(), 5120);
        assert_eq!(ranges.last(), Some(&(big - COPY_PART, big - 1)));
        assert!(ranges.windows(2).all(|w| w[0].1 + 1 == w[1].0));
        // More than 10,000 parts is refused, not attempted.
        assert!(copy_ranges(10_001 * MIN_PART, MIN_PART).is_err());
        assert!(copy_ranges(u64::MAX, MIN_PART).is_err());
    }
}
