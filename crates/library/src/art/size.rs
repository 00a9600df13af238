//! Which copy of a picture a client asks for (`?size=`), and the bytes answered.

use std::str::FromStr;

/// A copy of a stored picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtSize {
    /// The bytes as they were in the tag or file.
    Original,
    /// At most 300 px on the long side, JPEG (grids).
    Small,
    /// At most 1000 px on the long side, JPEG (album page, Media Session).
    Large,
}

impl ArtSize {
    /// The long side of [`ArtSize::Small`], in pixels.
    pub const SMALL_PX: u32 = 300;
    /// The long side of [`ArtSize::Large`], in pixels.
    pub const LARGE_PX: u32 = 1000;

    /// The copy for a `?size=` value: a number picks the nearest copy at or above it
    /// (`1`–`300` small, `301`–`1000` large, more: the original); `small`, `large` and
    /// `original` name one; anything else (or no parameter) is the original.
    pub fn from_param(param: Option<&str>) -> ArtSize {
        param
            .and_then(|p| p.parse().ok())
            .unwrap_or(ArtSize::Original)
    }

    /// The long side of this copy at most, in pixels (`None`: the original's).
    pub fn max_px(self) -> Option<u32> {
        match self {
            ArtSize::Original => None,
            ArtSize::Small => Some(Self::SMALL_PX),
            ArtSize::Large => Some(Self::LARGE_PX),
        }
    }
}

/// A `?size=` value that is neither a number nor a copy's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("size must be a number of pixels or small, large, original")]
pub struct BadArtSize;

impl FromStr for ArtSize {
    type Err = BadArtSize;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "small" => return Ok(ArtSize::Small),
            "large" => return Ok(ArtSize::Large),
            "original" => return Ok(ArtSize::Original),
            _ => {}
        }
        // At most 10 digits: anything longer is over every copy anyway.
        if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadArtSize);
        }
        let px: u64 = text.parse().map_err(|_| BadArtSize)?;
        Ok(if px <= u64::from(Self::SMALL_PX) {
            ArtSize::Small
        } else if px <= u64::from(Self::LARGE_PX) {
            ArtSize::Large
        } else {
            ArtSize::Original
        })
    }
}

/// A stored picture's bytes and their MIME type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtBlob {
    /// `image/jpeg` for the copies; the original's own type otherwise.
    pub mime: String,
    /// The picture.
    pub bytes: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_parameter_picks_the_nearest_copy_at_or_above() {
        let cases = [
            (None, ArtSize::Original),
            (Some("0"), ArtSize::Small),
            (Some("64"), ArtSize::Small),
            (Some("300"), ArtSize::Small),
            (Some("301"), ArtSize::Large),
            (Some("1000"), ArtSize::Large),
            (Some("1001"), ArtSize::Original),
            (Some("99999999999999999999"), ArtSize::Original),
            (Some("Large"), ArtSize::Large),
            (Some("small"), ArtSize::Small),
            (Some("-3"), ArtSize::Original),
            (Some("3e2"), ArtSize::Original),
            (Some(""), ArtSize::Original),
        ];
        for (param, want) in cases {
            assert_eq!(ArtSize::from_param(param), want, "{param:?}");
        }
        assert_eq!("x".parse::<ArtSize>(), Err(BadArtSize));
        assert_eq!(ArtSize::Large.max_px(), Some(1000));
    }
}
