//! An S3 or S3-compatible bucket as a library, through aws-sdk-s3.
//!
//! Listing fans ListObjectsV2 pages out over folders ([`super::s3list`]); opening is a (ranged) GetObject whose
//! body streams through without being buffered whole, once its status, `Content-Range`, length
//! and ETag are checked against what was asked ([`super::answer`]). SDK errors are classified into the
//! core's actionable errors (unreachable, bad credentials, no such bucket, access denied).

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use tokio_util::io::ReaderStream;

use super::answer::{self, Answer, Asked};
use super::failover::{Failover, FailoverResolver, StoreStatus, Watch};
use super::ObjectBody;
use crate::config::S3Config;
use crate::error::{Error, Result};

/// Read buffer for object bodies.
const READ_CHUNK: usize = 64 * 1024;

/// A bucket and the client that reaches it.
pub struct S3Source {
    /// The SDK client (cheap to clone, shares its connection pool).
    client: Client,
    /// Bucket name.
    bucket: String,
    /// Only keys under this prefix are listed.
    prefix: String,
    /// Endpoint for display (`None`: AWS).
    endpoint: Option<String>,
    /// The configured endpoints, the one in use, and how the last request went.
    failover: Arc<Failover>,
}

impl S3Source {
    /// Builds the client from config; makes no request.
    pub async fn new(cfg: &S3Config) -> S3Source {
        let region = RegionProviderChain::first_try(cfg.region.clone().map(Region::new))
            .or_default_provider()
            .or_else(Region::new("us-east-1"));
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    // Until response headers (bodies stream after the operation returns).
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            // A paused player stops reading; that must not be taken for a stalled server.
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
        if let Some(creds) = &cfg.credentials {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                creds.access_key_id.clone(),
                creds.secret_access_key.expose().clone(),
                creds.session_token.as_ref().map(|t| t.expose().clone()),
                None,
                "bucketstream",
            ));
        }
        if let Some(endpoint) = &cfg.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let shared = loader.load().await;
        let endpoints: Vec<String> = cfg
            .endpoint
            .iter()
            .chain(&cfg.failover_endpoints)
            .cloned()
            .collect();
        let several = endpoints.len() > 1;
        let failover = Arc::new(Failover::new(endpoints));
        let mut builder = aws_sdk_s3::config::Builder::from(&shared);
        if several {
            // Each attempt goes to the endpoint in use; the watch moves it on when it is
            // unreachable, so the SDK's retry of the same request tries the next node.
            builder = builder.endpoint_resolver(FailoverResolver::new(failover.clone()));
        }
        let conf = builder
            .interceptor(Watch(failover.clone()))
            .force_path_style(cfg.path_style)
            // S3-compatible stores differ in checksum support: only when the API requires it.
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .response_checksum_validation(
                aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired,
            )
            .build();
        S3Source {
            client: Client::from_conf(conf),
            bucket: cfg.bucket.clone(),
            prefix: cfg.prefix.clone(),
            endpoint: cfg.endpoint.clone(),
            failover,
        }
    }

    /// How the last request to the store went, and the endpoint in use (`/api/health`'s
    /// `store`).
    pub fn store_status(&self) -> StoreStatus {
        self.failover.status()
    }

    /// `s3://bucket/prefix` and the endpoint, never credentials.
    pub fn describe(&self) -> String {
        match &self.endpoint {
            Some(ep) => format!("s3://{}/{} at {ep}", self.bucket, self.prefix),
            None => format!("s3://{}/{}", self.bucket, self.prefix),
        }
    }

    /// The listing prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The SDK client, for the writes other modules make (uploads, bucket management).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A (ranged) GetObject, conditional on the listed ETag, whose answer is checked against
    /// what was asked (status, `Content-Range`, length, ETag: [`super::answer`]) before a byte
    /// of it is used.
    pub async fn open(
        &self,
        key: &str,
        etag: Option<&str>,
        size: u64,
        range: Option<(u64, u64)>,
    ) -> Result<ObjectBody> {
        let mut req = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some((start, end)) = range {
            req = req.range(format!("bytes={start}-{end}"));
        }
        if let Some(etag) = etag {
            req = req.if_match(etag);
        }
        let status = Arc::new(AtomicU16::new(0));
        let out = req
            .customize()
            .interceptor(StatusRecorder(status.clone()))
            .send()
            .await
            .map_err(|e| classify_get(e, &self.bucket))?;
        let content_length = out.content_length().and_then(|n| u64::try_from(n).ok());
        answer::check(
            &Asked { etag, size, range },
            &Answer {
                status: status.load(Ordering::Acquire),
                content_range: out.content_range(),
                content_length,
                etag: out.e_tag(),
            },
        )?;
        let reader = out.body.into_async_read();
        Ok(ObjectBody {
            stream: Box::pin(ReaderStream::with_capacity(reader, READ_CHUNK)),
            len: content_length.unwrap_or(0),
        })
    }
}

/// Records the HTTP status of the response the SDK deserialises (the output type has none).
#[derive(Debug)]
struct StatusRecorder(Arc<AtomicU16>);

impl Intercept for StatusRecorder {
    fn name(&self) -> &'static str {
        "bucketstream-status-recorder"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .store(context.response().status().as_u16(), Ordering::Release);
        Ok(())
    }
}

impl S3Source {
    /// A GET URL for `key` valid for `ttl`, signed with the configured credentials.
    pub async fn presign(&self, key: &str, etag: Option<&str>, ttl: Duration) -> Result<String> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(ttl)
            .map_err(|e| Error::Config(e.to_string()))?;
        let mut req = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some(etag) = etag {
            req = req.if_match(etag);
        }
        let signed = req
            .presigned(config)
            .await
            .map_err(|e| Error::Upstream(describe_chain(&e)))?;
        Ok(signed.uri().to_owned())
    }
}

/// Classifies a GetObject failure: a failed If-Match means the object changed.
fn classify_get<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    bucket: &str,
) -> Error {
    if let SdkError::ServiceError(se) = &err {
        let status = se.raw().status().as_u16();
        let code = se.err().code().unwrap_or("");
        if status == 412 || code == "PreconditionFailed" {
            return Error::Changed;
        }
        if code == "NoSuchKey" || (status == 404 && code != "NoSuchBucket") {
            return Error::NotFound;
        }
    }
    classify(err, bucket)
}

/// Maps an SDK error to an error a person can act on.
pub fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    bucket: &str,
) -> Error {
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            Error::Unreachable(describe_chain(&err))
        }
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code().unwrap_or("").to_owned();
            let message = se.err().message().unwrap_or("").to_owned();
            let detail = if message.is_empty() {
                format!("{code} (HTTP {status})")
            } else {
                format!("{code}: {message} (HTTP {status})")
            };
            match code.as_str() {
                "NoSuchBucket" => Error::NoSuchBucket(bucket.to_owned()),
                "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "InvalidToken"
                | "ExpiredToken" => Error::BadCredentials(detail),
                // Garage and MinIO answer a bad secret or unknown key with a 403 AccessDenied
                // whose message names the cause.
                _ if looks_like_bad_credentials(&message) => Error::BadCredentials(detail),
                "AccessDenied" | "AllAccessDisabled" => Error::AccessDenied(detail),
                _ if status == 404 => Error::NoSuchBucket(bucket.to_owned()),
                _ if status == 403 => Error::AccessDenied(detail),
                _ => Error::Upstream(detail),
            }
        }
        _ => Error::Upstream(describe_chain(&err)),
    }
}

/// Whether an access-denied message is really about the key or the signature.
fn looks_like_bad_credentials(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "signature",
        "no such key",
        "invalid key",
        "access key",
        "unknown key",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// The error and its sources on one line (the SDK's top-level text alone says "dispatch failure").
pub(crate) fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}
