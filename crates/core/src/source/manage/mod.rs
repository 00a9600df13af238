//! Writes to the store other than uploads: bucket creation, delete, rename and move.
//!
//! - [`bucket_name`]: S3's naming rules, checked before any request.
//! - [`names`]: the target of a move (folder and file name) checked as hostile input.
//! - [`s3`]: CreateBucket with the region's location constraint, DeleteObject, and a move as
//!   CopyObject (conditional on the listed ETag) then DeleteObject; [`s3_parts`]: the copy in
//!   parts (UploadPartCopy) of an object over 5 GiB.
//! - [`local`]: the same for a local folder, never leaving its root nor overwriting.
//!
//! [`Source::delete_object`] and [`Source::move_object`] pick the right one; the library's
//! owner functions (`Library::delete_item`, `Library::move_item`) call them and then apply the
//! change to the catalog.

pub mod bucket_name;
#[cfg(unix)]
pub mod local;
pub mod names;
pub mod s3;
pub mod s3_parts;

use super::{ObjectMeta, Source};
use crate::error::{Error, Result};

impl Source {
    /// Deletes `obj` (as listed: a local file replaced since is kept, [`Error::Changed`]).
    pub async fn delete_object(&self, obj: &ObjectMeta) -> Result<()> {
        match self {
            Source::S3(s3) => s3.delete_object(&obj.key).await,
            #[cfg(unix)]
            Source::Local(source) => {
                let (root, rel) = source.locate(&obj.key)?;
                let (root, rel, etag) = (root.to_owned(), rel.to_owned(), obj.etag.clone());
                tokio::task::spawn_blocking(move || local::delete(&root, &rel, etag.as_deref()))
                    .await
                    .map_err(|e| Error::Io(std::io::Error::other(e)))?
            }
            #[cfg(not(unix))]
            Source::Local(_) => Err(Error::Config("not supported on this system".into())),
        }
    }

    /// Moves `obj` to `folder` (relative to the library's prefix or root, `""` for its top)
    /// under the file name `name`; returns the object at its new key. S3 refuses an existing
    /// target ([`Error::TargetExists`]); a local folder picks `name (2).ext` instead.
    pub async fn move_object(
        &self,
        obj: &ObjectMeta,
        folder: &str,
        name: &str,
    ) -> Result<ObjectMeta> {
        let target = names::target_key(self.prefix(), folder, name)?;
        match self {
            Source::S3(s3) => s3.move_object(obj, &target).await,
            #[cfg(unix)]
            Source::Local(source) => {
                let (from_root, from) = source.locate(&obj.key)?;
                let (to_root, to) = source.locate(&target).map_err(|_| {
                    Error::NameInvalid(
                        "with several library folders, a folder starts with the name of one of them"
                            .into(),
                    )
                })?;
                let (from_root, from, to_root, to) = (
                    from_root.to_owned(),
                    from.to_owned(),
                    to_root.to_owned(),
                    to.to_owned(),
                );
                let etag = obj.etag.clone();
                let (used, meta) = tokio::task::spawn_blocking(move || {
                    local::move_file(&from_root, &from, etag.as_deref(), &to_root, &to)
                })
                .await
                .map_err(|e| Error::Io(std::io::Error::other(e)))??;
                let key = match target.rsplit_once('/') {
                    Some((dir, _)) => format!("{dir}/{used}"),
                    None => used,
                };
                Ok(ObjectMeta {
                    key,
                    size: meta.len(),
                    etag: Some(super::local::etag_of(&meta)),
                    last_modified: meta.modified().ok(),
                })
            }
            #[cfg(not(unix))]
            Source::Local(_) => Err(Error::Config("not supported on this system".into())),
        }
    }
}
