//! Bucket creation, delete and move (CopyObject, then DeleteObject) on an S3 store.
//!
//! Every name is checked before a request ([`super::bucket_name`], [`super::names`]); every
//! store error is classified into an error a person can act on (a name taken by another
//! account, an invalid name, access denied), and a move never splices two versions: the copy
//! is conditional on the ETag the catalog listed.

use std::time::SystemTime;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_s3::Client;

use super::{bucket_name, s3_parts};
use crate::error::{Error, Result};
use crate::source::s3::{classify, S3Source};
use crate::source::ObjectMeta;

/// The largest object one CopyObject copies (5 GiB); larger ones are copied in parts.
pub const MAX_COPY_BYTES: u64 = 5 << 30;

/// What [`create_bucket`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The bucket is new.
    New,
    /// It existed already and belongs to these credentials (S3's `BucketAlreadyOwnedByYou`).
    AlreadyYours,
}

/// Creates bucket `name` with `client`, in the client's region: with that region as the
/// location constraint, except for `us-east-1` (which S3 wants without one). The name is
/// checked first ([`bucket_name::check`]); nothing is sent for an invalid name. A HeadBucket
/// that succeeds first means the bucket is already the caller's.
///
/// Errors: [`Error::BucketNameInvalid`] (before any request, or S3's `InvalidBucketName`),
/// [`Error::BucketTaken`] (another account's), the access errors of
/// [`crate::source::s3`] otherwise.
pub async fn create_bucket(client: &Client, name: &str) -> Result<Created> {
    bucket_name::check(name).map_err(|e| Error::BucketNameInvalid(e.to_string()))?;
    // A bucket these credentials can already see is theirs: some stores (Garage) answer a
    // CreateBucket of one's own bucket with a plain 200, which would read as "created".
    if client.head_bucket().bucket(name).send().await.is_ok() {
        return Ok(Created::AlreadyYours);
    }
    let region = client.config().region().map(|r| r.as_ref().to_owned());
    let mut req = client.create_bucket().bucket(name);
    if let Some(constraint) = location_constraint(region.as_deref()) {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(constraint))
                .build(),
        );
    }
    match req.send().await {
        Ok(_) => Ok(Created::New),
        Err(err) => match err.code() {
            Some("BucketAlreadyOwnedByYou") => Ok(Created::AlreadyYours),
            Some("BucketAlreadyExists") => Err(Error::BucketTaken(name.to_owned())),
            Some("InvalidBucketName") => Err(Error::BucketNameInvalid(format!(
                "the store refused {name:?}: {}",
                err.message().unwrap_or("InvalidBucketName")
            ))),
            _ => Err(classify(err, name)),
        },
    }
}

/// The location constraint for `region`: none for `us-east-1` (or no region), else the region.
pub fn location_constraint(region: Option<&str>) -> Option<&str> {
    region.filter(|r| !r.is_empty() && *r != "us-east-1")
}

/// `bucket/key` URL-encoded for `x-amz-copy-source`: every byte but the unreserved ones and
/// `/` percent-encoded (RFC 3986), so keys with spaces, `%`, `?`, `#`, `+` or Unicode copy.
pub fn copy_source(bucket: &str, key: &str) -> String {
    let mut out = String::with_capacity(bucket.len() + key.len() + 8);
    for b in bucket
        .bytes()
        .chain(std::iter::once(b'/'))
        .chain(key.bytes())
    {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl S3Source {
    /// Creates the configured bucket when HeadBucket says it is missing (`--create-bucket`);
    /// `None` when it existed.
    pub async fn ensure_bucket(&self) -> Result<Option<Created>> {
        match self
            .client()
            .head_bucket()
            .bucket(self.bucket())
            .send()
            .await
        {
            Ok(_) => Ok(None),
            Err(SdkError::ServiceError(se)) if se.raw().status().as_u16() == 404 => {
                create_bucket(self.client(), self.bucket()).await.map(Some)
            }
            Err(err) => Err(classify(err, self.bucket())),
        }
    }

    /// Deletes `key` (DeleteObject; deleting a key that is already gone succeeds).
    pub async fn delete_object(&self, key: &str) -> Result<()> {
        self.client()
            .delete_object()
            .bucket(self.bucket())
            .key(key)
            .send()
            .await
            .map_err(|e| classify(e, self.bucket()))?;
        Ok(())
    }

    /// Whether `key` exists (HeadObject).
    async fn exists(&self, key: &str) -> Result<bool> {
        match self
            .client()
            .head_object()
            .bucket(self.bucket())
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se)) if se.raw().status().as_u16() == 404 => Ok(false),
            Err(err) => Err(classify(err, self.bucket())),
        }
    }

    /// Moves `from` (as listed: its ETag and size) to key `to`: CopyObject (for objects over
    /// [`MAX_COPY_BYTES`], a copy in parts: [`super::s3_parts`]), conditional on the listed
    /// ETag, then DeleteObject of the old key. Returns the object at its new key.
    ///
    /// An existing `to` is never overwritten knowingly: HeadObject checks first. That is best
    /// effort: S3 has no conditional CopyObject on the target's absence, so an object written
    /// to `to` by someone else between the check and the copy is replaced.
    pub async fn move_object(&self, from: &ObjectMeta, to: &str) -> Result<ObjectMeta> {
        self.move_object_with(from, to, MAX_COPY_BYTES, s3_parts::COPY_PART)
            .await
    }

    /// [`S3Source::move_object`] with the size above which the copy goes in parts, and the
    /// part size (at least 5 MiB): lets a test move a 12 MiB object in parts.
    pub async fn move_object_with(
        &self,
        from: &ObjectMeta,
        to: &str,
        single_max: u64,
        part: u64,
    ) -> Result<ObjectMeta> {
        if from.key == to {
            return Ok(from.clone());
        }
        if self.exists(to).await? {
            return Err(Error::TargetExists(to.to_owned()));
        }
        let (etag, modified) = if from.size > single_max.min(MAX_COPY_BYTES) {
            (self.copy_in_parts(from, to, part).await?, None)
        } else {
            self.copy_whole(from, to).await?
        };
        let moved = ObjectMeta {
            key: to.to_owned(),
            size: from.size,
            etag: etag.or(from.etag.clone()),
            last_modified: modified.or(Some(SystemTime::now())),
        };
        // The copy is in place: a failed delete leaves two copies (reported), never none.
        self.delete_object(&from.key).await?;
        Ok(moved)
    }

    /// One CopyObject: the new ETag and modification time.
    async fn copy_whole(
        &self,
        from: &ObjectMeta,
        to: &str,
    ) -> Result<(Option<String>, Option<SystemTime>)> {
        let mut copy = self
            .client()
            .copy_object()
            .bucket(self.bucket())
            .key(to)
            .copy_source(copy_source(self.bucket(), &from.key));
        if let Some(etag) = &from.etag {
            copy = copy.copy_source_if_match(etag);
        }
        let copied = copy
            .send()
            .await
            .map_err(|e| classify_copy(e, self.bucket()))?;
        let result = copied.copy_object_result();
        Ok((
            result.and_then(|r| r.e_tag()).map(str::to_owned),
            result
                .and_then(|r| r.last_modified())
                .and_then(|t| SystemTime::try_from(*t).ok()),
        ))
    }
}

/// Classifies a copy's failure: a failed `x-amz-copy-source-if-match` means the source changed.
pub(super) fn classify_copy<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    bucket: &str,
) -> Error {
    let status = match &err {
        SdkError::ServiceError(se) => se.raw().status().as_u16(),
        _ => 0,
    };
    match err.code() {
        Some("PreconditionFailed") => Error::Changed,
        _ if status == 412 => Error::Changed,
        Some("NoSuchKey") => Error::NotFound,
        _ => classify(err, bucket),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_is_url_encoded() {
        let cases = [
            ("b", "a.mp3", "b/a.mp3"),
            ("b", "Jazz/Live/take 1.mp3", "b/Jazz/Live/take%201.mp3"),
            ("b", "a+b%c?d#e&f.mp3", "b/a%2Bb%25c%3Fd%23e%26f.mp3"),
            ("b.c", "é.mp3", "b.c/%C3%A9.mp3"),
            ("b", "~_-.x", "b/~_-.x"),
        ];
        for (bucket, key, want) in cases {
            assert_eq!(copy_source(bucket, key), want, "{key:?}");
        }
    }

    #[test]
    fn location_constraints() {
        assert_eq!(location_constraint(None), None);
        assert_eq!(location_constraint(Some("us-east-1")), None);
        assert_eq!(location_constraint(Some("")), None);
        assert_eq!(location_constraint(Some("eu-west-3")), Some("eu-west-3"));
        assert_eq!(location_constraint(Some("garage")), Some("garage"));
    }
}
