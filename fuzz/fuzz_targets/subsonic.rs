//! Fuzzes the Subsonic request path that runs before any library access: parameters from a
//! query and a form body, the three authentication mechanisms, and the answer envelope with
//! hostile text. Checks: no panic; the XML answer is well-formed (read to its end by
//! quick-xml) and the JSON answer parses and keeps the text exactly.
//!
//! Input: `QUERY\nFORM`.
#![no_main]

use bucketstream_subsonic::auth::{check, credentials, Account};
use bucketstream_subsonic::envelope::{render, Format, Node};
use bucketstream_subsonic::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (query, form) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let query = String::from_utf8_lossy(query);
    let params = Params::parse(Some(&query), form);
    let account = Account {
        user: "ann",
        password: "sesame",
        api_key: Some("key"),
    };
    let verdict = credentials(&params).and_then(|c| check(&c, &account));
    let text: String = params.all("t").chain(params.all("title")).collect();
    let node = Node::new("song").attr("title", text.as_str()).text(text.as_str());
    let answer = match &verdict {
        Ok(()) => Ok(Some(&node)),
        Err(e) => Err(e),
    };
    let xml = render(Format::Xml, answer.clone(), "fuzz");
    let mut reader = quick_xml::Reader::from_str(&xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("answer is not well-formed XML: {e}: {xml:?}"),
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&render(Format::Json, answer, "fuzz")).expect("JSON answer parses");
    if verdict.is_ok() {
        assert_eq!(json["subsonic-response"]["song"]["title"], text.as_str());
    }
});
