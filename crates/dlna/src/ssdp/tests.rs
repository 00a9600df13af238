//! SSDP requests parsed as untrusted datagrams, and the answers' exact shape.

use super::*;

fn device() -> Device {
    Device {
        uuid: "4d696e69-444c-164e-9d41-b827eb54e1a1".into(),
        friendly_name: "Bucketstream".into(),
        location: "http://192.168.1.5:8080/dlna/device.xml".into(),
        version: "0.1.0".into(),
    }
}

const SEARCH: &str = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: ssdp:all\r\n\r\n";

#[test]
fn parses_searches() {
    assert_eq!(
        parse_search(SEARCH.as_bytes()),
        Ok(Search {
            target: "ssdp:all".into(),
            mx: 2
        })
    );
    let lower = "M-SEARCH * HTTP/1.1\nhost:239.255.255.250:1900\nman:\"ssdp:discover\"\nmx:99\nst:upnp:rootdevice\n\n";
    assert_eq!(
        parse_search(lower.as_bytes()),
        Ok(Search {
            target: "upnp:rootdevice".into(),
            mx: 5
        })
    );
    let table: &[(&[u8], SsdpError)] = &[
        (b"NOTIFY * HTTP/1.1\r\nNT: x\r\n\r\n", SsdpError::NotSearch),
        (b"M-SEARCH / HTTP/1.1\r\n", SsdpError::NotSearch),
        (b"M-SEARCH * HTTP/1.0\r\n", SsdpError::NotSearch),
        (b"\xff\xfe", SsdpError::NotSearch),
        (b"", SsdpError::NotSearch),
        (
            b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n",
            SsdpError::BadMan,
        ),
        (
            b"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n\r\n",
            SsdpError::NoTarget,
        ),
        (
            b"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST:\r\n\r\n",
            SsdpError::NoTarget,
        ),
    ];
    for (datagram, want) in table {
        assert_eq!(
            parse_search(datagram).as_ref(),
            Err(want),
            "{:?}",
            String::from_utf8_lossy(datagram)
        );
    }
    assert_eq!(
        parse_search(&vec![b'a'; MAX_DATAGRAM + 1]),
        Err(SsdpError::TooLarge)
    );
}

#[test]
fn answers_what_is_searched_for() {
    let d = device();
    let all = answers(&parse_search(SEARCH.as_bytes()).expect("search"), &d);
    assert_eq!(all.len(), 5);
    let search = |st: &str| Search {
        target: st.into(),
        mx: 1,
    };
    let cd = answers(&search(crate::CONTENT_DIRECTORY), &d);
    assert_eq!(cd.len(), 1);
    assert!(cd[0].starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(cd[0].contains("\r\nLOCATION: http://192.168.1.5:8080/dlna/device.xml\r\n"));
    assert!(cd[0].contains(&format!("\r\nST: {}\r\n", crate::CONTENT_DIRECTORY)));
    assert!(cd[0].contains(&format!(
        "\r\nUSN: uuid:{}::{}\r\n",
        d.uuid,
        crate::CONTENT_DIRECTORY
    )));
    assert!(cd[0].ends_with("\r\n\r\n"));
    let by_uuid = answers(&search(&format!("uuid:{}", d.uuid)), &d);
    assert_eq!(by_uuid.len(), 1);
    assert!(by_uuid[0].contains(&format!("\r\nUSN: uuid:{}\r\n", d.uuid)));
    assert!(answers(&search("urn:schemas-upnp-org:device:MediaRenderer:1"), &d).is_empty());
}

#[test]
fn announces_and_leaves() {
    let d = device();
    let alive = notifications(Notify::Alive, &d);
    assert_eq!(alive.len(), 5);
    assert!(alive
        .iter()
        .all(|m| m.contains("NTS: ssdp:alive") && m.contains("LOCATION: ")));
    let bye = notifications(Notify::ByeBye, &d);
    assert!(bye
        .iter()
        .all(|m| m.contains("NTS: ssdp:byebye") && !m.contains("LOCATION")));
}
