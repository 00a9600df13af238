//! The subtitle tracks offered for a video, as `GET /api/items/{id}/subtitles` lists them:
//! sidecar files first (by key), then the text tracks inside the video, each with a short id
//! (`s0`, `s1`… for sidecars in key order, `e0`, `e2`… for embedded tracks by their place
//! among the video's subtitle streams) that `/subtitles/{id}/{sub}.vtt` names.

use serde::Serialize;

use super::embedded::EmbeddedTrack;
use super::language::normalize;
use super::{Format, Sidecar};

/// Where a track comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A file beside the video.
    Sidecar,
    /// A stream inside the video.
    Embedded,
}

/// One track as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Track {
    /// Its id in `/subtitles/{item}/{id}.vtt`.
    pub id: String,
    /// What the player shows besides the language: the file's tags (`en forced`) or name
    /// for a sidecar, the stream's title (or its language, or `Track N`) for an embedded one.
    pub label: String,
    /// Its language, normalised (`en`, `pt-br`), when known.
    pub language: Option<String>,
    /// Sidecar or embedded.
    pub source: Origin,
    /// The format it is converted from: `srt`, `ass`, `vtt`, or an embedded codec's name.
    pub format: String,
    /// Only foreign-language parts.
    pub forced: bool,
    /// For the deaf and hard of hearing.
    pub sdh: bool,
}

/// A track named in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackRef {
    /// The `n`th sidecar, in key order.
    Sidecar(usize),
    /// The subtitle stream `-map 0:s:N`.
    Embedded(usize),
}

/// The track a `/subtitles` path segment names (`s0.vtt`, `e3.vtt`; the `.vtt` optional):
/// `None` for anything else (other letters, signs, leading zeros, huge numbers).
pub fn parse_ref(segment: &str) -> Option<TrackRef> {
    let id = segment.strip_suffix(".vtt").unwrap_or(segment);
    let (kind, digits) = id.split_at_checked(1)?;
    if digits.is_empty()
        || digits.len() > 6
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    let n = digits.parse().ok()?;
    match kind {
        "s" => Some(TrackRef::Sidecar(n)),
        "e" => Some(TrackRef::Embedded(n)),
        _ => None,
    }
}

/// The name of a format in the list.
fn format_name(format: Format) -> &'static str {
    match format {
        Format::Srt => "srt",
        Format::Ass => "ass",
        Format::WebVtt => "vtt",
    }
}

/// The list: `sidecars` (as [`super::sidecars`] found them, in key order) then `embedded`.
pub fn list(sidecars: &[Sidecar], embedded: &[EmbeddedTrack]) -> Vec<Track> {
    let side = sidecars.iter().enumerate().map(|(n, s)| {
        let name = s.key.rsplit('/').next().unwrap_or(&s.key);
        Track {
            id: format!("s{n}"),
            label: if s.label.is_empty() {
                name.to_owned()
            } else {
                s.label.clone()
            },
            language: s.language.as_deref().and_then(normalize),
            source: Origin::Sidecar,
            format: format_name(s.format).to_owned(),
            forced: s.forced,
            sdh: s.sdh,
        }
    });
    let inside = embedded.iter().map(|e| Track {
        id: format!("e{}", e.index),
        label: e
            .title
            .clone()
            .or_else(|| e.language.clone())
            .unwrap_or_else(|| format!("Track {}", e.index + 1)),
        language: e.language.clone(),
        source: Origin::Embedded,
        format: e.codec.clone(),
        forced: e.forced,
        sdh: e.sdh,
    });
    side.chain(inside).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs() {
        let table: &[(&str, Option<TrackRef>)] = &[
            ("s0.vtt", Some(TrackRef::Sidecar(0))),
            ("s12", Some(TrackRef::Sidecar(12))),
            ("e3.vtt", Some(TrackRef::Embedded(3))),
            ("e03.vtt", None),
            ("s-1.vtt", None),
            ("s+1.vtt", None),
            ("x1.vtt", None),
            ("s.vtt", None),
            ("", None),
            ("é1", None),
            ("s1.vtt.vtt", None),
            ("s9999999.vtt", None),
            ("../s1.vtt", None),
        ];
        for (seg, want) in table {
            assert_eq!(parse_ref(seg), *want, "{seg:?}");
        }
    }

    #[test]
    fn the_list_names_sidecars_then_embedded_tracks() {
        let keys = [
            "v/Film.mp4",
            "v/Film.eng.srt",
            "v/Film.srt",
            "v/Film.de.forced.ass",
        ];
        let side = super::super::sidecars("v/Film.mp4", keys);
        let embedded = [
            EmbeddedTrack {
                index: 1,
                codec: "subrip".into(),
                language: Some("fr".into()),
                title: None,
                forced: false,
                sdh: true,
            },
            EmbeddedTrack {
                index: 2,
                codec: "mov_text".into(),
                language: None,
                title: None,
                forced: false,
                sdh: false,
            },
        ];
        let summary: Vec<(String, String, Option<String>, Origin, String)> = list(&side, &embedded)
            .into_iter()
            .map(|t| (t.id, t.label, t.language, t.source, t.format))
            .collect();
        let row = |id: &str, label: &str, lang: Option<&str>, source, format: &str| {
            (
                id.to_owned(),
                label.to_owned(),
                lang.map(str::to_owned),
                source,
                format.to_owned(),
            )
        };
        assert_eq!(
            summary,
            [
                row("s0", "de forced", Some("de"), Origin::Sidecar, "ass"),
                row("s1", "eng", Some("en"), Origin::Sidecar, "srt"),
                row("s2", "Film.srt", None, Origin::Sidecar, "srt"),
                row("e1", "fr", Some("fr"), Origin::Embedded, "subrip"),
                row("e2", "Track 3", None, Origin::Embedded, "mov_text"),
            ]
        );
        let json = serde_json::to_value(list(&side[..1], &[])).expect("json");
        assert_eq!(
            json,
            serde_json::json!([{"id": "s0", "label": "de forced", "language": "de",
                "source": "sidecar", "format": "ass", "forced": true, "sdh": false}])
        );
    }
}
