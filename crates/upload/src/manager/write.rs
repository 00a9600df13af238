//! PATCH: a request body appended to an upload, through the S3 sink's staging files or the
//! local temporary file, checksummed when the client asks, and saved before it is acknowledged.

use super::*;

/// The checksum being computed over a PATCH body.
enum Hasher {
    Sha1(Sha1),
    Sha256(Sha256),
    Md5(Md5),
}

impl Hasher {
    fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Md5 => Hasher::Md5(Md5::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Md5(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Md5(h) => h.finalize().to_vec(),
        }
    }
}

/// Parts of one upload sent at once (each reads its staging file through a 64 KiB buffer).
const MAX_INFLIGHT: usize = 8;

/// A part's index from the first staged part, as a part-number offset (at most 10,000).
fn part_index(queued: u64) -> i32 {
    i32::try_from(queued).unwrap_or(i32::MAX)
}

impl Uploads {
    /// `PATCH`: appends `body` at `offset`.
    pub async fn write<S, E>(
        &self,
        id: &str,
        offset: u64,
        checksum: Option<Checksum>,
        body: S,
    ) -> Answer
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let result = async {
            let mut state = self.lock(id).await?;
            self.check_expiry(&state).await?;
            self.write_locked(&mut state, offset, checksum, body)
                .await?;
            Ok::<_, UploadError>(Answer::Patched {
                offset: state.offset,
                expires: (!state.done).then(|| state.expires_at()),
            })
        }
        .await;
        result.unwrap_or_else(Answer::Refused)
    }

    pub(super) async fn write_locked<S, E>(
        &self,
        state: &mut State,
        offset: u64,
        checksum: Option<Checksum>,
        body: S,
    ) -> Result<()>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if offset != state.offset {
            return Err(UploadError::Conflict(format!(
                "Upload-Offset is {offset} but the upload is at {}",
                state.offset
            )));
        }
        if state.done {
            return Ok(());
        }
        let overflow = match &state.sink {
            SinkState::S3 { .. } => self.write_s3(state, checksum, body).await?,
            SinkState::Local { .. } => self.write_local(state, checksum, body).await?,
        };
        if overflow {
            return Err(UploadError::TooLarge(
                "the body goes past Upload-Length; the bytes past it were discarded".into(),
            ));
        }
        if state.offset == state.length {
            self.finish(state).await?;
        }
        Ok(())
    }

    async fn write_s3<S, E>(
        &self,
        state: &mut State,
        checksum: Option<Checksum>,
        body: S,
    ) -> Result<bool>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let source = self.source();
        let Source::S3(s3src) = &*source else {
            return Err(UploadError::Gone);
        };
        let SinkState::S3 {
            part_size,
            upload_id,
            ..
        } = &state.sink
        else {
            return Ok(false);
        };
        let (ps, upload_id, key) = (*part_size, upload_id.clone(), state.key.clone());
        let staging = Staging::new(self.store.dir(), &state.id, ps);
        // Bytes past the acknowledged offset (an interrupted request) are dropped first.
        let done_bytes = parts_sum(state);
        let have = staging
            .recover(first_part(state), state.offset - done_bytes)
            .await?;
        state.offset = done_bytes + have;
        // Staged bytes count from part `base`; `queued` full parts from it are being sent.
        let base = first_part(state);
        let start = have;
        let mut staged = have;
        let mut queued: u64 = 0;
        let mut sent: Vec<Part> = Vec::new();
        let mut failed: Option<UploadError> = None;
        let mut inflight = FuturesUnordered::new();
        let upload = |number: i32| {
            let path = staging.path(number);
            let (key, upload_id) = (&key, &upload_id);
            async move { s3::upload_part(s3src, key, upload_id, number, &path, ps).await }
        };
        let full = |staged: u64, queued: u64| (queued + 1) * ps <= staged;
        let mut body = Capped::new(body, state.length - state.offset, checksum.as_ref());
        // Without a checksum, full parts are sent while the body still arrives (at most
        // MAX_INFLIGHT at once, which also holds the body back); with one, only once the
        // body is verified.
        let streaming = checksum.is_none();
        loop {
            while streaming
                && failed.is_none()
                && full(staged, queued)
                && inflight.len() < MAX_INFLIGHT
            {
                inflight.push(upload(base + part_index(queued)));
                queued += 1;
            }
            tokio::select! {
                Some(result) = inflight.next(), if !inflight.is_empty() => match result {
                    Ok(part) => {
                        sent.push(part);
                        self.record(state, &staging, &mut sent).await?;
                    }
                    Err(err) => {
                        failed.get_or_insert(err);
                    }
                },
                data = body.next(), if failed.is_none() && inflight.len() < MAX_INFLIGHT => match data {
                    Some(data) => staged = staging.write(base, staged, data).await?,
                    None => break,
                },
                else => break,
            }
        }
        let (digest, overflow) = body.finish();
        if let (Some(want), Some(got)) = (checksum.as_ref(), digest) {
            if want.digest != got {
                staging.truncate(base, staged, start).await?;
                return Err(UploadError::Checksum);
            }
        }
        // The rest of the full parts, and those still in flight.
        loop {
            while failed.is_none() && full(staged, queued) && inflight.len() < MAX_INFLIGHT {
                inflight.push(upload(base + part_index(queued)));
                queued += 1;
            }
            match inflight.next().await {
                None => break,
                Some(Ok(part)) => {
                    sent.push(part);
                    self.record(state, &staging, &mut sent).await?;
                }
                Some(Err(err)) => {
                    failed.get_or_insert(err);
                }
            }
        }
        // What is still staged counts from the first part not recorded.
        let recorded = u64::try_from(first_part(state) - base).unwrap_or(0);
        let left = staged - recorded * ps;
        staging.sync(first_part(state), left).await?;
        state.offset = parts_sum(state) + left;
        state.expires = self.expires();
        self.store.save(state).await?;
        match failed {
            Some(err) => Err(err),
            None => Ok(overflow),
        }
    }

    /// Records the parts sent that follow the recorded ones without a gap (a part sent out of
    /// order waits for those before it; if one of them fails, it is sent again later), saves
    /// the state, then removes their staging files.
    async fn record(
        &self,
        state: &mut State,
        staging: &Staging,
        sent: &mut Vec<Part>,
    ) -> Result<()> {
        sent.sort_by_key(|p| p.number);
        let mut moved = Vec::new();
        while let Some(i) = sent.iter().position(|p| p.number == first_part(state)) {
            let part = sent.remove(i);
            moved.push(part.number);
            if let SinkState::S3 { parts, .. } = &mut state.sink {
                parts.push(part);
            }
        }
        if moved.is_empty() {
            return Ok(());
        }
        // The parts hold every byte acknowledged before them: the offset never goes back.
        state.offset = state.offset.max(parts_sum(state));
        // Written to: not idle, whatever the length of this request.
        state.expires = self.expires();
        self.store.save(state).await?;
        for number in moved {
            let _ = tokio::fs::remove_file(staging.path(number)).await;
        }
        Ok(())
    }

    #[cfg(unix)]
    async fn write_local<S, E>(
        &self,
        state: &mut State,
        checksum: Option<Checksum>,
        body: S,
    ) -> Result<bool>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let source = self.source();
        let (
            Source::Local(local),
            SinkState::Local {
                root, folder, temp, ..
            },
        ) = (&*source, &state.sink)
        else {
            return Err(UploadError::Gone);
        };
        let root = local
            .roots()
            .get(*root)
            .map(|(_, p)| p.clone())
            .ok_or(UploadError::Gone)?;
        let start = state.offset;
        let (f, t) = (folder.clone(), temp.clone());
        let file = blocking(move || crate::sink::local::open_temp(&root, &f, &t, start))
            .await
            .map_err(local_err)?;
        let mut file = tokio::fs::File::from_std(file);
        tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(start)).await?;
        let mut body = Capped::new(body, state.length - start, checksum.as_ref());
        let mut written = 0u64;
        while let Some(data) = body.next().await {
            file.write_all(&data).await?;
            written += data.len() as u64;
        }
        let (digest, overflow) = body.finish();
        file.flush().await?;
        if let (Some(want), Some(got)) = (checksum.as_ref(), digest) {
            if want.digest != got {
                file.set_len(start).await?;
                file.sync_all().await?;
                return Err(UploadError::Checksum);
            }
        }
        file.sync_all().await?;
        state.offset = start + written;
        state.expires = self.expires();
        self.store.save(state).await?;
        Ok(overflow)
    }

    #[cfg(not(unix))]
    async fn write_local<S, E>(&self, _: &mut State, _: Option<Checksum>, _: S) -> Result<bool> {
        Err(UploadError::Forbidden)
    }
}

/// A request body read frame by frame, cut at the bytes the upload has room for, hashed when
/// a checksum is asked. A body that breaks off (the client went away) just ends: what arrived
/// is kept.
struct Capped<S> {
    body: S,
    left: u64,
    overflow: bool,
    hasher: Option<Hasher>,
}

impl<S, E> Capped<S>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    fn new(body: S, room: u64, checksum: Option<&Checksum>) -> Capped<S> {
        Capped {
            body,
            left: room,
            overflow: false,
            hasher: checksum.map(|c| Hasher::new(c.algorithm)),
        }
    }

    /// The next non-empty piece, `None` at the end (or past the room).
    async fn next(&mut self) -> Option<Bytes> {
        while !self.overflow {
            let mut frame = match self.body.next().await? {
                Ok(frame) => frame,
                Err(err) => {
                    tracing::debug!(%err, "upload body broke off; keeping what arrived");
                    return None;
                }
            };
            let take = usize::try_from(self.left).unwrap_or(usize::MAX);
            if frame.len() > take {
                self.overflow = true;
                frame.truncate(take);
            }
            self.left -= frame.len() as u64;
            if frame.is_empty() {
                continue;
            }
            if let Some(h) = self.hasher.as_mut() {
                h.update(&frame);
            }
            return Some(frame);
        }
        None
    }

    /// The digest (when asked) and whether the body went past the room.
    fn finish(self) -> (Option<Vec<u8>>, bool) {
        (self.hasher.map(Hasher::finish), self.overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(
        frames: Vec<Result<&'static [u8], &'static str>>,
    ) -> impl Stream<Item = Result<Bytes, &'static str>> + Unpin {
        futures_util::stream::iter(frames.into_iter().map(|f| f.map(Bytes::from_static)))
    }

    async fn drain<S: Stream<Item = Result<Bytes, &'static str>> + Unpin>(
        mut capped: Capped<S>,
    ) -> (Vec<u8>, Option<Vec<u8>>, bool) {
        let mut out = Vec::new();
        while let Some(piece) = capped.next().await {
            assert!(!piece.is_empty());
            out.extend_from_slice(&piece);
        }
        let (digest, overflow) = capped.finish();
        (out, digest, overflow)
    }

    #[tokio::test]
    async fn bodies_are_cut_at_the_room_hashed_and_kept_when_they_break_off() {
        let (out, digest, overflow) = drain(Capped::new(
            body(vec![Ok(b"ab"), Ok(b""), Ok(b"cd")]),
            10,
            None,
        ))
        .await;
        assert_eq!(
            (out.as_slice(), digest, overflow),
            (&b"abcd"[..], None, false)
        );

        let (out, _, overflow) =
            drain(Capped::new(body(vec![Ok(b"abc"), Ok(b"def")]), 4, None)).await;
        assert_eq!((out.as_slice(), overflow), (&b"abcd"[..], true));

        let (out, _, overflow) = drain(Capped::new(
            body(vec![Ok(b"abc"), Err("gone"), Ok(b"x")]),
            10,
            None,
        ))
        .await;
        assert_eq!((out.as_slice(), overflow), (&b"abc"[..], false));

        let sha1 = Checksum {
            algorithm: Algorithm::Sha1,
            digest: Vec::new(),
        };
        let (_, digest, _) = drain(Capped::new(
            body(vec![Ok(b"a"), Ok(b"bc")]),
            10,
            Some(&sha1),
        ))
        .await;
        assert_eq!(
            digest.map(hex::encode).as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d"),
            "sha1(\"abc\")"
        );
    }
}
