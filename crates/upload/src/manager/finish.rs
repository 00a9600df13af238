//! Completion: the last S3 part and CompleteMultipartUpload, or the local rename without
//! overwriting; then the catalog and every client learn of the new object at once.

use bucketstream_core::source::s3::S3Source;

use super::*;

impl Uploads {
    /// Completes a fully received upload: the last S3 part and CompleteMultipartUpload, or
    /// the local rename; then the catalog learns of the object and every client with it.
    pub(super) async fn finish(&self, state: &mut State) -> Result<()> {
        let source = self.source();
        let obj: ObjectMeta = match &*source {
            Source::S3(s3src) => self.finish_s3(s3src, state).await?,
            #[cfg(unix)]
            Source::Local(local) => self.finish_local(local, state).await?,
            #[cfg(not(unix))]
            Source::Local(_) => return Err(UploadError::Gone),
        };
        state.done = true;
        state.offset = state.length;
        state.expires = self.expires();
        self.store.save(state).await?;
        tracing::info!(id = %state.id, key = %obj.key, size = obj.size, "upload complete");
        self.library
            .catalog()
            .apply_edit(&Edit {
                put: vec![obj],
                removed: Vec::new(),
            })
            .await;
        Ok(())
    }

    /// Sends every part not sent yet (normally only the last, short one; after a failed part
    /// upload, the full ones before it too, in order), then completes the multipart upload.
    async fn finish_s3(&self, s3src: &S3Source, state: &mut State) -> Result<ObjectMeta> {
        if state.length == 0 {
            return s3::put_empty(s3src, &state.key, mime_of(&state.key)).await;
        }
        let SinkState::S3 {
            upload_id,
            part_size,
            ..
        } = &state.sink
        else {
            return Err(UploadError::Gone);
        };
        let (ps, upload_id, key) = (*part_size, upload_id.clone(), state.key.clone());
        let staging = Staging::new(self.store.dir(), &state.id, ps);
        loop {
            let sent = parts_sum(state);
            if sent >= state.length {
                break;
            }
            let number = first_part(state);
            let size = (state.length - sent).min(ps);
            let path = staging.path(number);
            let part = s3::upload_part(s3src, &key, &upload_id, number, &path, size).await?;
            if let SinkState::S3 { parts, .. } = &mut state.sink {
                parts.push(part);
            }
            self.store.save(state).await?;
            let _ = tokio::fs::remove_file(&path).await;
        }
        let SinkState::S3 { parts, .. } = &state.sink else {
            return Err(UploadError::Gone);
        };
        let obj = s3::complete(s3src, &key, &upload_id, parts, state.length).await?;
        staging.remove_all().await;
        Ok(obj)
    }

    /// Renames the temporary file to its name (or the first free ` (N)` variant).
    #[cfg(unix)]
    async fn finish_local(
        &self,
        local: &bucketstream_core::source::local::LocalSource,
        state: &mut State,
    ) -> Result<ObjectMeta> {
        let SinkState::Local {
            root,
            folder,
            filename,
            temp,
        } = &state.sink
        else {
            return Err(UploadError::Gone);
        };
        let roots = local.roots();
        let (label, path) = roots.get(*root).cloned().ok_or(UploadError::Gone)?;
        let (f, t, n) = (folder.clone(), temp.clone(), filename.clone());
        let (name, meta) = blocking(move || crate::sink::local::finish(&path, &f, &t, &n)).await?;
        let mut key = String::new();
        for part in std::iter::once(&label)
            .filter(|l| !l.is_empty())
            .chain(folder.iter())
        {
            key.push_str(part);
            key.push('/');
        }
        key.push_str(&name);
        state.key = key.clone();
        Ok(bucketstream_core::source::local::object_meta(key, &meta))
    }
}
