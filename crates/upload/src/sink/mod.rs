//! Where an upload's bytes go: [`s3`] (one multipart upload, parts staged on disk) or
//! [`local`] (a hidden temporary file in the target folder, renamed without overwriting).

#[cfg(unix)]
pub mod local;
pub mod parts;
pub mod s3;
