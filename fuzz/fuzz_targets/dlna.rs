//! Fuzzes what a DLNA server reads from the network: SSDP datagrams (`parse_search`) and SOAP
//! bodies (`parse_action`, then `Browse::from_action`), and DIDL-Lite rendering of hostile
//! titles. Checks: no panic; an accepted search has a non-empty target and MX in 1..=5; the
//! DIDL built from the input's text, inside a SOAP response, parses back as a SOAP action
//! whose `Result` is exactly that DIDL (escaping survives a round trip).
#![no_main]

use bucketstream_dlna::didl::{self, Container, ContainerClass, Entry};
use bucketstream_dlna::soap::{self, Browse};
use bucketstream_dlna::ssdp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(search) = ssdp::parse_search(data) {
        assert!(!search.target.is_empty());
        assert!((1..=5).contains(&search.mx));
    }
    if let Ok(action) = soap::parse_action(data) {
        assert!(action.args.len() <= soap::MAX_ARGS);
        let _ = Browse::from_action(&action);
    }
    let title = String::from_utf8_lossy(data);
    let entry = Entry::Container(Container {
        id: title.to_string(),
        parent_id: "0".into(),
        title: title.to_string(),
        child_count: None,
        class: ContainerClass::Folder,
        art: None,
    });
    let result = didl::render(&[entry]);
    let response = soap::response(bucketstream_dlna::CONTENT_DIRECTORY, "Browse", &[("Result", &result)]);
    let parsed = soap::parse_action(response.as_bytes()).expect("our response parses");
    assert_eq!(parsed.arg("Result"), Some(result.as_str()));
});
