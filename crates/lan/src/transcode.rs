//! `GET /transcode/{id}?mode=remux|audio|full&start=SECONDS&max_bitrate=KBPS&codec=aac|opus&session=S`:
//! the item as one fragmented MP4 (WebM for Opus) from `start`, made by ffmpeg reading this
//! server's own loopback `/media/{id}` (so its ranged reads go through the edge cache).
//!
//! The work is [`bucketstream_transcode::ffmpeg`]'s (process, cache, sharing, bounds); this
//! handler parses the query, decides an [`Answer`] and renders it in one place. The stream's
//! real start (`X-Start`, seconds) can be before `start`: copied video starts at a keyframe.
//!
//! DLNA renderers seek it by time instead: `TimeSeekRange.dlna.org: npt=START-` stands for
//! `start` and is answered with the range served; `contentFeatures.dlna.org` and
//! `transferMode.dlna.org` are answered when asked ([`bucketstream_dlna::streaming`]).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::api::error_body;
use super::ServerState;
use bucketstream_core::catalog::item::looks_like_id;
use bucketstream_core::config::TranscodeConfig;
use bucketstream_core::error::{Error, ErrorCode};
use bucketstream_core::media::Kind;
use bucketstream_core::wire::ErrorBody;
use bucketstream_dlna::streaming::{time_seek_answer, Asked};
use bucketstream_transcode::ffmpeg::{
    self, Input, Manager, Output, Request, Served, TranscodeError,
};

/// Seconds a client is told to wait when every transcode slot is taken.
pub const RETRY_AFTER_SECS: u64 = 5;

/// The manager for `config`: outputs go to its cache folder (kept across restarts), or to a
/// folder of this server's own under the temporary folder (removed when the server's state
/// goes). `None` (logged) when the folder cannot be made.
pub fn manager(config: &TranscodeConfig) -> Option<Manager> {
    static N: AtomicU64 = AtomicU64::new(0);
    let cache_dir = config.cache_dir.clone().unwrap_or_else(|| {
        let n = N.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!("bucketstream-transcode-{}-{n}", std::process::id()))
    });
    let settings = ffmpeg::Settings {
        ffmpeg: config.ffmpeg.clone(),
        max_concurrent: config.max_concurrent,
        cache_dir,
        cache_max_bytes: config.cache_max_bytes,
        keep: config.cache_dir.is_some(),
    };
    match Manager::new(settings) {
        Ok(m) => Some(m),
        Err(err) => {
            tracing::warn!(error = %err, "transcoding is off: its cache folder cannot be used");
            None
        }
    }
}

/// What the handler decided.
enum Answer {
    /// The stream, with the DLNA headers its request asked for.
    Stream(Output, Vec<(&'static str, String)>),
    /// An error, with `Retry-After` when waiting helps.
    Refused(ErrorBody, Option<u64>),
}

/// The handler.
pub async fn serve(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let pairs = params.map(|Query(p)| p).map_err(|r| r.body_text());
    stream(&state, &id, pairs, &super::dlna::asked(&headers)).await
}

/// Item `id` with the query `pairs` (or why the query was unreadable) and the DLNA headers
/// `asked`: what `/transcode` answers, and Subsonic's `stream?maxBitRate=` too.
pub async fn stream(
    state: &ServerState,
    id: &str,
    pairs: Result<Vec<(String, String)>, String>,
    asked: &Asked,
) -> Response {
    render(decide(state, id, pairs, asked).await)
}

async fn decide(
    state: &ServerState,
    id: &str,
    pairs: Result<Vec<(String, String)>, String>,
    asked: &Asked,
) -> Answer {
    let refused = |code, message: String| Answer::Refused(ErrorBody::new(code, message), None);
    if !looks_like_id(id) {
        return Answer::Refused(ErrorBody::from(&Error::NotFound), None);
    }
    let snap = state.library.snapshot();
    let Some(item) = snap.get(id) else {
        return Answer::Refused(ErrorBody::from(&Error::NotFound), None);
    };
    let audio_item = item.kind == Kind::Audio;
    let duration_ms = item.meta.duration_ms;
    // A renderer's time seek stands for `start`.
    let pairs = match (pairs, &asked.time_seek) {
        (Err(why), _) => Err(why),
        (Ok(_), Some(Err(why))) => Err(why.clone()),
        (Ok(pairs), None) => Ok(pairs),
        (Ok(_), Some(Ok(start))) if duration_ms.is_some_and(|d| *start >= d) => {
            return refused(
                ErrorCode::SeekPastEnd,
                format!(
                    "TimeSeekRange.dlna.org starts at {} s, past the end",
                    start / 1000
                ),
            );
        }
        (Ok(mut pairs), Some(Ok(start))) => {
            pairs.retain(|(k, _)| k != "start");
            pairs.push((
                "start".to_owned(),
                format!("{}.{:03}", start / 1000, start % 1000),
            ));
            Ok(pairs)
        }
    };
    let profile = pairs.and_then(|pairs| ffmpeg::query::parse(&pairs, audio_item));
    let profile = match profile {
        Ok(profile) => profile,
        Err(why) => return refused(ErrorCode::BadQuery, why),
    };
    let (Some(manager), Some(base)) = (&state.transcode, state.media_base.get()) else {
        return refused(
            ErrorCode::Internal,
            "transcoding is not running on this server (see its log)".into(),
        );
    };
    let req = Request {
        id: item.id.to_string(),
        etag: item.etag.clone(),
        profile: profile.profile,
        input: Input {
            url: format!("{base}/media/{}", item.id),
            headers: Some(format!(
                "{}: {}\r\n",
                super::access::INTERNAL_HEADER,
                state.access.internal_token()
            )),
            audio_item,
        },
        session: profile.session,
    };
    match manager.open(req).await {
        Ok(out) => {
            tracing::debug!(id, source = ?out.source, start_ms = out.start_ms, "transcode");
            let mut dlna = asked.answer(true);
            if asked.time_seek.is_some() {
                dlna.push((
                    "timeseekrange.dlna.org",
                    time_seek_answer(out.start_ms, duration_ms),
                ));
            }
            Answer::Stream(out, dlna)
        }
        Err(err) => {
            let code = match &err {
                TranscodeError::FfmpegMissing(_) => ErrorCode::FfmpegMissing,
                TranscodeError::Busy(_) => ErrorCode::TranscodeBusy,
                TranscodeError::Failed(_) => ErrorCode::TranscodeFailed,
                TranscodeError::Io(_) => ErrorCode::Io,
            };
            if code == ErrorCode::Io {
                tracing::warn!(id, error = %err, "transcode cache");
            }
            let retry = (code == ErrorCode::TranscodeBusy).then_some(RETRY_AFTER_SECS);
            Answer::Refused(ErrorBody::new(code, err.to_string()), retry)
        }
    }
}

fn render(answer: Answer) -> Response {
    match answer {
        Answer::Refused(body, retry) => {
            let mut resp = error_body(&body);
            if let Some(secs) = retry {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            resp
        }
        Answer::Stream(out, dlna) => {
            let start = ffmpeg::args::seconds(out.start_ms);
            let mut resp = Response::new(Body::from_stream(out.body));
            *resp.status_mut() = StatusCode::OK;
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(out.content_type),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(v) = HeaderValue::from_str(&start) {
                h.insert("x-start", v);
            }
            // How it was had: a new ffmpeg, one another client started, or the cache.
            let how = match out.source {
                Served::Started => "started",
                Served::Joined => "joined",
                Served::Cached => "cached",
            };
            h.insert("x-transcode", HeaderValue::from_static(how));
            super::dlna::put_answer(h, dlna);
            resp
        }
    }
}
