//! The tus 1.0.0 protocol (<https://tus.io/protocols/resumable-upload>): core, creation,
//! creation-with-upload, termination, expiration and checksum.
//!
//! Handlers decide an [`Answer`] (what happened, as a value) and [`render`] turns it into the
//! HTTP response: the one place that knows the protocol's status codes and headers (`201` with
//! `Location`, `204` with `Upload-Offset` and `Upload-Expires`, `200` for HEAD, and each
//! refusal's status through its wire code: `409`, `410`, `412`, `413`, `415`, `460`...).

pub mod parse;

use std::time::SystemTime;

use bucketstream_core::wire::ErrorBody;
use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};

use crate::error::UploadError;
pub use parse::{Algorithm, Checksum, VERSION};

/// Extensions this server implements (`Tus-Extension`).
pub const EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration,checksum";

/// What a tus request gets.
#[derive(Debug)]
pub enum Answer {
    /// `OPTIONS`: the server's capabilities.
    Options {
        /// `Tus-Max-Size`.
        max_size: u64,
    },
    /// `POST`: the upload exists at `location` (with `offset` bytes already, for
    /// creation-with-upload).
    Created {
        /// The upload's URL path (`/api/uploads/ID`).
        location: String,
        /// Bytes received so far.
        offset: u64,
        /// When it expires unless written to.
        expires: SystemTime,
    },
    /// `HEAD`: where the upload is.
    Offset {
        /// Bytes received.
        offset: u64,
        /// The whole length.
        length: u64,
        /// When it expires (`None`: complete, kept only to answer HEAD).
        expires: Option<SystemTime>,
    },
    /// `PATCH`: the bytes are stored (durably) up to `offset`.
    Patched {
        /// The new offset.
        offset: u64,
        /// When it expires unless written to (`None`: complete).
        expires: Option<SystemTime>,
    },
    /// `DELETE`: the upload is gone and nothing of it is left.
    Terminated,
    /// A refusal or a failure.
    Refused(UploadError),
}

fn set(resp: &mut Response<Bytes>, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, value);
    }
}

/// The HTTP response for `answer`. Every answer carries `Tus-Resumable` and
/// `Cache-Control: no-store`; refusals carry the usual JSON error body (`{"error":{code,
/// message}}`) with their code's status (and `Tus-Version` for a version refusal).
pub fn render(answer: &Answer) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::new());
    let status = match answer {
        Answer::Options { max_size } => {
            set(&mut resp, "tus-version", VERSION);
            set(&mut resp, "tus-extension", EXTENSIONS);
            set(&mut resp, "tus-max-size", &max_size.to_string());
            set(&mut resp, "tus-checksum-algorithm", Algorithm::ADVERTISED);
            StatusCode::NO_CONTENT
        }
        Answer::Created {
            location,
            offset,
            expires,
        } => {
            set(&mut resp, "location", location);
            set(&mut resp, "upload-offset", &offset.to_string());
            set(
                &mut resp,
                "upload-expires",
                &httpdate::fmt_http_date(*expires),
            );
            StatusCode::CREATED
        }
        Answer::Offset {
            offset,
            length,
            expires,
        } => {
            set(&mut resp, "upload-offset", &offset.to_string());
            set(&mut resp, "upload-length", &length.to_string());
            if let Some(expires) = expires {
                set(
                    &mut resp,
                    "upload-expires",
                    &httpdate::fmt_http_date(*expires),
                );
            }
            StatusCode::OK
        }
        Answer::Patched { offset, expires } => {
            set(&mut resp, "upload-offset", &offset.to_string());
            if let Some(expires) = expires {
                set(
                    &mut resp,
                    "upload-expires",
                    &httpdate::fmt_http_date(*expires),
                );
            }
            StatusCode::NO_CONTENT
        }
        Answer::Terminated => StatusCode::NO_CONTENT,
        Answer::Refused(err) => {
            if matches!(err, UploadError::Version) {
                set(&mut resp, "tus-version", VERSION);
            }
            let body = ErrorBody::new(err.code(), err.to_string());
            *resp.body_mut() = Bytes::from(body.to_json());
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            StatusCode::from_u16(body.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
    };
    *resp.status_mut() = status;
    set(&mut resp, "tus-resumable", VERSION);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn header<'a>(resp: &'a Response<Bytes>, name: &str) -> Option<&'a str> {
        resp.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn statuses_and_headers_follow_the_protocol() {
        let at = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        type Case = (Answer, u16, &'static [(&'static str, &'static str)]);
        let cases: Vec<Case> = vec![
            (
                Answer::Options { max_size: 42 },
                204,
                &[("tus-version", "1.0.0"), ("tus-max-size", "42")],
            ),
            (
                Answer::Created {
                    location: "/api/uploads/ab".into(),
                    offset: 0,
                    expires: at,
                },
                201,
                &[
                    ("location", "/api/uploads/ab"),
                    ("upload-expires", "Sun, 09 Sep 2001 01:46:40 GMT"),
                ],
            ),
            (
                Answer::Offset {
                    offset: 5,
                    length: 9,
                    expires: None,
                },
                200,
                &[("upload-offset", "5"), ("upload-length", "9")],
            ),
            (
                Answer::Patched {
                    offset: 9,
                    expires: Some(at),
                },
                204,
                &[("upload-offset", "9")],
            ),
            (Answer::Terminated, 204, &[]),
            (
                Answer::Refused(UploadError::Version),
                412,
                &[("tus-version", "1.0.0")],
            ),
            (Answer::Refused(UploadError::Conflict("x".into())), 409, &[]),
            (Answer::Refused(UploadError::Checksum), 460, &[]),
            (Answer::Refused(UploadError::Gone), 410, &[]),
            (Answer::Refused(UploadError::NotFound), 404, &[]),
            (Answer::Refused(UploadError::TooLarge("x".into())), 413, &[]),
            (
                Answer::Refused(UploadError::UnsupportedType("x".into())),
                415,
                &[],
            ),
            (Answer::Refused(UploadError::Forbidden), 403, &[]),
            (Answer::Refused(UploadError::BadName("x".into())), 400, &[]),
        ];
        for (answer, status, headers) in cases {
            let resp = render(&answer);
            assert_eq!(resp.status().as_u16(), status, "{answer:?}");
            assert_eq!(header(&resp, "tus-resumable"), Some("1.0.0"));
            assert_eq!(header(&resp, "cache-control"), Some("no-store"));
            for (name, value) in headers {
                assert_eq!(header(&resp, name), Some(*value), "{answer:?} {name}");
            }
            if let Answer::Refused(err) = &answer {
                let body: serde_json::Value =
                    serde_json::from_slice(resp.body()).expect("json body");
                assert_eq!(body["error"]["code"], err.code().as_str());
            }
        }
    }
}
