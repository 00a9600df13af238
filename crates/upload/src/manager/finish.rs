//! Completion: the last S3 part and CompleteMultipartUpload, or the local rename without
//! overwriting; then the catalog and every client learn of the new object at once.

use super::*;

impl Uploads {
    /// Completes a fully received upload: the last S3 part and CompleteMultipartUpload, or
    /// the local rename; then the catalog learns of the object and every client with it.
    pub(super) async fn finish(&self, state: &mut State) -> Result<()> {
        let source = self.source();
        let obj: ObjectMeta = match (&*source, &mut state.sink) {
            (
                Source::S3(s3src),
                SinkState::S3 {
                    upload_id,
                    part_size,
                    parts,
                },
            ) => {
                if state.length == 0 {
                    s3::put_empty(s3src, &state.key, mime_of(&state.key)).await?
                } else {
                    let staging = Staging::new(self.store.dir(), &state.id, *part_size);
                    let sent: u64 = parts.iter().map(|p| p.size).sum();
                    let left = state.length - sent;
                    if left > 0 {
                        let number = i32::try_from(parts.len() + 1).unwrap_or(i32::MAX);
                        let part = s3::upload_part(
                            s3src,
                            &state.key,
                            upload_id,
                            number,
                            &staging.path(number),
                            left,
                        )
                        .await?;
                        parts.push(part);
                        self.store.save(state).await?;
                    }
                    let SinkState::S3 {
                        upload_id, parts, ..
                    } = &state.sink
                    else {
                        return Err(UploadError::Gone);
                    };
                    let obj =
                        s3::complete(s3src, &state.key, upload_id, parts, state.length).await?;
                    staging.remove_all().await;
                    obj
                }
            }
            #[cfg(unix)]
            (
                Source::Local(local),
                SinkState::Local {
                    root,
                    folder,
                    filename,
                    temp,
                },
            ) => {
                let roots = local.roots();
                let (label, path) = roots.get(*root).cloned().ok_or(UploadError::Gone)?;
                let (f, t, n) = (folder.clone(), temp.clone(), filename.clone());
                let (name, meta) =
                    blocking(move || crate::sink::local::finish(&path, &f, &t, &n)).await?;
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
                bucketstream_core::source::local::object_meta(key, &meta)
            }
            _ => return Err(UploadError::Gone),
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
}
