//! Uploads into the library (issue #14): the tus 1.0.0 protocol at `/api/uploads`, so that
//! existing clients (tus-js-client, Uppy, tuspy) work, and the writes behind it.
//!
//! - [`tus`]: pure parsing of the protocol's headers and the [`tus::Answer`] a request gets,
//!   rendered to HTTP in one place ([`tus::render`]);
//! - [`name`]: `Upload-Metadata`'s `filename` and `folder` checked and turned into a key;
//! - [`store`]: each upload's state as one JSON file under `data_dir/uploads/`, written
//!   atomically before an offset is acknowledged, read back at start (resume across a restart);
//! - [`sink`]: where the bytes go: one S3 multipart upload (parts staged on disk), or a hidden
//!   temporary file in the target folder renamed without overwriting;
//! - [`Uploads`]: the uploads of one library (create, write, offset, terminate, expiry sweep).

pub mod error;
mod manager;
pub mod name;
pub mod sink;
pub mod store;
pub mod tus;

pub use error::UploadError;
pub use manager::{Settings, Uploads};
