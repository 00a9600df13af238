//! Bucketstream's media library: what is inside each object (tags, duration, art, poster),
//! read with a few small ranged reads once per object version and kept in SQLite.
//!
//! - [`probe`]: what is inside an object, read through a `Read + Seek` over ranged GETs with
//!   a byte budget (lofty for tags), and video facts and posters with ffprobe/ffmpeg.
//! - [`db`]: the SQLite database: tags per object version, art by content hash with resized
//!   copies, the last listing.
//! - [`views`]: albums, artists and genres grouped from the catalog's snapshot.
//! - [`scan`]: the background scan that ties them together ([`scan::MediaLibrary`]).

pub mod art;
pub mod db;
pub mod probe;
pub mod scan;
pub mod views;

pub use scan::{LibraryError, MediaLibrary};
