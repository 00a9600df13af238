//! The owner's changes to the library: create a bucket, delete, rename or move an item.
//!
//! Each is one function here, called by the desktop's Tauri commands and the LAN server's
//! owner-only endpoints alike. A delete or move is made at the store first, then applied to the
//! catalog ([`crate::catalog::Catalog::apply_edit`]): every client sees it at once (one
//! `library_changed`), without a listing.

use crate::catalog::{Edit, MediaItem};
use crate::config::S3Config;
use crate::error::{Error, Result};
use crate::source::manage::s3::{create_bucket, Created};
use crate::source::s3::S3Source;
use crate::source::{ObjectMeta, Source};

use super::Library;

/// Creates bucket `name` at the endpoint, region and with the credentials of `config` (its
/// own bucket name is ignored): the desktop settings view creates the bucket typed in the
/// form before it is saved. See [`create_bucket`] for the errors.
pub async fn create_bucket_at(config: &S3Config, name: &str) -> Result<Created> {
    let source = S3Source::new(config).await;
    create_bucket(source.client(), name).await
}

/// The file name (last component) of `key`.
fn file_name(key: &str) -> &str {
    key.rsplit_once('/').map_or(key, |(_, name)| name)
}

impl Library {
    /// Creates bucket `name` at this library's S3 endpoint, with its credentials and region.
    /// A library of local folders has no endpoint ([`Error::Config`]).
    pub async fn create_bucket(&self, name: &str) -> Result<Created> {
        match &**self.catalog.source() {
            Source::S3(s3) => create_bucket(s3.client(), name).await,
            Source::Local(_) => Err(Error::Config(
                "the library is a local folder: set an S3 endpoint and credentials to create a bucket"
                    .into(),
            )),
        }
    }

    /// The headless server's `--create-bucket`: when the setting is on and the library is a
    /// bucket, creates it if HeadBucket says it is missing. `None`: nothing to do (the setting
    /// is off, a local library, or the bucket exists).
    pub async fn ensure_bucket(&self) -> Result<Option<Created>> {
        match (&self.config.source, &**self.catalog.source()) {
            (crate::config::SourceConfig::S3(cfg), Source::S3(s3)) if cfg.create_bucket => {
                s3.ensure_bucket().await
            }
            _ => Ok(None),
        }
    }

    /// The item `id` of the current snapshot, as the object it was listed as.
    fn listed(&self, id: &str) -> Result<(MediaItem, ObjectMeta)> {
        let snap = self.catalog.snapshot();
        let item = snap.get(id).ok_or(Error::NotFound)?.clone();
        let obj = ObjectMeta {
            key: item.key.clone(),
            size: item.size,
            etag: item.etag.clone(),
            last_modified: None,
        };
        Ok((item, obj))
    }

    /// Deletes item `id` at the store (DeleteObject, or the file), then from the catalog.
    pub async fn delete_item(&self, id: &str) -> Result<()> {
        let (_, obj) = self.listed(id)?;
        self.catalog.source().delete_object(&obj).await?;
        self.catalog
            .apply_edit(&Edit {
                put: Vec::new(),
                removed: vec![obj.key],
            })
            .await;
        Ok(())
    }

    /// Moves (or renames) item `id` to `folder` (relative to the library's prefix or root;
    /// `None`: where it is) as `name` (a file name with its extension; `None`: its current
    /// one). Returns the item at its new key (a new id: ids derive from keys). A local folder
    /// never overwrites (`name (2).ext`); S3 refuses an existing target.
    pub async fn move_item(
        &self,
        id: &str,
        folder: Option<&str>,
        name: Option<&str>,
    ) -> Result<MediaItem> {
        let (item, obj) = self.listed(id)?;
        let folder = folder.unwrap_or(&item.folder);
        let name = name.unwrap_or(file_name(&item.key));
        let moved = self
            .catalog
            .source()
            .move_object(&obj, folder, name)
            .await?;
        let removed = if moved.key == obj.key {
            Vec::new()
        } else {
            vec![obj.key]
        };
        let snap = self
            .catalog
            .apply_edit(&Edit {
                put: vec![moved.clone()],
                removed,
            })
            .await;
        snap.items
            .iter()
            .find(|i| i.key == moved.key)
            .map(|i| MediaItem::clone(i))
            .ok_or(Error::NotFound)
    }
}
