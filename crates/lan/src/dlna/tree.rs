//! The ContentDirectory's object tree over the catalog: the root holds Folders, Albums, Artists
//! and Videos; folders hold folders and items, albums their tracks, artists their albums.
//! Object ids carry what they name (`f:` and the hex of a folder path, `al:`/`ar:` and a view
//! id, `i:` and an item id), so a `Browse` needs no table, and each answer is a pure function
//! of the snapshot and its views.

use std::sync::Arc;

use bucketstream_core::catalog::folders;
use bucketstream_core::catalog::MediaItem;
use bucketstream_core::media::Kind;
use bucketstream_dlna::didl::{Container, ContainerClass, Entry, Item, ItemClass, Res};
use bucketstream_dlna::soap::Fault;
use bucketstream_library::views;

/// What a `Browse` reads.
pub struct Tree<'a> {
    /// Items sorted by key.
    pub items: &'a [Arc<MediaItem>],
    /// Albums of the same snapshot.
    pub albums: &'a [views::Album],
    /// Artists of the same snapshot.
    pub artists: &'a [views::Artist],
    /// `http://host:port` as the control point reached us (for `res` and art URLs).
    pub base: &'a str,
    /// Whether this host transcodes: then an item a renderer may not play also offers its
    /// transcode ([`conversion`]).
    pub transcode: bool,
}

/// What a renderer is offered besides the file when the file may not play on it: the
/// `/transcode` mode and the type of what it makes. DLNA renderers all play MP3, AAC, FLAC,
/// WAV and H.264/AAC (or MP3) in MP4; anything else gets the cheapest conversion to that:
/// H.264 with AAC or MP3 in another container is remuxed, H.264 with other sound gets its
/// sound transcoded, other video is transcoded whole (as the browser player decides, with
/// what the scan read of the codecs; unknown codecs count as other).
pub fn conversion(item: &MediaItem) -> Option<(&'static str, &'static str)> {
    let (video, audio) = (
        item.meta.video_codec.as_deref(),
        item.meta.audio_codec.as_deref(),
    );
    let plain_sound = audio.is_none_or(|a| matches!(a, "aac" | "mp3"));
    // The served type stands for the container (`media::classify`).
    match item.kind {
        Kind::Audio => {
            let plays = match item.content_type {
                "audio/mpeg" | "audio/flac" | "audio/wav" => true,
                "audio/mp4" | "audio/aac" => audio.is_none_or(|a| a == "aac"),
                _ => false,
            };
            (!plays).then_some(("audio", "audio/mp4"))
        }
        Kind::Video if video == Some("h264") && plain_sound => {
            (item.content_type != "video/mp4").then_some(("remux", "video/mp4"))
        }
        Kind::Video if video == Some("h264") => Some(("audio", "video/mp4")),
        Kind::Video => Some(("full", "video/mp4")),
    }
}

/// The root's fixed containers: (id, title).
const TOP: [(&str, &str); 4] = [
    ("folders", "Folders"),
    ("albums", "Albums"),
    ("artists", "Artists"),
    ("videos", "Videos"),
];

/// The object id of folder `path` (the top folder is the root's "Folders").
fn folder_object(path: &str) -> String {
    if path.is_empty() {
        return "folders".to_owned();
    }
    format!("f:{}", hex::encode(path.as_bytes()))
}

/// The folder path of an object id, when it names a folder.
fn folder_path(id: &str) -> Option<String> {
    if id == "folders" {
        return Some(String::new());
    }
    String::from_utf8(hex::decode(id.strip_prefix("f:")?).ok()?).ok()
}

impl Tree<'_> {
    fn container(
        &self,
        id: String,
        parent: &str,
        title: &str,
        count: Option<usize>,
        class: ContainerClass,
    ) -> Entry {
        Entry::Container(Container {
            id,
            parent_id: parent.to_owned(),
            title: title.to_owned(),
            child_count: count.and_then(|c| u64::try_from(c).ok()),
            class,
            art: None,
        })
    }

    fn art(&self, art: Option<&str>) -> Option<String> {
        art.map(|a| format!("{}{a}?size=300", self.base))
    }

    fn item(&self, item: &MediaItem, parent: &str) -> Entry {
        let meta = &item.meta;
        Entry::Item(Item {
            id: format!("i:{}", item.id),
            parent_id: parent.to_owned(),
            title: meta
                .title
                .as_deref()
                .filter(|t| !t.trim().is_empty())
                .map_or_else(|| item.name.clone(), str::to_owned),
            class: if item.kind == Kind::Video {
                ItemClass::Video
            } else {
                ItemClass::Music
            },
            artist: meta.artist.as_deref().map(str::to_owned),
            album: meta.album.as_deref().map(str::to_owned),
            genre: meta.genre.as_deref().map(str::to_owned),
            track: meta.track,
            art: self.art(meta.art.as_deref()),
            res: Res {
                url: format!("{}{}", self.base, item.url()),
                mime: item.content_type.to_owned(),
                size: Some(item.size),
                duration_ms: meta.duration_ms,
                resolution: meta.width.zip(meta.height),
                transcoded: false,
            },
            transcode: conversion(item)
                .filter(|_| self.transcode)
                .map(|(mode, mime)| {
                    Box::new(Res {
                        url: format!("{}/transcode/{}?mode={mode}", self.base, item.id),
                        mime: mime.to_owned(),
                        size: None,
                        duration_ms: meta.duration_ms,
                        resolution: None,
                        transcoded: true,
                    })
                }),
        })
    }

    fn album_entry(&self, a: &views::Album, parent: &str) -> Entry {
        Entry::Container(Container {
            id: format!("al:{}", a.id),
            parent_id: parent.to_owned(),
            title: a.name.clone(),
            child_count: Some(u64::from(a.track_count)),
            class: ContainerClass::Album,
            art: self.art(a.art.as_deref()),
        })
    }

    /// The folders directly under `path` and the items directly in it.
    fn folder_children(&self, path: &str) -> (Vec<String>, Vec<&MediaItem>) {
        folders::level(self.items, path)
    }

    /// The object `id` itself (`BrowseMetadata`).
    pub fn metadata(&self, id: &str) -> Result<Entry, Fault> {
        if id == "0" {
            return Ok(self.container(
                "0".into(),
                "-1",
                "Bucketstream",
                Some(TOP.len()),
                ContainerClass::Folder,
            ));
        }
        if let Some((_, title)) = TOP.iter().find(|(top, _)| *top == id && *top != "folders") {
            let count = self.children(id)?.len();
            return Ok(self.container(
                id.to_owned(),
                "0",
                title,
                Some(count),
                ContainerClass::Folder,
            ));
        }
        if let Some(path) = folder_path(id) {
            let (folders, here) = self.folder_children(&path);
            if folders.is_empty() && here.is_empty() {
                return Err(Fault::no_such_object());
            }
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", &path));
            let parent = if path.is_empty() {
                "0".to_owned()
            } else {
                folder_object(parent)
            };
            let title = if path.is_empty() { "Folders" } else { name };
            return Ok(self.container(
                id.to_owned(),
                &parent,
                title,
                Some(folders.len() + here.len()),
                ContainerClass::Folder,
            ));
        }
        if let Some(album) = id.strip_prefix("al:") {
            let a = self
                .albums
                .iter()
                .find(|a| a.id == album)
                .ok_or_else(Fault::no_such_object)?;
            return Ok(self.album_entry(a, "albums"));
        }
        if let Some(artist) = id.strip_prefix("ar:") {
            let a = self
                .artists
                .iter()
                .find(|a| a.id == artist)
                .ok_or_else(Fault::no_such_object)?;
            return Ok(self.container(
                id.to_owned(),
                "artists",
                &a.name,
                usize::try_from(a.album_count).ok(),
                ContainerClass::Artist,
            ));
        }
        if let Some(item) = id.strip_prefix("i:") {
            let found = self
                .items
                .iter()
                .find(|i| i.id.as_str() == item)
                .ok_or_else(Fault::no_such_object)?;
            return Ok(self.item(found, &folder_object(&found.folder)));
        }
        Err(Fault::no_such_object())
    }

    /// The children of `id` (`BrowseDirectChildren`), all of them (the caller pages).
    pub fn children(&self, id: &str) -> Result<Vec<Entry>, Fault> {
        Ok(match id {
            "0" => TOP
                .iter()
                .map(|(top, title)| {
                    self.container((*top).to_owned(), "0", title, None, ContainerClass::Folder)
                })
                .collect(),
            "albums" => self
                .albums
                .iter()
                .map(|a| self.album_entry(a, "albums"))
                .collect(),
            "artists" => self
                .artists
                .iter()
                .map(|a| {
                    self.container(
                        format!("ar:{}", a.id),
                        "artists",
                        &a.name,
                        usize::try_from(a.album_count).ok(),
                        ContainerClass::Artist,
                    )
                })
                .collect(),
            "videos" => self
                .items
                .iter()
                .filter(|i| i.kind == Kind::Video)
                .map(|i| self.item(i, "videos"))
                .collect(),
            _ => {
                if let Some(path) = folder_path(id) {
                    let (folders, here) = self.folder_children(&path);
                    let mut out: Vec<Entry> = folders
                        .iter()
                        .map(|f| {
                            let sub = if path.is_empty() {
                                f.clone()
                            } else {
                                format!("{path}/{f}")
                            };
                            // No count: counting every subfolder would read the library again each.
                            self.container(folder_object(&sub), id, f, None, ContainerClass::Folder)
                        })
                        .collect();
                    out.extend(here.into_iter().map(|i| self.item(i, id)));
                    if out.is_empty() && !path.is_empty() {
                        return Err(Fault::no_such_object());
                    }
                    out
                } else if let Some(album) = id.strip_prefix("al:") {
                    if !self.albums.iter().any(|a| a.id == album) {
                        return Err(Fault::no_such_object());
                    }
                    views::album_tracks(self.items, album)
                        .into_iter()
                        .map(|t| self.item(t, id))
                        .collect()
                } else if let Some(artist) = id.strip_prefix("ar:") {
                    if !self.artists.iter().any(|a| a.id == artist) {
                        return Err(Fault::no_such_object());
                    }
                    views::artist_albums(self.items, artist)
                        .iter()
                        .map(|a| self.album_entry(a, id))
                        .collect()
                } else {
                    return Err(Fault::no_such_object());
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucketstream_core::catalog::item::from_object;
    use bucketstream_core::catalog::ItemMeta;
    use bucketstream_core::source::ObjectMeta;

    fn item(key: &str, video: Option<&str>, audio: Option<&str>) -> MediaItem {
        let obj = ObjectMeta {
            key: key.into(),
            size: 1,
            etag: None,
            last_modified: None,
        };
        let mut item = from_object("t", "", &obj).expect("a media item");
        item.meta = Arc::new(ItemMeta {
            video_codec: video.map(Into::into),
            audio_codec: audio.map(Into::into),
            ..ItemMeta::default()
        });
        item
    }

    #[test]
    fn what_a_renderer_is_offered_besides_the_file() {
        for (key, video, audio, want) in [
            ("a.mp3", None, Some("mp3"), None),
            ("a.flac", None, Some("flac"), None),
            ("a.wav", None, None, None),
            ("a.m4a", None, Some("aac"), None),
            ("a.m4a", None, Some("alac"), Some(("audio", "audio/mp4"))),
            ("a.wma", None, Some("wmav2"), Some(("audio", "audio/mp4"))),
            ("a.ac3", None, None, Some(("audio", "audio/mp4"))),
            ("a.ogg", None, Some("vorbis"), Some(("audio", "audio/mp4"))),
            ("f.mp4", Some("h264"), Some("aac"), None),
            ("f.mp4", Some("h264"), None, None),
            ("f.m4v", Some("h264"), Some("mp3"), None),
            (
                "f.mkv",
                Some("h264"),
                Some("aac"),
                Some(("remux", "video/mp4")),
            ),
            (
                "f.mkv",
                Some("h264"),
                Some("ac3"),
                Some(("audio", "video/mp4")),
            ),
            (
                "f.mp4",
                Some("h264"),
                Some("dts"),
                Some(("audio", "video/mp4")),
            ),
            (
                "f.mp4",
                Some("hevc"),
                Some("aac"),
                Some(("full", "video/mp4")),
            ),
            (
                "f.avi",
                Some("mpeg4"),
                Some("mp3"),
                Some(("full", "video/mp4")),
            ),
            (
                "f.webm",
                Some("vp9"),
                Some("opus"),
                Some(("full", "video/mp4")),
            ),
            ("f.ts", None, None, Some(("full", "video/mp4"))),
        ] {
            assert_eq!(
                conversion(&item(key, video, audio)),
                want,
                "{key} {video:?} {audio:?}"
            );
        }
    }
}
