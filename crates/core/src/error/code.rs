//! Every error code Bucketstream puts on a wire, with its HTTP status and its help text.
//!
//! One enum instead of string literals scattered over the server, the gate, the limits, the
//! WebSocket and the desktop shell: a new code is one variant here, and the compiler then asks
//! for its status and its texts. Codes serialise as the snake_case strings clients already
//! know, so the wire does not change. The player's help texts (`ui/errors.js`) are generated
//! from [`ErrorCode::ALL`] and checked against it by a test.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // The core's errors (`crate::Error::code`).
    /// A configuration value or the config file is invalid.
    Config,
    /// A local media folder is missing or unreadable.
    FolderUnreadable,
    /// The cache folder holds files that are not the cache's.
    CacheDirForeign,
    /// The cache folder cannot be created, read or written.
    CacheDirUnusable,
    /// The S3 endpoint could not be reached.
    EndpointUnreachable,
    /// S3 rejected the credentials.
    BadCredentials,
    /// The credentials may not do this.
    AccessDenied,
    /// The bucket does not exist.
    NoSuchBucket,
    /// S3 answered with an error not classified further.
    Upstream,
    /// The store answered with other bytes than asked.
    StoreBadAnswer,
    /// No such media item.
    NotFound,
    /// The object changed at the source since the listing.
    Changed,
    /// A filesystem error.
    Io,
    /// A bucket name S3 would refuse.
    BucketNameInvalid,
    /// The bucket name belongs to another account.
    BucketTaken,
    /// A folder or file name for a move or rename that is refused.
    NameInvalid,
    /// A move or rename would overwrite an existing object.
    TargetExists,
    /// An object too large to copy, even in parts.
    TooLargeToCopy,
    /// Only the owner may change the library.
    OwnerOnly,
    // The gate (`crate::server::guard`).
    /// HTTP/1.1 without a `Host` header.
    MissingHost,
    /// More than one `Host` header.
    DuplicateHost,
    /// `Host` does not name this server.
    WrongHost,
    /// A WebSocket or state-changing request from another site's page.
    CrossSite,
    /// The device is not paired (no valid key or cookie).
    Unauthorized,
    // The limits (`crate::server::limits`, the WebSocket handshake).
    /// The server has too many connections.
    Busy,
    /// This device has too many connections open.
    TooManyConnections,
    /// This device has too many requests in flight.
    TooManyRequests,
    /// This device has too many WebSockets open.
    TooManyWebsockets,
    // WebSocket error frames (`crate::server::ws`).
    /// A JSON message that is not valid JSON or has no string `type`.
    Malformed,
    /// A JSON message whose `type` the server does not know.
    UnknownType,
    /// A text message that is neither `fetch_videos` nor a JSON object.
    UnknownMessage,
    /// A message over the size limit.
    TooLarge,
    /// A binary message.
    BinaryUnsupported,
    /// Messages faster than the rate limit.
    RateLimited,
    // The desktop shell's own (IPC only, never on the LAN).
    /// No OS keyring is available.
    NoKeyring,
    /// The OS keyring refused.
    Keyring,
    /// The `.env` file to import cannot be read.
    EnvFile,
    /// The LAN server cannot listen.
    LanBind,
    /// The LAN access key cannot be made, read or stored.
    LanKey,
    /// A background task panicked or was cancelled (also on the LAN: a page of
    /// `/api/videos` is made on the blocking pool).
    Internal,
    // Uploads (`bucketstream_upload`, `/api/uploads`).
    /// This device may not upload (LAN uploads are off).
    UploadForbidden,
    /// A tus request without `Tus-Resumable: 1.0.0`.
    TusVersion,
    /// A tus header, or a file or folder name, that is refused.
    BadUpload,
    /// Not a kind of media the library plays (or not `application/offset+octet-stream`).
    UnsupportedType,
    /// `Upload-Offset` is not the upload's, or another request is writing it.
    UploadConflict,
    /// `Upload-Checksum` does not match the bytes received.
    ChecksumMismatch,
    /// The upload expired and was discarded.
    UploadGone,
    // Paging and search (`crate::catalog::query`, `GET /api/videos?…`).
    /// A paging or search parameter that is refused (unknown, repeated, out of range).
    BadQuery,
    // Remux and transcode (`/transcode/{id}`).
    /// ffmpeg is not installed on the host: the item can only be downloaded.
    FfmpegMissing,
    /// As many transcodes as allowed are running (`Retry-After` says when to try again).
    TranscodeBusy,
    /// ffmpeg could not convert the item (unreadable or unsupported source).
    TranscodeFailed,
    /// A renderer's `TimeSeekRange.dlna.org` starts at or past the item's end.
    SeekPastEnd,
    // Subtitles (`/subtitles/{id}/{sub}.vtt`).
    /// A subtitle file or track that cannot be read or converted to WebVTT.
    SubtitleUnreadable,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 53] = [
        ErrorCode::Config,
        ErrorCode::FolderUnreadable,
        ErrorCode::CacheDirForeign,
        ErrorCode::CacheDirUnusable,
        ErrorCode::EndpointUnreachable,
        ErrorCode::BadCredentials,
        ErrorCode::AccessDenied,
        ErrorCode::NoSuchBucket,
        ErrorCode::Upstream,
        ErrorCode::StoreBadAnswer,
        ErrorCode::NotFound,
        ErrorCode::Changed,
        ErrorCode::Io,
        ErrorCode::BucketNameInvalid,
        ErrorCode::BucketTaken,
        ErrorCode::NameInvalid,
        ErrorCode::TargetExists,
        ErrorCode::TooLargeToCopy,
        ErrorCode::OwnerOnly,
        ErrorCode::MissingHost,
        ErrorCode::DuplicateHost,
        ErrorCode::WrongHost,
        ErrorCode::CrossSite,
        ErrorCode::Unauthorized,
        ErrorCode::Busy,
        ErrorCode::TooManyConnections,
        ErrorCode::TooManyRequests,
        ErrorCode::TooManyWebsockets,
        ErrorCode::Malformed,
        ErrorCode::UnknownType,
        ErrorCode::UnknownMessage,
        ErrorCode::TooLarge,
        ErrorCode::BinaryUnsupported,
        ErrorCode::RateLimited,
        ErrorCode::NoKeyring,
        ErrorCode::Keyring,
        ErrorCode::EnvFile,
        ErrorCode::LanBind,
        ErrorCode::LanKey,
        ErrorCode::Internal,
        ErrorCode::UploadForbidden,
        ErrorCode::TusVersion,
        ErrorCode::BadUpload,
        ErrorCode::UnsupportedType,
        ErrorCode::UploadConflict,
        ErrorCode::ChecksumMismatch,
        ErrorCode::UploadGone,
        ErrorCode::BadQuery,
        ErrorCode::FfmpegMissing,
        ErrorCode::TranscodeBusy,
        ErrorCode::TranscodeFailed,
        ErrorCode::SeekPastEnd,
        ErrorCode::SubtitleUnreadable,
    ];

    /// The code as it appears on the wire (`"no_such_bucket"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Config => "config",
            ErrorCode::FolderUnreadable => "folder_unreadable",
            ErrorCode::CacheDirForeign => "cache_dir_foreign",
            ErrorCode::CacheDirUnusable => "cache_dir_unusable",
            ErrorCode::EndpointUnreachable => "endpoint_unreachable",
            ErrorCode::BadCredentials => "bad_credentials",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::NoSuchBucket => "no_such_bucket",
            ErrorCode::Upstream => "upstream",
            ErrorCode::StoreBadAnswer => "store_bad_answer",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Changed => "changed",
            ErrorCode::Io => "io",
            ErrorCode::BucketNameInvalid => "bucket_name_invalid",
            ErrorCode::BucketTaken => "bucket_taken",
            ErrorCode::NameInvalid => "name_invalid",
            ErrorCode::TargetExists => "target_exists",
            ErrorCode::TooLargeToCopy => "too_large_to_copy",
            ErrorCode::OwnerOnly => "owner_only",
            ErrorCode::MissingHost => "missing_host",
            ErrorCode::DuplicateHost => "duplicate_host",
            ErrorCode::WrongHost => "wrong_host",
            ErrorCode::CrossSite => "cross_site",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Busy => "busy",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::TooManyWebsockets => "too_many_websockets",
            ErrorCode::Malformed => "malformed",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::UnknownMessage => "unknown_message",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::BinaryUnsupported => "binary_unsupported",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NoKeyring => "no_keyring",
            ErrorCode::Keyring => "keyring",
            ErrorCode::EnvFile => "env_file",
            ErrorCode::LanBind => "lan_bind",
            ErrorCode::LanKey => "lan_key",
            ErrorCode::Internal => "internal",
            ErrorCode::UploadForbidden => "upload_forbidden",
            ErrorCode::TusVersion => "tus_version",
            ErrorCode::BadUpload => "bad_upload",
            ErrorCode::UnsupportedType => "unsupported_type",
            ErrorCode::UploadConflict => "upload_conflict",
            ErrorCode::ChecksumMismatch => "checksum_mismatch",
            ErrorCode::UploadGone => "upload_gone",
            ErrorCode::BadQuery => "bad_query",
            ErrorCode::FfmpegMissing => "ffmpeg_missing",
            ErrorCode::TranscodeBusy => "transcode_busy",
            ErrorCode::TranscodeFailed => "transcode_failed",
            ErrorCode::SubtitleUnreadable => "subtitle_unreadable",
            ErrorCode::SeekPastEnd => "seek_past_end",
        }
    }

    /// The HTTP status of an answer with this code. WebSocket frame codes never travel in an
    /// HTTP answer; theirs say what the same refusal would be over HTTP.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            MissingHost | DuplicateHost | Malformed | UnknownType | UnknownMessage
            | BinaryUnsupported | BucketNameInvalid | NameInvalid | BadUpload | BadQuery => 400,
            Unauthorized => 401,
            CrossSite | OwnerOnly | UploadForbidden => 403,
            NotFound => 404,
            BucketTaken | TargetExists | UploadConflict => 409,
            UploadGone => 410,
            TusVersion => 412,
            TooLarge => 413,
            UnsupportedType => 415,
            SeekPastEnd => 416,
            TooLargeToCopy | TranscodeFailed | SubtitleUnreadable => 422,
            // tus's checksum extension: "460 Checksum Mismatch".
            ChecksumMismatch => 460,
            WrongHost => 421,
            TooManyConnections | TooManyRequests | TooManyWebsockets | RateLimited => 429,
            Config | FolderUnreadable | CacheDirForeign | CacheDirUnusable | Io | NoKeyring
            | Keyring | EnvFile | LanBind | LanKey | Internal => 500,
            BadCredentials | AccessDenied | NoSuchBucket | Upstream | StoreBadAnswer => 502,
            Changed | Busy | FfmpegMissing | TranscodeBusy => 503,
            EndpointUnreachable => 504,
        }
    }

    /// Whether LAN clients can get this code (the desktop shell's own codes travel over IPC
    /// only). The README's LAN API section names exactly these.
    pub fn on_lan(self) -> bool {
        use ErrorCode::*;
        !matches!(self, NoKeyring | Keyring | EnvFile | LanBind | LanKey)
    }

    /// What went wrong and what the person can do about it, `(title, help)`, for the codes a
    /// person can act on: the desktop shell appends the help to its messages, the player
    /// shows both (`ui/errors.js`, generated from this). The texts suit both the owner (the
    /// desktop window) and a LAN listener (the player in a browser).
    pub fn help(self) -> Option<(&'static str, &'static str)> {
        use ErrorCode::*;
        Some(match self {
            NoSuchBucket => (
                "The bucket does not exist",
                "Check the bucket name (and the region or endpoint it lives at) in the \
                 settings, or the server's --bucket / BUCKET_NAME.",
            ),
            EndpointUnreachable => (
                "S3 is unreachable",
                "Check the endpoint URL and the network connection; the server did not \
                 answer. Bucketstream keeps retrying on its own.",
            ),
            BadCredentials => (
                "S3 refused the credentials",
                "Check the access key id and the secret access key (AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY, or the profile).",
            ),
            AccessDenied => (
                "S3 denied access",
                "The key works but may not list or read this bucket: grant it read access.",
            ),
            FolderUnreadable => (
                "A media folder cannot be read",
                "Check that the media folder (in the settings, or the server's --media-dir) \
                 exists and is readable.",
            ),
            Config => (
                "Bucketstream is not configured correctly",
                "Correct the setting the message names (settings file, environment or flag).",
            ),
            Upstream => (
                "The storage answered with an error",
                "Bucketstream keeps retrying; its log has the details.",
            ),
            CacheDirForeign => (
                "The cache folder holds other files",
                "The cache only uses an empty folder or one it made: set `dir` in the \
                 settings file's [cache] table to a new folder (nothing in this one was \
                 touched).",
            ),
            CacheDirUnusable => (
                "The cache folder cannot be used",
                "Check that the cache folder is writable and the disk has room.",
            ),
            NoKeyring => (
                "No keyring is available",
                "Credentials cannot be saved. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or use \
                 an AWS profile (~/.aws/credentials), then restart.",
            ),
            FfmpegMissing => (
                "This item needs ffmpeg to play",
                "The browser cannot play this format as it is, and the host has no ffmpeg to \
                 convert it: install ffmpeg on the host (Debian: apt install ffmpeg), or \
                 download the file.",
            ),
            LanBind => (
                "The media server cannot start",
                "Choose another port in the LAN settings.",
            ),
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `code == "no_such_bucket"`: codes compare with their wire strings.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}
