//! DIDL-Lite, the XML a `Browse` returns: containers (folders, albums, artists, the Videos
//! list) and items (songs, videos), each item with one `res` whose URL is on this server and
//! whose `protocolInfo` tells the renderer it may seek by byte range (`DLNA.ORG_OP=01`).
//!
//! Everything here is a value rendered by [`render`]; the LAN server decides the entries.

use crate::xml::escape;

/// DLNA flags for a `res`: streaming transfer mode, background transfer mode, DLNA 1.5.
const FLAGS: &str = "01700000000000000000000000000000";

/// The UPnP class of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerClass {
    /// A folder, or a fixed list (the root, "Videos").
    Folder,
    /// A music album.
    Album,
    /// A music artist.
    Artist,
    /// A music genre.
    Genre,
}

impl ContainerClass {
    fn upnp(self) -> &'static str {
        match self {
            ContainerClass::Folder => "object.container.storageFolder",
            ContainerClass::Album => "object.container.album.musicAlbum",
            ContainerClass::Artist => "object.container.person.musicArtist",
            ContainerClass::Genre => "object.container.genre.musicGenre",
        }
    }
}

/// The UPnP class of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemClass {
    /// A song.
    Music,
    /// A video.
    Video,
}

/// A container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// Its object id.
    pub id: String,
    /// Its parent's (`-1` for the root).
    pub parent_id: String,
    /// Its name.
    pub title: String,
    /// How many children it has, when known.
    pub child_count: Option<u64>,
    /// Its class.
    pub class: ContainerClass,
    /// Album art URL (absolute), for albums.
    pub art: Option<String>,
}

/// A resource of an item: where to fetch it and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Res {
    /// Absolute URL on this server.
    pub url: String,
    /// Its Content-Type.
    pub mime: String,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Duration in milliseconds.
    pub duration_ms: Option<u64>,
    /// Picture size, for videos.
    pub resolution: Option<(u32, u32)>,
    /// Made by the host as it is sent (a transcode): no byte seeks (`DLNA.ORG_OP=00`),
    /// converted (`DLNA.ORG_CI=1`), no size.
    pub transcoded: bool,
}

/// An item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its object id.
    pub id: String,
    /// Its parent's.
    pub parent_id: String,
    /// Its title.
    pub title: String,
    /// Song or video.
    pub class: ItemClass,
    /// Artist tag.
    pub artist: Option<String>,
    /// Album tag.
    pub album: Option<String>,
    /// Genre tag.
    pub genre: Option<String>,
    /// Track number.
    pub track: Option<u32>,
    /// Art URL (absolute).
    pub art: Option<String>,
    /// The resource: the file itself.
    pub res: Res,
    /// A second resource a renderer may pick when it cannot play the file: the item
    /// converted on the host to what every renderer plays (H.264/AAC, or AAC, in MP4).
    pub transcode: Option<Box<Res>>,
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A container.
    Container(Container),
    /// An item.
    Item(Item),
}

/// The `protocolInfo` of a resource of type `mime`: HTTP GET, any network, and its
/// [`content_features`].
pub fn protocol_info(mime: &str, transcoded: bool) -> String {
    format!("http-get:*:{mime}:{}", content_features(transcoded))
}

/// The DLNA fourth field of a resource (also the `contentFeatures.dlna.org` header): the file
/// seeks by bytes (`DLNA.ORG_OP=01`); a transcode seeks by time only (`TimeSeekRange.dlna.org`,
/// `DLNA.ORG_OP=10`) and is flagged as converted (`DLNA.ORG_CI=1`).
pub fn content_features(transcoded: bool) -> String {
    let (op, ci) = if transcoded { ("10", 1) } else { ("01", 0) };
    format!("DLNA.ORG_OP={op};DLNA.ORG_CI={ci};DLNA.ORG_FLAGS={FLAGS}")
}

/// `ms` as DIDL's `H:MM:SS.mmm`.
pub fn duration(ms: u64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    format!(
        "{h}:{:02}:{:02}.{:03}",
        rest / 60_000,
        (rest % 60_000) / 1000,
        rest % 1000
    )
}

fn element(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        out.push_str(&format!("<{name}>{}</{name}>", escape(v)));
    }
}

fn write_container(out: &mut String, c: &Container) {
    out.push_str(&format!(
        "<container id=\"{}\" parentID=\"{}\" restricted=\"1\" searchable=\"0\"",
        escape(&c.id),
        escape(&c.parent_id)
    ));
    if let Some(n) = c.child_count {
        out.push_str(&format!(" childCount=\"{n}\""));
    }
    out.push('>');
    element(out, "dc:title", Some(&c.title));
    element(out, "upnp:class", Some(c.class.upnp()));
    element(out, "upnp:albumArtURI", c.art.as_deref());
    out.push_str("</container>");
}

fn write_item(out: &mut String, i: &Item) {
    out.push_str(&format!(
        "<item id=\"{}\" parentID=\"{}\" restricted=\"1\">",
        escape(&i.id),
        escape(&i.parent_id)
    ));
    element(out, "dc:title", Some(&i.title));
    let class = match i.class {
        ItemClass::Music => "object.item.audioItem.musicTrack",
        ItemClass::Video => "object.item.videoItem",
    };
    element(out, "upnp:class", Some(class));
    element(out, "dc:creator", i.artist.as_deref());
    element(out, "upnp:artist", i.artist.as_deref());
    element(out, "upnp:album", i.album.as_deref());
    element(out, "upnp:genre", i.genre.as_deref());
    element(
        out,
        "upnp:originalTrackNumber",
        i.track.map(|n| n.to_string()).as_deref(),
    );
    element(out, "upnp:albumArtURI", i.art.as_deref());
    for r in std::iter::once(&i.res).chain(i.transcode.as_deref()) {
        write_res(out, r);
    }
    out.push_str("</item>");
}

fn write_res(out: &mut String, r: &Res) {
    out.push_str(&format!(
        "<res protocolInfo=\"{}\"",
        escape(&protocol_info(&r.mime, r.transcoded))
    ));
    if let Some(size) = r.size {
        out.push_str(&format!(" size=\"{size}\""));
    }
    if let Some(ms) = r.duration_ms {
        out.push_str(&format!(" duration=\"{}\"", duration(ms)));
    }
    if let Some((w, h)) = r.resolution {
        out.push_str(&format!(" resolution=\"{w}x{h}\""));
    }
    out.push_str(&format!(">{}</res>", escape(&r.url)));
}

/// `entries` as a DIDL-Lite document.
pub fn render(entries: &[Entry]) -> String {
    let mut out = String::from(
        "<DIDL-Lite xmlns=\"urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:upnp=\"urn:schemas-upnp-org:metadata-1-0/upnp/\" \
         xmlns:dlna=\"urn:schemas-dlna-org:metadata-1-0/\">",
    );
    for entry in entries {
        match entry {
            Entry::Container(c) => write_container(&mut out, c),
            Entry::Item(i) => write_item(&mut out, i),
        }
    }
    out.push_str("</DIDL-Lite>");
    out
}

#[cfg(test)]
mod tests;
