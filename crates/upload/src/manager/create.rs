//! POST: a new upload (its name checked, its multipart upload or temporary file made, its
//! state saved), and what is discarded when an upload is terminated or expires.

use super::*;

impl Uploads {
    /// `POST`: a new upload of `length` bytes named by `metadata`, and with
    /// creation-with-upload its first bytes (`body`).
    pub async fn create<S, E>(
        &self,
        length: u64,
        metadata: &[(String, String)],
        body: Option<(Option<Checksum>, S)>,
    ) -> Answer
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let state = match self.new_upload(length, metadata).await {
            Ok(state) => state,
            Err(err) => return Answer::Refused(err),
        };
        let id = state.id.clone();
        let mut offset = state.offset;
        let mut expires = state.expires_at();
        let entry: Entry = Arc::new(tokio::sync::Mutex::new(state));
        let mut guard = entry.clone().lock_owned().await;
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), entry);
        if let Some((checksum, body)) = body {
            // The upload exists whatever happens to its first bytes: the client gets its
            // Location and the offset reached, and goes on with PATCH from there.
            if let Err(err) = self.write_locked(&mut guard, 0, checksum, body).await {
                tracing::debug!(%id, %err, "the first bytes of a new upload were not all stored");
            }
            offset = guard.offset;
            expires = guard.expires_at();
        }
        Answer::Created {
            location: format!("/api/uploads/{id}"),
            offset,
            expires,
        }
    }

    async fn new_upload(&self, length: u64, metadata: &[(String, String)]) -> Result<State> {
        if length > self.settings.max_bytes {
            return Err(UploadError::TooLarge(format!(
                "{length} bytes is more than this server accepts ({} bytes, upload_max_bytes)",
                self.settings.max_bytes
            )));
        }
        let target = name::target(metadata)?;
        if self.unfinished() >= MAX_OPEN {
            return Err(UploadError::TooMany);
        }
        let id = store::new_id()?;
        let source = self.source();
        let (key, sink) = match &*source {
            Source::S3(s3src) => {
                let key = target.s3_key(s3src.prefix())?;
                let upload_id = if length == 0 {
                    String::new()
                } else {
                    s3::create(s3src, &key, target.mime).await?
                };
                let sink = SinkState::S3 {
                    upload_id,
                    part_size: parts::part_size(length),
                    parts: Vec::new(),
                };
                (key, sink)
            }
            Source::Local(local) => self.local_target(local, &target, &id).await?,
        };
        let mut state = State {
            id,
            source: self.source_id.clone(),
            key,
            length,
            offset: 0,
            expires: self.expires(),
            done: false,
            sink,
        };
        if let Err(err) = self.store.save(&state).await {
            self.discard(&state).await;
            return Err(err);
        }
        if length == 0 {
            self.finish(&mut state).await?;
        }
        tracing::info!(id = %state.id, key = %state.key, length, "upload created");
        Ok(state)
    }

    /// Picks the root (the folder's first segment names it when there are several), creates
    /// the folder and the temporary file.
    async fn local_target(
        &self,
        local: &bucketstream_core::source::local::LocalSource,
        target: &Target,
        id: &str,
    ) -> Result<(String, SinkState)> {
        let roots = local.roots();
        let (root, folder) = if roots.len() == 1 {
            (0, target.folder.clone())
        } else {
            let first = target.folder.first().ok_or_else(|| {
                UploadError::BadName(
                    "the library has several folders: `folder` must start with one of them".into(),
                )
            })?;
            let index = roots
                .iter()
                .position(|(label, _)| label == first)
                .ok_or_else(|| {
                    UploadError::BadName(format!("{first:?} is not one of the library's folders"))
                })?;
            (index, target.folder[1..].to_vec())
        };
        let temp = local_temp(&target.filename, id);
        #[cfg(unix)]
        {
            let (path, f, t) = (roots[root].1.clone(), folder.clone(), temp.clone());
            blocking(move || crate::sink::local::create(&path, &f, &t))
                .await
                .map_err(local_err)?;
        }
        Ok((
            target.relative(),
            SinkState::Local {
                root,
                folder,
                filename: target.filename.clone(),
                temp,
            },
        ))
    }

    /// Aborts what the sink holds of `state` (best effort, logged).
    pub(super) async fn discard(&self, state: &State) {
        let result: Result<()> = match (&state.sink, &*self.source()) {
            (SinkState::S3 { upload_id, .. }, Source::S3(s3src)) if !upload_id.is_empty() => {
                s3::abort(s3src, &state.key, upload_id).await
            }
            #[cfg(unix)]
            (
                SinkState::Local {
                    root, folder, temp, ..
                },
                Source::Local(local),
            ) => match local.roots().get(*root) {
                Some((_, path)) => {
                    let (path, folder, temp) = (path.clone(), folder.clone(), temp.clone());
                    blocking(move || crate::sink::local::remove(&path, &folder, &temp))
                        .await
                        .map_err(Into::into)
                }
                None => Ok(()),
            },
            _ => Ok(()),
        };
        if let Err(err) = result {
            tracing::warn!(id = %state.id, %err, "could not discard an upload's bytes");
        }
        Staging::new(self.store.dir(), &state.id, 1)
            .remove_all()
            .await;
    }

    /// Expiry check under the lock: an expired upload is discarded and forgotten.
    pub(super) async fn check_expiry(&self, state: &State) -> Result<()> {
        if state.expired(SystemTime::now()) {
            if !state.done {
                self.discard(state).await;
            }
            let _ = self.store.remove(&state.id).await;
            self.forget(&state.id);
            return Err(UploadError::Gone);
        }
        Ok(())
    }
}
