//! `GET|HEAD /media/{id}`: streams one item with RFC 9110 byte ranges.
//!
//! The id is looked up in the snapshot, so size, ETag and Last-Modified come from the catalog
//! without a HEAD to the source; the body is opened conditionally on that ETag, so bytes of two
//! versions are never spliced. Range policy lives in [`bucketstream_core::range`].
//! A DLNA renderer that asks (`getcontentFeatures.dlna.org`, `transferMode.dlna.org`) is
//! answered its headers too ([`bucketstream_dlna::streaming`]).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::api::error_response;
use super::ServerState;
use bucketstream_core::catalog::item::looks_like_id;
use bucketstream_core::catalog::MediaItem;
use bucketstream_core::error::Error;
use bucketstream_core::range::{decide, if_none_match_hits, if_range_holds, Decision};

/// The handler.
pub async fn serve(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    method: Method,
    internal: Option<axum::Extension<super::guard::Internal>>,
    headers: HeaderMap,
) -> Response {
    if !looks_like_id(&id) {
        return error_response(&Error::NotFound);
    }
    let snap = state.library.snapshot();
    let Some(item) = snap.get(&id) else {
        return error_response(&Error::NotFound);
    };
    // The server's own ffmpeg reads through the edge cache, never a presigned URL (its
    // token header must not travel to the store).
    let internal = internal.is_some_and(|i| i.0 .0);
    let direct = match internal {
        true => None,
        false => state.library.direct_url(item).await,
    };
    if let Some(direct) = direct {
        return match direct {
            Ok(url) => {
                let mut resp = StatusCode::TEMPORARY_REDIRECT.into_response();
                insert(resp.headers_mut(), header::LOCATION, &url);
                resp.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                resp
            }
            Err(err) => error_response(&err),
        };
    }
    let text = |name: header::HeaderName| headers.get(name).map(|v| v.to_str().ok());
    if let Some(Some(tags)) = text(header::IF_NONE_MATCH) {
        if if_none_match_hits(tags, item.etag.as_deref()) {
            let mut resp = StatusCode::NOT_MODIFIED.into_response();
            validators(resp.headers_mut(), item);
            return resp;
        }
    }
    let decision = match (text(header::RANGE), text(header::IF_RANGE)) {
        // A Range header that is not even visible ASCII is malformed.
        (Some(None), _) => Decision::Unsatisfiable { malformed: true },
        // An unreadable If-Range cannot hold: whole object.
        (Some(Some(_)), Some(None)) => Decision::Full,
        (range, if_range) => {
            let if_range = if_range.flatten();
            if if_range_holds(
                if_range,
                item.etag.as_deref(),
                item.last_modified().as_deref(),
            ) {
                decide(range.flatten(), item.size)
            } else {
                Decision::Full
            }
        }
    };
    let mut resp = respond(&state, item, decision, method == Method::HEAD).await;
    if resp.status().is_success() {
        // The file seeks by bytes: a time seek asked of it is not answered.
        let asked = bucketstream_dlna::streaming::Asked {
            time_seek: None,
            ..super::dlna::asked(&headers)
        };
        super::dlna::put_answer(resp.headers_mut(), asked.answer(false));
    }
    resp
}

async fn respond(
    state: &ServerState,
    item: &MediaItem,
    decision: Decision,
    head: bool,
) -> Response {
    let size = item.size;
    // The HTTP decision becomes a plain byte range here: the library knows nothing of HTTP.
    let (status, content_range, range) = match decision {
        Decision::Full => (StatusCode::OK, None, None),
        Decision::Partial { start, end } => (
            StatusCode::PARTIAL_CONTENT,
            Some(format!("bytes {start}-{end}/{size}")),
            Some((start, end)),
        ),
        Decision::Unsatisfiable { malformed } => {
            let why = if malformed {
                "malformed Range header"
            } else {
                "range not satisfiable"
            };
            let mut resp = (
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("{why}; the object has {size} bytes\n"),
            )
                .into_response();
            let h = resp.headers_mut();
            insert(h, header::CONTENT_RANGE, &format!("bytes */{size}"));
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return resp;
        }
    };
    let body = if head || decision.body_len(size) == 0 {
        Body::empty()
    } else {
        match state.library.open(item, range).await {
            Ok(body) => Body::from_stream(body.stream),
            Err(err) => {
                tracing::warn!(id = %item.id, error = %err, "cannot open media");
                if matches!(err, Error::Changed) {
                    // Let the next request see the new version.
                    let lib = state.library.clone();
                    tokio::spawn(async move {
                        let _ = lib.refresh().await;
                    });
                }
                return error_response(&err);
            }
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    insert(
        h,
        header::CONTENT_LENGTH,
        &decision.body_len(size).to_string(),
    );
    if let Some(cr) = content_range {
        insert(h, header::CONTENT_RANGE, &cr);
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(item.content_type),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    insert(
        h,
        header::CONTENT_DISPOSITION,
        &content_disposition(&item.key),
    );
    validators(h, item);
    resp
}

fn validators(h: &mut HeaderMap, item: &MediaItem) {
    if let Some(etag) = &item.etag {
        insert(h, header::ETAG, etag);
    }
    if let Some(lm) = &item.last_modified() {
        insert(h, header::LAST_MODIFIED, lm);
    }
}

/// Inserts a header, skipping values that are not valid header text (never panics).
fn insert(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// `inline` with the file name in RFC 8187 form (`filename*=UTF-8''...`), safe for any key.
pub fn content_disposition(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    let mut out = String::from("inline; filename*=UTF-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn dispositions_escape_everything_unsafe() {
        assert_eq!(
            content_disposition("a/b c.mp3"),
            "inline; filename*=UTF-8''b%20c.mp3"
        );
        assert_eq!(
            content_disposition("\u{e9}\"\r\n.mp3"),
            "inline; filename*=UTF-8''%C3%A9%22%0D%0A.mp3"
        );
    }
}
