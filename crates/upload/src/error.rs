//! Why an upload request is refused, each reason with its stable wire code (and so its HTTP
//! status, [`bucketstream_core::error::ErrorCode::http_status`]).

use bucketstream_core::error::{Error, ErrorCode};

/// An upload request refused, or a write that failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// This client may not upload (a LAN device while `lan.uploads` is off).
    #[error("uploads from devices on the LAN are off; the owner can allow them (lan.uploads, BUCKETSTREAM_LAN_UPLOADS)")]
    Forbidden,
    /// `Tus-Resumable` is missing or names a version other than 1.0.0.
    #[error("this server speaks tus 1.0.0 (Tus-Resumable: 1.0.0)")]
    Version,
    /// A tus header is missing or malformed.
    #[error("{0}")]
    Malformed(String),
    /// The file or folder name is refused.
    #[error("{0}")]
    BadName(String),
    /// The file is not a kind of media the library plays, or the body is not
    /// `application/offset+octet-stream`.
    #[error("{0}")]
    UnsupportedType(String),
    /// Larger than the configured maximum (or more bytes than the upload's length).
    #[error("{0}")]
    TooLarge(String),
    /// `Upload-Offset` is not the upload's offset, or another request is writing it.
    #[error("{0}")]
    Conflict(String),
    /// `Upload-Checksum` does not match the bytes received; they were discarded.
    #[error("the checksum does not match the bytes received; they were discarded")]
    Checksum,
    /// No such upload.
    #[error("no such upload")]
    NotFound,
    /// The upload expired (it was aborted).
    #[error("the upload expired and was discarded; start it again")]
    Gone,
    /// Too many unfinished uploads on this server.
    #[error("too many unfinished uploads; finish or cancel some first")]
    TooMany,
    /// The store or the disk failed.
    #[error(transparent)]
    Store(#[from] Error),
}

impl UploadError {
    /// The wire code (its HTTP status is the code's).
    pub fn code(&self) -> ErrorCode {
        match self {
            UploadError::Forbidden => ErrorCode::UploadForbidden,
            UploadError::Version => ErrorCode::TusVersion,
            UploadError::Malformed(_) | UploadError::BadName(_) => ErrorCode::BadUpload,
            UploadError::UnsupportedType(_) => ErrorCode::UnsupportedType,
            UploadError::TooLarge(_) => ErrorCode::TooLarge,
            UploadError::Conflict(_) => ErrorCode::UploadConflict,
            UploadError::Checksum => ErrorCode::ChecksumMismatch,
            UploadError::NotFound => ErrorCode::NotFound,
            UploadError::Gone => ErrorCode::UploadGone,
            UploadError::TooMany => ErrorCode::TooManyRequests,
            UploadError::Store(e) => e.code(),
        }
    }
}

impl From<std::io::Error> for UploadError {
    fn from(e: std::io::Error) -> Self {
        UploadError::Store(Error::Io(e))
    }
}

/// The result of upload operations.
pub type Result<T, E = UploadError> = std::result::Result<T, E>;
