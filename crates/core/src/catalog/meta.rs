//! What is known of an item's content (tags, duration, size of the picture, art), as clients
//! see it: every field is `null` until the library has read the object.
//!
//! The catalog only carries these values; reading them is `bucketstream-library`'s job. Tag
//! text is data: kept verbatim (bounded to [`MAX_TEXT_CHARS`] by the reader) and only ever
//! rendered as text by clients.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The longest tag text kept, in characters (a 20 KB title is cut here, on a char boundary).
pub const MAX_TEXT_CHARS: usize = 1024;

/// Tags and technical facts of one object version. Serialised flat into each item.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemMeta {
    /// Track or film title.
    pub title: Option<Arc<str>>,
    /// Track artist.
    pub artist: Option<Arc<str>>,
    /// Album name.
    pub album: Option<Arc<str>>,
    /// Album artist (for grouping compilations).
    pub album_artist: Option<Arc<str>>,
    /// Track number on its disc.
    pub track: Option<u32>,
    /// Disc number.
    pub disc: Option<u32>,
    /// Year of release.
    pub year: Option<i32>,
    /// Genre, as tagged.
    pub genre: Option<Arc<str>>,
    /// Duration in milliseconds.
    pub duration_ms: Option<u64>,
    /// Picture width in pixels (video).
    pub width: Option<u32>,
    /// Picture height in pixels (video).
    pub height: Option<u32>,
    /// A path on this server to the cover or poster (`/art/{hash}`), content-addressed.
    pub art: Option<Arc<str>>,
    /// Average bitrate in kbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate_kbps: Option<u32>,
    /// Audio sample rate in Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Audio channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u8>,
    /// Video codec name as ffprobe gives it (`h264`, `vp9`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<Arc<str>>,
    /// Audio codec name as ffprobe gives it (`aac`, `opus`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_codec: Option<Arc<str>>,
}

impl ItemMeta {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == ItemMeta::default()
    }
}

/// Shares equal texts between the items of one load (an album's artist, album and genre,
/// codec names, art paths), so a million tracks of ten thousand albums keep ten thousand
/// copies of each, not a million. Dropped after the load; the items keep what they share.
#[derive(Debug, Default)]
pub struct Interner(HashSet<Arc<str>>);

impl Interner {
    /// `text`, shared with every equal text this interner gave before.
    pub fn text(&mut self, text: &str) -> Arc<str> {
        if let Some(found) = self.0.get(text) {
            return found.clone();
        }
        let new: Arc<str> = Arc::from(text);
        self.0.insert(new.clone());
        new
    }

    /// `meta` with the texts an album's tracks have in common (artists, album, genre, art,
    /// codecs) shared with those this interner gave before; titles are left alone.
    pub fn share(&mut self, meta: &mut ItemMeta) {
        for text in [
            &mut meta.artist,
            &mut meta.album,
            &mut meta.album_artist,
            &mut meta.genre,
            &mut meta.art,
            &mut meta.video_codec,
            &mut meta.audio_codec,
        ]
        .into_iter()
        .flatten()
        {
            *text = self.text(text);
        }
    }

    /// Number of distinct texts held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `text` cut to at most [`MAX_TEXT_CHARS`] characters, with NULs removed; `None` when empty.
pub fn bounded_text(text: &str) -> Option<String> {
    let cleaned: String = text
        .chars()
        .filter(|c| *c != '\0')
        .take(MAX_TEXT_CHARS)
        .collect();
    let trimmed = cleaned.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_null_and_extras_are_left_out() {
        let json = serde_json::to_value(ItemMeta::default()).expect("json");
        let object = json.as_object().expect("object");
        assert_eq!(object.len(), 12);
        assert!(object.values().all(serde_json::Value::is_null));
        assert!(ItemMeta::default().is_empty());
    }

    #[test]
    fn text_is_bounded_on_a_char_boundary() {
        let long = "é".repeat(20_000);
        let kept = bounded_text(&long).expect("text");
        assert_eq!(kept.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(bounded_text(" \0 "), None);
        assert_eq!(
            bounded_text("<b>x</b>").as_deref(),
            Some("<b>x</b>"),
            "verbatim"
        );
    }
}
