//! Tags read with lofty (a maintained pure-Rust reader of ID3v1/v2, MP4 ilst, Vorbis
//! comments, APE, RIFF INFO and AIFF text chunks from any `Read + Seek`), mapped onto
//! `ItemMeta` with every text bounded, and the front cover picked among the pictures.

use std::io::{Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};

use bucketstream_core::catalog::meta::bounded_text;
use bucketstream_core::catalog::ItemMeta;
use lofty::config::{ParseOptions, ParsingMode};
use lofty::file::{AudioFile, FileType, TaggedFile, TaggedFileExt};
use lofty::picture::PictureType;
use lofty::probe::Probe;
use lofty::tag::{Accessor, ItemKey, Tag};

use super::Art;

/// What lofty found: tags mapped onto `meta`, the cover, the type it detected.
pub(crate) struct LoftyRead {
    pub(crate) meta: ItemMeta,
    pub(crate) art: Option<Art>,
    pub(crate) file_type: Option<FileType>,
    /// ffprobe's codec name when the file type alone does not say it (PCM in WAV/AIFF).
    pub(crate) pcm_codec: Option<String>,
}

/// Runs lofty over `reader` (under `catch_unwind`, as a last guard against a panic in it).
pub(crate) fn read<R: Read + Seek>(
    reader: &mut R,
    properties: bool,
    hint: Option<FileType>,
    art_max: u64,
) -> Result<LoftyRead, String> {
    let options = ParseOptions::new()
        .read_properties(properties)
        .read_cover_art(true)
        .parsing_mode(ParsingMode::BestAttempt)
        .max_junk_bytes(4096);
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<TaggedFile, String> {
        let mut probe = Probe::new(&mut *reader)
            .options(options)
            .guess_file_type()
            .map_err(|e| e.to_string())?;
        if probe.file_type().is_none() {
            probe = probe.set_file_type(hint.ok_or("not a tagged audio format")?);
        }
        probe.read().map_err(|e| e.to_string())
    }));
    let file = match outcome {
        Ok(Ok(file)) => file,
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err("the tag reader panicked on this file".to_owned()),
    };
    let mut meta = ItemMeta::default();
    // The primary tag first, then the others (ID3v1 behind ID3v2, …) for fields it lacks.
    let mut tags: Vec<&Tag> = file.primary_tag().into_iter().collect();
    tags.extend(
        file.tags()
            .iter()
            .filter(|t| Some(t.tag_type()) != file.primary_tag().map(Tag::tag_type)),
    );
    for tag in &tags {
        fill(&mut meta, tag);
    }
    let mut pcm_codec = None;
    if properties {
        let p = file.properties();
        let endian = match file.file_type() {
            FileType::Wav => Some("le"),
            FileType::Aiff => Some("be"),
            _ => None,
        };
        pcm_codec = endian.zip(p.bit_depth()).map(|(e, bits)| match bits {
            8 if e == "le" => "pcm_u8".to_owned(),
            8 => "pcm_s8".to_owned(),
            n => format!("pcm_s{n}{e}"),
        });
        let ms = u64::try_from(p.duration().as_millis()).unwrap_or(u64::MAX);
        meta.duration_ms = (ms > 0).then_some(ms);
        meta.bitrate_kbps = p.audio_bitrate().or(p.overall_bitrate()).filter(|b| *b > 0);
        meta.sample_rate = p.sample_rate().filter(|r| *r > 0);
        meta.channels = p.channels().filter(|c| *c > 0);
    }
    let art = tags.iter().find_map(|t| cover(t, art_max));
    Ok(LoftyRead {
        meta,
        art,
        file_type: Some(file.file_type()),
        pcm_codec,
    })
}

/// Copies the fields `meta` lacks from `tag`.
fn fill(meta: &mut ItemMeta, tag: &Tag) {
    let text =
        |v: Option<std::borrow::Cow<'_, str>>| v.and_then(|s| bounded_text(&s)).map(Into::into);
    meta.title = meta.title.take().or_else(|| text(tag.title()));
    meta.artist = meta.artist.take().or_else(|| text(tag.artist()));
    meta.album = meta.album.take().or_else(|| text(tag.album()));
    meta.genre = meta.genre.take().or_else(|| text(tag.genre()));
    meta.album_artist = meta.album_artist.take().or_else(|| {
        tag.get_string(&ItemKey::AlbumArtist)
            .and_then(bounded_text)
            .map(Into::into)
    });
    meta.track = meta.track.or_else(|| {
        tag.track()
            .or_else(|| number(tag, &ItemKey::TrackNumber, "track"))
    });
    meta.disc = meta.disc.or_else(|| {
        tag.disk()
            .or_else(|| number(tag, &ItemKey::DiscNumber, "disc"))
    });
    meta.track = meta.track.filter(|n| *n > 0);
    meta.disc = meta.disc.filter(|n| *n > 0);
    meta.year = meta.year.or_else(|| {
        tag.year()
            .and_then(|y| i32::try_from(y).ok())
            .filter(|y| *y > 0)
    });
}

/// A `3/12`-style number under `key`, else under a free-form key named `alias` (ffmpeg
/// writes `DISC=1/2` in Vorbis comments and `IPRT=3/12` in RIFF INFO, which lofty leaves as
/// text).
fn number(tag: &Tag, key: &ItemKey, alias: &str) -> Option<u32> {
    let text = tag.get_string(key).or_else(|| {
        tag.items().find_map(|item| match item.key() {
            ItemKey::Unknown(k) if k.eq_ignore_ascii_case(alias) => item.value().text(),
            _ => None,
        })
    })?;
    text.split('/').next()?.trim().parse().ok()
}

/// The front cover of `tag`, else its first picture (at most `art_max` bytes).
fn cover(tag: &Tag, art_max: u64) -> Option<Art> {
    let pictures = tag.pictures();
    let pic = pictures
        .iter()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pictures.first())?;
    let data = pic.data();
    if data.is_empty() || data.len() as u64 > art_max {
        return None;
    }
    let mime = pic
        .mime_type()
        .map(|m| m.as_str().to_owned())
        .filter(|m| m.starts_with("image/") && m.len() <= 64)
        .unwrap_or_else(|| sniff_mime(data).to_owned());
    Some(Art {
        mime,
        bytes: data.to_vec(),
    })
}

/// The image type from its magic bytes (`application/octet-stream` when unknown).
pub(crate) fn sniff_mime(data: &[u8]) -> &'static str {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if data.starts_with(b"\x89PNG") {
        "image/png"
    } else if data.len() > 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        "image/webp"
    } else if data.starts_with(b"GIF8") {
        "image/gif"
    } else {
        "application/octet-stream"
    }
}

/// ffprobe's codec name for what lofty detected (mp4 and mpeg are refined by the caller).
pub(crate) fn codec_of(file_type: FileType) -> Option<&'static str> {
    Some(match file_type {
        FileType::Aac => "aac",
        FileType::Flac => "flac",
        FileType::Opus => "opus",
        FileType::Vorbis => "vorbis",
        FileType::Speex => "speex",
        FileType::Mpeg => "mp3",
        FileType::Ape => "ape",
        FileType::WavPack => "wavpack",
        _ => return None,
    })
}
