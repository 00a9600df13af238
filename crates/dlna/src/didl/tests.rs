//! DIDL-Lite as renderers parse it.

use super::*;

fn song() -> Item {
    Item {
        id: "item:0123".into(),
        parent_id: "album:ab".into(),
        title: "So What <live> & \"more\"".into(),
        class: ItemClass::Music,
        artist: Some("Miles Davis".into()),
        album: Some("Kind of Blue".into()),
        genre: None,
        track: Some(1),
        art: Some("http://192.168.1.5:8080/art/ff?size=300".into()),
        res: Res {
            url: "http://192.168.1.5:8080/media/0123?a=1&b=2".into(),
            mime: "audio/mpeg".into(),
            size: Some(9_876_543),
            duration_ms: Some(3_725_042),
            resolution: None,
            transcoded: false,
        },
        transcode: None,
    }
}

#[test]
fn durations() {
    for (ms, want) in [
        (0, "0:00:00.000"),
        (999, "0:00:00.999"),
        (61_001, "0:01:01.001"),
        (3_725_042, "1:02:05.042"),
        (36_000_000 * 3, "30:00:00.000"),
    ] {
        assert_eq!(duration(ms), want, "{ms}");
    }
}

#[test]
fn renders_items_and_containers() {
    let folder = Container {
        id: "folder:Jazz".into(),
        parent_id: "0".into(),
        title: "Jazz".into(),
        child_count: Some(12),
        class: ContainerClass::Folder,
        art: None,
    };
    let xml = render(&[Entry::Container(folder), Entry::Item(song())]);
    assert!(xml.starts_with("<DIDL-Lite xmlns=\"urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/\""));
    assert!(xml.contains(
        "<container id=\"folder:Jazz\" parentID=\"0\" restricted=\"1\" searchable=\"0\" childCount=\"12\">\
         <dc:title>Jazz</dc:title><upnp:class>object.container.storageFolder</upnp:class></container>"
    ));
    assert!(xml.contains("<dc:title>So What &lt;live&gt; &amp; &quot;more&quot;</dc:title>"));
    assert!(xml.contains("<upnp:class>object.item.audioItem.musicTrack</upnp:class>"));
    assert!(xml.contains("<upnp:originalTrackNumber>1</upnp:originalTrackNumber>"));
    assert!(!xml.contains("upnp:genre"));
    assert!(xml.contains(
        "<res protocolInfo=\"http-get:*:audio/mpeg:DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000\" \
         size=\"9876543\" duration=\"1:02:05.042\">http://192.168.1.5:8080/media/0123?a=1&amp;b=2</res>"
    ));
    assert!(xml.ends_with("</item></DIDL-Lite>"));
}

#[test]
fn videos_carry_their_resolution() {
    let mut v = song();
    v.class = ItemClass::Video;
    v.res.resolution = Some((1920, 1080));
    v.res.mime = "video/mp4".into();
    let xml = render(&[Entry::Item(v)]);
    assert!(xml.contains("<upnp:class>object.item.videoItem</upnp:class>"));
    assert!(xml.contains(" resolution=\"1920x1080\""));
}

#[test]
fn a_transcode_is_a_second_resource_without_seeks_flagged_converted() {
    let mut v = song();
    v.class = ItemClass::Video;
    v.res.mime = "video/x-msvideo".into();
    v.transcode = Some(Box::new(Res {
        url: "http://192.168.1.5:8080/transcode/0123?mode=full".into(),
        mime: "video/mp4".into(),
        size: None,
        duration_ms: Some(3_725_042),
        resolution: None,
        transcoded: true,
    }));
    let xml = render(&[Entry::Item(v)]);
    let original = xml
        .find("video/x-msvideo:DLNA.ORG_OP=01;DLNA.ORG_CI=0")
        .expect("the file");
    let converted = xml.find(
        "<res protocolInfo=\"http-get:*:video/mp4:DLNA.ORG_OP=10;DLNA.ORG_CI=1;DLNA.ORG_FLAGS=01700000000000000000000000000000\" \
         duration=\"1:02:05.042\">http://192.168.1.5:8080/transcode/0123?mode=full</res>",
    );
    // The file first: a renderer takes the first resource it can play.
    assert!(converted.is_some_and(|c| c > original), "{xml}");
    assert!(xml.ends_with("</res></item></DIDL-Lite>"));
}
