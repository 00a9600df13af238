//! The core's error type, with the stable code and HTTP status each variant maps to at the edges.
//!
//! Front ends never match on message text: the LAN server turns an [`Error`] into a status and
//! a JSON body, the Tauri shell into `{code, message}`; both use [`Error::code`], an
//! [`ErrorCode`] that also carries the status and the help text.

use std::path::PathBuf;

mod code;

pub use code::ErrorCode;

/// Everything that can go wrong in the core, phrased so a person can act on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value (file, environment or flag) is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The config file exists but cannot be read or parsed.
    #[error("cannot read config file {path}: {reason}")]
    ConfigFile {
        /// The config file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A local media folder is missing or unreadable. The message names the folder by its
    /// last component only: it reaches LAN clients, who have no business seeing the host's
    /// paths (the whole path is in the `Debug` form, which goes to the log).
    #[error("media folder {:?} is not readable: {reason}", last_component(.path))]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The cache folder holds files the cache did not make; it refuses to start there.
    #[error(
        "the cache folder {} holds files that are not Bucketstream's (such as {found:?}); \
         nothing was changed. Choose an empty or new folder for the cache \
         (--cache-dir, BUCKETSTREAM_CACHE_DIR or cache.dir)",
        .path.display()
    )]
    CacheDirForeign {
        /// The cache folder.
        path: PathBuf,
        /// One file found there that the cache did not make.
        found: String,
    },
    /// The cache folder cannot be created, read or written.
    #[error("cannot use the cache folder {}: {reason}", .path.display())]
    CacheDir {
        /// The cache folder.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The S3 endpoint could not be reached (DNS, refused, timeout).
    #[error("S3 endpoint unreachable: {0}")]
    Unreachable(String),
    /// S3 rejected the credentials.
    #[error("S3 rejected the credentials: {0}")]
    BadCredentials(String),
    /// The credentials are valid but may not do this.
    #[error("S3 access denied: {0}")]
    AccessDenied(String),
    /// The bucket does not exist.
    #[error("no such bucket: {0}")]
    NoSuchBucket(String),
    /// S3 answered with an error we do not classify further (5xx, throttling...).
    #[error("S3 error: {0}")]
    Upstream(String),
    /// The item id is unknown (or the object vanished from the source).
    #[error("no such media item")]
    NotFound,
    /// The store answered a GetObject with something other than what was asked (another
    /// range, the whole object for a range, a wrong length): nothing of it is served or cached.
    #[error("the store answered with other bytes than asked: {0}")]
    StoreBadAnswer(String),
    /// The object changed at the source since the catalog snapshot; a refresh is needed.
    #[error("the object changed at the source; refresh the library")]
    Changed,
    /// A filesystem error while serving local media.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A bucket name S3 would refuse (checked before any request; or S3's `InvalidBucketName`).
    #[error("invalid bucket name: {0}")]
    BucketNameInvalid(String),
    /// The bucket name is taken by another account (S3's `BucketAlreadyExists`).
    #[error("the bucket name {0:?} is taken by another account; choose another name")]
    BucketTaken(String),
    /// A folder or file name for a move or rename that could leave the library or hide the
    /// item (`..`, an absolute path, control characters, backslashes, empty segments).
    #[error("invalid name: {0}")]
    NameInvalid(String),
    /// A move or rename would overwrite an existing object (the key is named).
    #[error("{0:?} already exists; choose another name")]
    TargetExists(String),
    /// A move of an object too large to copy (more parts than S3 allows in one upload).
    #[error("{0}")]
    TooLargeToCopy(String),
    /// Only the owner (the desktop window, a trusted network) may change the library.
    #[error("{0}")]
    OwnerOnly(String),
}

/// The last component of `path` (`"Music"` for `/home/ann/Music`), for messages others see.
pub fn last_component(path: &std::path::Path) -> String {
    path.components()
        .rev()
        .find_map(|c| match c {
            std::path::Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
            _ => None,
        })
        .unwrap_or_else(|| "/".to_owned())
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The message for the owner of the machine (a terminal, the desktop window, the log):
    /// as [`std::fmt::Display`], but naming folders by their whole path. LAN clients get the
    /// `Display` form only.
    pub fn for_owner(&self) -> String {
        match self {
            Error::Folder { path, reason } => {
                format!("media folder {} is not readable: {reason}", path.display())
            }
            other => other.to_string(),
        }
    }

    /// The stable machine-readable code (JSON bodies, WebSocket frames, Tauri IPC errors).
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Config(_) | Error::ConfigFile { .. } => ErrorCode::Config,
            Error::Folder { .. } => ErrorCode::FolderUnreadable,
            Error::CacheDirForeign { .. } => ErrorCode::CacheDirForeign,
            Error::CacheDir { .. } => ErrorCode::CacheDirUnusable,
            Error::Unreachable(_) => ErrorCode::EndpointUnreachable,
            Error::BadCredentials(_) => ErrorCode::BadCredentials,
            Error::AccessDenied(_) => ErrorCode::AccessDenied,
            Error::NoSuchBucket(_) => ErrorCode::NoSuchBucket,
            Error::Upstream(_) => ErrorCode::Upstream,
            Error::StoreBadAnswer(_) => ErrorCode::StoreBadAnswer,
            Error::NotFound => ErrorCode::NotFound,
            Error::Changed => ErrorCode::Changed,
            Error::Io(_) => ErrorCode::Io,
            Error::BucketNameInvalid(_) => ErrorCode::BucketNameInvalid,
            Error::BucketTaken(_) => ErrorCode::BucketTaken,
            Error::NameInvalid(_) => ErrorCode::NameInvalid,
            Error::TargetExists(_) => ErrorCode::TargetExists,
            Error::TooLargeToCopy(_) => ErrorCode::TooLargeToCopy,
            Error::OwnerOnly(_) => ErrorCode::OwnerOnly,
        }
    }

    /// The HTTP status the LAN server answers with (its code's, [`ErrorCode::http_status`]).
    pub fn http_status(&self) -> u16 {
        self.code().http_status()
    }
}

/// A copy for each reader of a shared failure ([`crate::cache`]'s fills keep theirs in an
/// `Arc`). Every variant is kept as it is; an [`Error::Io`] keeps its kind and message (an
/// `io::Error` is not `Clone`).
impl Clone for Error {
    fn clone(&self) -> Self {
        match self {
            Error::Config(s) => Error::Config(s.clone()),
            Error::ConfigFile { path, reason } => Error::ConfigFile {
                path: path.clone(),
                reason: reason.clone(),
            },
            Error::Folder { path, reason } => Error::Folder {
                path: path.clone(),
                reason: reason.clone(),
            },
            Error::CacheDirForeign { path, found } => Error::CacheDirForeign {
                path: path.clone(),
                found: found.clone(),
            },
            Error::CacheDir { path, reason } => Error::CacheDir {
                path: path.clone(),
                reason: reason.clone(),
            },
            Error::Unreachable(s) => Error::Unreachable(s.clone()),
            Error::BadCredentials(s) => Error::BadCredentials(s.clone()),
            Error::AccessDenied(s) => Error::AccessDenied(s.clone()),
            Error::NoSuchBucket(s) => Error::NoSuchBucket(s.clone()),
            Error::Upstream(s) => Error::Upstream(s.clone()),
            Error::NotFound => Error::NotFound,
            Error::StoreBadAnswer(s) => Error::StoreBadAnswer(s.clone()),
            Error::Changed => Error::Changed,
            Error::Io(e) => Error::Io(std::io::Error::new(e.kind(), e.to_string())),
            Error::BucketNameInvalid(s) => Error::BucketNameInvalid(s.clone()),
            Error::BucketTaken(s) => Error::BucketTaken(s.clone()),
            Error::NameInvalid(s) => Error::NameInvalid(s.clone()),
            Error::TargetExists(s) => Error::TargetExists(s.clone()),
            Error::TooLargeToCopy(s) => Error::TooLargeToCopy(s.clone()),
            Error::OwnerOnly(s) => Error::OwnerOnly(s.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_distinct_where_it_matters() {
        assert_eq!(Error::NotFound.http_status(), 404);
        assert_eq!(Error::Unreachable("x".into()).http_status(), 504);
        assert_eq!(Error::NoSuchBucket("b".into()).code(), "no_such_bucket");
        assert_eq!(Error::BadCredentials("k".into()).code(), "bad_credentials");
        assert!(Error::Changed.to_string().contains("refresh"));
        assert_eq!(Error::StoreBadAnswer("x".into()).code(), "store_bad_answer");
        assert_eq!(Error::StoreBadAnswer("x".into()).http_status(), 502);
        assert_eq!(Error::BucketTaken("b".into()).code(), "bucket_taken");
        assert_eq!(Error::BucketTaken("b".into()).http_status(), 409);
        assert_eq!(Error::BucketNameInvalid("x".into()).http_status(), 400);
        assert_eq!(Error::NameInvalid("x".into()).http_status(), 400);
        assert_eq!(Error::TargetExists("k".into()).http_status(), 409);
        assert_eq!(Error::OwnerOnly("x".into()).http_status(), 403);
        assert_eq!(Error::TooLargeToCopy("x".into()).http_status(), 422);
    }

    #[test]
    fn folder_errors_name_no_absolute_path() {
        let err = Error::Folder {
            path: "/home/ann/private/Music".into(),
            reason: "No such file or directory (os error 2)".into(),
        };
        let text = err.to_string();
        assert!(text.contains("\"Music\""), "{text}");
        assert!(!text.contains("/home"), "{text}");
        assert!(format!("{err:?}").contains("/home/ann/private/Music"));
        assert!(err.for_owner().contains("/home/ann/private/Music"));
        assert_eq!(last_component("/".as_ref()), "/");
    }
}
