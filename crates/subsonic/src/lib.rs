//! The OpenSubsonic API that phone and desktop Subsonic clients speak (`/rest/*`), so the apps
//! people already use can browse and play a Bucketstream library.
//!
//! This crate holds the protocol, free of HTTP servers and of the library: the request's
//! parameters ([`params`]), who is asking ([`auth`]), the error codes ([`error`]), and the answer
//! as one tree rendered as XML (the spec's default) or JSON ([`envelope`]). The LAN server
//! decides each answer as an [`envelope::Node`] and renders it in one place.

pub mod auth;
pub mod envelope;
pub mod error;
pub mod model;
pub mod params;

pub use envelope::{Format, Node};
pub use error::{Code, SubsonicError};
pub use params::Params;

/// The Subsonic API version this server implements.
pub const API_VERSION: &str = "1.16.1";

/// The server's name in every answer's `type` (an OpenSubsonic field).
pub const SERVER_TYPE: &str = "bucketstream";
