//! Where bytes come from: an S3 bucket or local folders, behind one small enum.
//!
//! A source does two things: list its objects, and open one (optionally a byte range of it)
//! as a stream. The catalog and the server use only [`Source`]; the edge cache
//! ([`crate::cache`]) reads through it for an S3 source.

mod answer;
pub mod failover;
pub mod local;
pub mod manage;
pub mod s3;
pub mod s3list;

use std::io;
use std::pin::Pin;
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::Stream;

use crate::config::SourceConfig;
use crate::error::Result;

/// One object as listed by a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The full key (S3) or the path relative to the library root, with `/` separators.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The entity tag, quoted as in HTTP (`"abc"`), when the source has one.
    pub etag: Option<String>,
    /// Last modification time.
    pub last_modified: Option<SystemTime>,
}

/// A stream of body bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// An opened object (or range of one).
pub struct ObjectBody {
    /// The bytes asked for, streamed.
    pub stream: ByteStream,
    /// How many bytes `stream` yields.
    pub len: u64,
}

/// A library origin.
pub enum Source {
    /// An S3 bucket.
    S3(s3::S3Source),
    /// Local folders.
    Local(local::LocalSource),
}

impl Source {
    /// Builds the source a config names. S3 needs no network here; a bad folder fails now.
    pub async fn from_config(config: &SourceConfig) -> Result<Source> {
        Ok(match config {
            SourceConfig::S3(cfg) => Source::S3(s3::S3Source::new(cfg).await),
            SourceConfig::Local(cfg) => Source::Local(local::LocalSource::new(&cfg.roots)?),
        })
    }

    /// Lists every object (all pages); media filtering is the catalog's job.
    pub async fn list(&self) -> Result<Vec<ObjectMeta>> {
        match self {
            Source::S3(s) => s.list().await,
            Source::Local(l) => l.list().await,
        }
    }

    /// Opens `key` (listed with `etag` and `size`), the inclusive byte range `range` of it
    /// when given. When `etag` is given and the object no longer has it, fails with
    /// [`crate::Error::Changed`] rather than splice bytes of two versions; an S3 answer that
    /// is not exactly the asked bytes fails with [`crate::Error::StoreBadAnswer`].
    pub async fn open(
        &self,
        key: &str,
        etag: Option<&str>,
        size: u64,
        range: Option<(u64, u64)>,
    ) -> Result<ObjectBody> {
        match self {
            Source::S3(s) => s.open(key, etag, size, range).await,
            Source::Local(l) => l.open(key, etag, range).await,
        }
    }

    /// `"s3"` or `"local"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::S3(_) => "s3",
            Source::Local(_) => "local",
        }
    }

    /// A human description with no secret in it (bucket and endpoint, or folders).
    pub fn describe(&self) -> String {
        match self {
            Source::S3(s) => s.describe(),
            Source::Local(l) => l.describe(),
        }
    }

    /// An identity that goes into item ids, so two libraries never share ids.
    pub fn identity(&self) -> String {
        match self {
            Source::S3(s) => s.describe(),
            Source::Local(_) => "local".to_owned(),
        }
    }

    /// The prefix under which keys are listed (stripped from display folders).
    pub fn prefix(&self) -> &str {
        match self {
            Source::S3(s) => s.prefix(),
            Source::Local(_) => "",
        }
    }
}
