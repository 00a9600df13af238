//! Bucketstream's media library: what is inside each object (tags, duration, art, poster),
//! read with a few small ranged reads once per object version and kept in SQLite.

pub mod art;
pub mod db;
pub mod views;
