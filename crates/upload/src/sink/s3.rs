//! The S3 sink: each upload is one multipart upload. Parts are uploaded from their staging
//! files ([`super::parts`]) with `Content-MD5`, and the ETag S3 answers is checked against
//! the part's MD5; the last part at the end, then CompleteMultipartUpload and a HeadObject for
//! what the catalog lists. Termination and expiry abort the multipart upload, so nothing
//! half-written ever becomes visible in the bucket.

use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bucketstream_core::error::Error;
use bucketstream_core::source::s3::{classify, S3Source};
use bucketstream_core::source::ObjectMeta;
use md5::{Digest, Md5};

use crate::error::Result;
use crate::store::Part;

/// Read buffer for hashing and sending a part.
const BUF: usize = 64 * 1024;

/// Starts the multipart upload of `key`; its `UploadId`.
pub async fn create(s3: &S3Source, key: &str, mime: &str) -> Result<String> {
    let out = s3
        .client()
        .create_multipart_upload()
        .bucket(s3.bucket())
        .key(key)
        .content_type(mime)
        .send()
        .await
        .map_err(|e| classify(e, s3.bucket()))?;
    out.upload_id()
        .map(str::to_owned)
        .ok_or_else(|| Error::Upstream("CreateMultipartUpload gave no UploadId".into()).into())
}

/// The MD5 of a file, read in [`BUF`]-sized blocks on the blocking pool.
async fn md5_of(path: &Path) -> Result<[u8; 16]> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || -> std::io::Result<[u8; 16]> {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Md5::new();
        let mut buf = vec![0u8; BUF];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hasher.finalize().into())
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))?
    .map_err(Into::into)
}

/// Uploads part `number` of `key` from the file at `path` (`size` bytes), with its
/// `Content-MD5`, and checks that the ETag S3 answers is that MD5.
pub async fn upload_part(
    s3: &S3Source,
    key: &str,
    upload_id: &str,
    number: i32,
    path: &Path,
    size: u64,
) -> Result<Part> {
    let md5 = md5_of(path).await?;
    let body = ByteStream::read_from()
        .path(path)
        .buffer_size(BUF)
        .build()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let out = s3
        .client()
        .upload_part()
        .bucket(s3.bucket())
        .key(key)
        .upload_id(upload_id)
        .part_number(number)
        .content_length(i64::try_from(size).unwrap_or(i64::MAX))
        .content_md5(STANDARD.encode(md5))
        .body(body)
        .send()
        .await
        .map_err(|e| classify(e, s3.bucket()))?;
    let etag = out.e_tag().unwrap_or_default().to_owned();
    let want = hex::encode(md5);
    if !etag.trim_matches('"').eq_ignore_ascii_case(&want) {
        return Err(Error::StoreBadAnswer(format!(
            "part {number}: the store's ETag {etag} is not the part's MD5 {want}"
        ))
        .into());
    }
    Ok(Part { number, etag, size })
}

/// Completes the multipart upload with `parts` and reads back what the catalog lists. When
/// the store no longer knows the upload (an earlier attempt completed it but its answer was
/// lost) and the object is there with the upload's `length`, that object is the answer.
pub async fn complete(
    s3: &S3Source,
    key: &str,
    upload_id: &str,
    parts: &[Part],
    length: u64,
) -> Result<ObjectMeta> {
    let completed = CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|p| {
                    CompletedPart::builder()
                        .part_number(p.number)
                        .e_tag(&p.etag)
                        .build()
                })
                .collect(),
        ))
        .build();
    let done = s3
        .client()
        .complete_multipart_upload()
        .bucket(s3.bucket())
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(completed)
        .send()
        .await;
    if let Err(e) = done {
        let gone = e
            .as_service_error()
            .and_then(|se| se.meta().code())
            .is_some_and(|code| code == "NoSuchUpload");
        let err = classify(e, s3.bucket());
        return match head(s3, key).await {
            Ok(obj) if gone && obj.size == length => Ok(obj),
            _ => Err(err.into()),
        };
    }
    head(s3, key).await
}

/// The object as a listing shows it.
pub async fn head(s3: &S3Source, key: &str) -> Result<ObjectMeta> {
    let out = s3
        .client()
        .head_object()
        .bucket(s3.bucket())
        .key(key)
        .send()
        .await
        .map_err(|e| classify(e, s3.bucket()))?;
    Ok(ObjectMeta {
        key: key.to_owned(),
        size: out
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        etag: out.e_tag().map(str::to_owned),
        last_modified: out
            .last_modified()
            .and_then(|t| SystemTime::try_from(*t).ok()),
    })
}

/// An empty object (a zero-length upload needs no multipart upload).
pub async fn put_empty(s3: &S3Source, key: &str, mime: &str) -> Result<ObjectMeta> {
    s3.client()
        .put_object()
        .bucket(s3.bucket())
        .key(key)
        .content_type(mime)
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .map_err(|e| classify(e, s3.bucket()))?;
    head(s3, key).await
}

/// Aborts the multipart upload: its parts are deleted and the key never appears. An upload
/// the store no longer knows is already gone.
pub async fn abort(s3: &S3Source, key: &str, upload_id: &str) -> Result<()> {
    let res = s3
        .client()
        .abort_multipart_upload()
        .bucket(s3.bucket())
        .key(key)
        .upload_id(upload_id)
        .send()
        .await;
    match res {
        Ok(_) => Ok(()),
        Err(e) => {
            let gone = e
                .as_service_error()
                .is_some_and(|se| se.is_no_such_upload());
            if gone || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) {
                Ok(())
            } else {
                Err(classify(e, s3.bucket()).into())
            }
        }
    }
}
