//! Cover art and posters: checked, decoded within fixed limits and resized to the two copies
//! clients ask for (300 px for grids, 1000 px for an album page), content-addressed by the
//! SHA-256 of the original bytes so that one cover shared by twelve tracks is kept once.
//!
//! Pictures come from tags and files, so they are hostile input: the decoder runs with
//! [`image::Limits`] (a 20000x20000 PNG header is refused before any pixel buffer exists) and
//! every failure is an [`ArtError`], never a panic. Art that does not decode is refused, not
//! stored: a browser could not show it either, and serving undecodable bytes helps nobody.
//! Storing is [`crate::db::Db::put_art`]'s job; this module only prepares.

mod size;

use std::io::Cursor;

use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

pub use size::{ArtBlob, ArtSize};

/// The largest original accepted, in bytes (embedded covers are rarely over 2 MiB).
pub const MAX_ART_BYTES: usize = 16 * 1024 * 1024;
/// The widest and tallest picture decoded, in pixels.
pub const MAX_DIMENSION: u32 = 8192;
/// The most memory the decoder may allocate for one picture, in bytes.
pub const MAX_DECODE_ALLOC: u64 = 128 * 1024 * 1024;
/// JPEG quality of the resized copies.
pub const JPEG_QUALITY: u8 = 85;
/// The MIME type of the resized copies.
pub const COPY_MIME: &str = "image/jpeg";

/// Why a picture was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArtError {
    /// Empty input.
    #[error("the picture is empty")]
    Empty,
    /// More bytes than [`MAX_ART_BYTES`].
    #[error("the picture is {0} bytes, over the {MAX_ART_BYTES}-byte limit")]
    TooManyBytes(usize),
    /// Not a format we decode (JPEG, PNG, WebP, GIF, BMP), or not a picture at all.
    #[error("not a picture in a format we read (JPEG, PNG, WebP, GIF, BMP)")]
    UnknownFormat,
    /// Wider or taller than [`MAX_DIMENSION`], or needing more than [`MAX_DECODE_ALLOC`].
    #[error("the picture is over the size limits ({MAX_DIMENSION} px a side, {MAX_DECODE_ALLOC} bytes decoded): {0}")]
    TooLarge(String),
    /// The decoder or the JPEG encoder failed (truncated or malformed data).
    #[error("the picture could not be decoded: {0}")]
    Decode(String),
}

/// A picture ready to store: its hash, what it is, and its resized copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedArt {
    /// SHA-256 of the original bytes, lowercase hex (the content address).
    pub hash: String,
    /// The original's MIME type, as its bytes say (not as the tag claimed).
    pub mime: String,
    /// Original width in pixels.
    pub width: u32,
    /// Original height in pixels.
    pub height: u32,
    /// The copy at most 300 px on its long side (JPEG).
    pub small: Vec<u8>,
    /// The copy at most 1000 px on its long side (JPEG); `None` when the original's long side
    /// is at most 300 px, so this copy would be the small one again.
    pub large: Option<Vec<u8>>,
}

/// The content address of `original`: SHA-256, lowercase hex.
pub fn art_hash(original: &[u8]) -> String {
    hex::encode(Sha256::digest(original))
}

/// Checks, decodes (within the limits) and resizes `original`. `mime` is what the tag said;
/// it is only a hint, used when the bytes do not reveal their format.
pub fn prepare(original: &[u8], mime: &str) -> Result<PreparedArt, ArtError> {
    if original.is_empty() {
        return Err(ArtError::Empty);
    }
    if original.len() > MAX_ART_BYTES {
        return Err(ArtError::TooManyBytes(original.len()));
    }
    let (image, format) = decode(original, mime)?;
    let (width, height) = (image.width(), image.height());
    // Area-average very large pictures down first: the Lanczos pass then works on at most
    // 2000 px a side, so its f32 scratch buffer stays a few tens of MiB.
    let source = if width.max(height) > 2 * ArtSize::LARGE_PX {
        let (w, h) = fit(width, height, 2 * ArtSize::LARGE_PX);
        image.thumbnail_exact(w, h)
    } else {
        image
    };
    let small = encode_copy(&source, width, height, ArtSize::SMALL_PX)?;
    let large = if width.max(height) > ArtSize::SMALL_PX {
        Some(encode_copy(&source, width, height, ArtSize::LARGE_PX)?)
    } else {
        None
    };
    Ok(PreparedArt {
        hash: art_hash(original),
        mime: format.to_mime_type().to_owned(),
        width,
        height,
        small,
        large,
    })
}

/// Decodes `bytes` with the limits set; the format comes from the bytes, else from `mime`.
fn decode(bytes: &[u8], mime: &str) -> Result<(DynamicImage, ImageFormat), ArtError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ArtError::Decode(e.to_string()))?;
    if reader.format().is_none() {
        if let Some(format) = ImageFormat::from_mime_type(mime) {
            reader.set_format(format);
        }
    }
    let format = reader.format().ok_or(ArtError::UnknownFormat)?;
    if !matches!(
        format,
        ImageFormat::Jpeg
            | ImageFormat::Png
            | ImageFormat::WebP
            | ImageFormat::Gif
            | ImageFormat::Bmp
    ) {
        return Err(ArtError::UnknownFormat);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    // The pixel buffer is reserved against the limit before it exists: a header claiming
    // 20000x20000 is refused here, having read a few dozen bytes.
    limits.reserve(decoder.total_bytes()).map_err(image_error)?;
    // Browsers apply the EXIF orientation to the original: the copies must match it.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    image.apply_orientation(orientation);
    if image.width() == 0 || image.height() == 0 {
        return Err(ArtError::Decode("the picture has no pixels".into()));
    }
    Ok((image, format))
}

fn image_error(error: image::ImageError) -> ArtError {
    match error {
        image::ImageError::Limits(l) => ArtError::TooLarge(l.to_string()),
        other => ArtError::Decode(other.to_string()),
    }
}

/// The size of a `width`x`height` picture fitted within `max` px on its long side (aspect
/// kept, never upscaled, never below 1 px).
pub fn fit(width: u32, height: u32, max: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max {
        return (width, height);
    }
    let scale = |side: u32| -> u32 {
        let scaled = (u64::from(side) * u64::from(max) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled).unwrap_or(max).clamp(1, max)
    };
    (scale(width), scale(height))
}

/// `source` (maybe already shrunk from `width`x`height`) fitted within `max` px, as JPEG.
fn encode_copy(
    source: &DynamicImage,
    width: u32,
    height: u32,
    max: u32,
) -> Result<Vec<u8>, ArtError> {
    let (w, h) = fit(width, height, max);
    let rgb = if (w, h) == (source.width(), source.height()) {
        source.to_rgb8()
    } else {
        source.resize_exact(w, h, FilterType::Lanczos3).into_rgb8()
    };
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| ArtError::Decode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_the_long_side_without_upscaling() {
        assert_eq!(fit(3000, 1500, 1000), (1000, 500));
        assert_eq!(fit(1500, 3000, 300), (150, 300));
        assert_eq!(fit(200, 100, 300), (200, 100));
        assert_eq!(fit(20000, 1, 300), (300, 1));
        assert_eq!(fit(1001, 1000, 1000), (1000, 999));
    }

    #[test]
    fn refuses_empty_and_oversized_input() {
        assert!(matches!(prepare(&[], "image/png"), Err(ArtError::Empty)));
        let big = vec![0u8; MAX_ART_BYTES + 1];
        assert!(matches!(
            prepare(&big, "image/png"),
            Err(ArtError::TooManyBytes(_))
        ));
        assert!(matches!(
            prepare(b"hello", "text/plain"),
            Err(ArtError::UnknownFormat)
        ));
    }
}
