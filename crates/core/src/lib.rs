//! Bucketstream's core: everything the desktop app and the headless server share, with no GUI dependency.
//!
//! Bucketstream plays a media library that lives in an S3 bucket (or a local folder) and
//! re-serves it to every browser on the LAN. This crate holds all of that logic so that it
//! builds and tests on machines without GTK/WebKit; the Tauri shell and the
//! `bucketstream-server` binary are thin glue over it.
//!
//! Like tokio's mini-redis, the library never binds a socket or reads the process
//! environment by itself: callers hand it a [`config::Config`], a bound listener and a
//! shutdown future (`bucketstream_lan::run`, in its own crate). The one exception is [`app`], which the binaries
//! call to gather their inputs (environment, config file, default folders) the same way.
//!
//! The crate is Unix-only: the edge cache reads and writes its chunk files at offsets with
//! `std::os::unix::fs::FileExt` and sets their modes, so it does not build elsewhere.
//!
//! # Layout
//! - [`config`]: the one typed configuration (defaults < TOML file < environment < CLI), and
//!   [`config::settings`], the desktop settings form's logic.
//! - [`app`]: the glue both binaries share (logging, environment, config file, bind errors).
//! - [`media`]: which object keys are media, their kind (audio/video) and Content-Type.
//! - [`source`]: where bytes come from: [`source::s3`] (aws-sdk-s3) and [`source::local`].
//! - [`cache`]: the edge cache in front of an S3 source: chunks on local disk, each fetched
//!   once however many clients want it (Unix-only).
//! - [`catalog`]: the in-memory snapshot of the library, refreshes and their diffs.
//! - [`range`]: pure RFC 9110 byte-range decisions, table-tested.
//! - [`secret`]: the `Sensitive` wrapper and the secret-store trait.
//! - [`library`]: [`library::Library`], the shared state built once and handed to every front end.
//! - [`error`]: the crate's error enum and its HTTP / IPC codes.
//! - [`wire`]: the wire protocol, typed: error codes with their status and help text, the
//!   JSON error body, the WebSocket messages.

pub mod app;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod error;
pub mod library;
pub mod media;
pub mod range;
pub mod secret;
pub mod source;
pub mod trim;
pub mod wire;

pub use config::Config;
pub use error::{Error, Result};
pub use library::Library;
