//! SOAP requests from real control points (and hostile ones), and the answers' shape.

use super::*;

/// What gupnp/VLC send for a Browse (namespaced, with an XML declaration).
const BROWSE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
  <s:Body>
    <u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1">
      <ObjectID>folder:Jazz &amp; Blues</ObjectID>
      <BrowseFlag>BrowseDirectChildren</BrowseFlag>
      <Filter>*</Filter>
      <StartingIndex>10</StartingIndex>
      <RequestedCount>25</RequestedCount>
      <SortCriteria></SortCriteria>
    </u:Browse>
  </s:Body>
</s:Envelope>"#;

#[test]
fn parses_a_browse() {
    let action = parse_action(BROWSE.as_bytes()).expect("action");
    assert_eq!(action.name, "Browse");
    assert_eq!(action.arg("ObjectID"), Some("folder:Jazz & Blues"));
    assert_eq!(action.arg("SortCriteria"), Some(""));
    let browse = Browse::from_action(&action).expect("browse");
    assert_eq!(
        browse,
        Browse {
            object_id: "folder:Jazz & Blues".into(),
            flag: BrowseFlag::DirectChildren,
            start: 10,
            count: 25
        }
    );
}

#[test]
fn entities_and_empty_elements() {
    let body = "<Envelope><Body><Browse><ObjectID>a&#233;&#x1F3B5;&lt;</ObjectID><BrowseFlag>BrowseMetadata</BrowseFlag><Filter/></Browse></Body></Envelope>";
    let action = parse_action(body.as_bytes()).expect("action");
    assert_eq!(action.arg("ObjectID"), Some("aé🎵<"));
    assert_eq!(action.arg("Filter"), Some(""));
    let b = Browse::from_action(&action).expect("browse");
    assert_eq!((b.flag, b.start, b.count), (BrowseFlag::Metadata, 0, 0));
}

#[test]
fn refuses_hostile_and_broken_requests() {
    let dtd = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Envelope><Body><Browse><ObjectID>&a;</ObjectID></Browse></Body></Envelope>"#;
    let many_args: String = (0..MAX_ARGS + 1)
        .map(|i| format!("<A{i}>x</A{i}>"))
        .collect();
    let many = format!("<Envelope><Body><Browse>{many_args}</Browse></Body></Envelope>");
    let table: Vec<(&[u8], u16)> = vec![
        (dtd.as_bytes(), 401),
        (
            b"<Envelope><Body><Browse><ObjectID>&nope;</ObjectID></Browse></Body></Envelope>",
            401,
        ),
        (b"<Envelope><Body></Body></Envelope>", 401),
        (b"<Envelope><Header><Browse/></Header></Envelope>", 401),
        (b"not xml at all <<<", 401),
        (b"<Envelope><Body><Browse></Wrong></Body></Envelope>", 401),
        (b"\xff\xfe<x/>", 401),
        (many.as_bytes(), 402),
    ];
    for (body, code) in table {
        let got = parse_action(body).map(|_| ()).map_err(|f| f.code);
        assert_eq!(got, Err(code), "{}", String::from_utf8_lossy(body));
    }
    assert_eq!(
        parse_action(&vec![b' '; MAX_BODY + 1]).map_err(|f| f.code),
        Err(401)
    );
}

#[test]
fn browse_arguments_are_checked() {
    let action = |args: &[(&str, &str)]| Action {
        name: "Browse".into(),
        args: args
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    };
    let table: &[(&[(&str, &str)], bool)] = &[
        (&[("ObjectID", "0"), ("BrowseFlag", "BrowseMetadata")], true),
        (&[("BrowseFlag", "BrowseMetadata")], false),
        (&[("ObjectID", "0"), ("BrowseFlag", "Everything")], false),
        (
            &[
                ("ObjectID", "0"),
                ("BrowseFlag", "BrowseMetadata"),
                ("StartingIndex", "-1"),
            ],
            false,
        ),
        (
            &[
                ("ObjectID", "0"),
                ("BrowseFlag", "BrowseMetadata"),
                ("RequestedCount", "x"),
            ],
            false,
        ),
        (
            &[
                ("ObjectID", "0"),
                ("BrowseFlag", "BrowseMetadata"),
                ("RequestedCount", "99999999999"),
            ],
            false,
        ),
    ];
    for (args, ok) in table {
        let got = Browse::from_action(&action(args));
        assert_eq!(got.is_ok(), *ok, "{args:?}");
        if let Err(f) = got {
            assert_eq!(f.code, 402);
        }
    }
}

#[test]
fn headers_responses_and_faults() {
    assert_eq!(
        soap_action_header("\"urn:schemas-upnp-org:service:ContentDirectory:1#Browse\""),
        Some(("urn:schemas-upnp-org:service:ContentDirectory:1", "Browse"))
    );
    assert_eq!(
        soap_action_header("urn:x#GetProtocolInfo"),
        Some(("urn:x", "GetProtocolInfo"))
    );
    assert_eq!(soap_action_header("\"no-hash\""), None);
    assert_eq!(soap_action_header("#Browse"), None);
    let r = response(
        crate::CONTENT_DIRECTORY,
        "Browse",
        &[
            ("Result", "<DIDL-Lite>&</DIDL-Lite>"),
            ("NumberReturned", "1"),
        ],
    );
    assert!(r.contains(
        "<u:BrowseResponse xmlns:u=\"urn:schemas-upnp-org:service:ContentDirectory:1\">\
         <Result>&lt;DIDL-Lite&gt;&amp;&lt;/DIDL-Lite&gt;</Result><NumberReturned>1</NumberReturned>\
         </u:BrowseResponse>"
    ));
    let f = Fault::no_such_object().to_xml();
    assert!(
        f.contains("<errorCode>701</errorCode><errorDescription>No such object</errorDescription>")
    );
    // Both parse back as XML with our own reader.
    assert!(parse_action(r.as_bytes()).is_ok());
}
