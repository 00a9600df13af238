//! The envelope's XML and JSON, compared with the shapes Subsonic clients parse.

use serde_json::json;

use super::*;
use crate::error::Code;

fn album() -> Node {
    Node::new("album")
        .attr("id", "al-1")
        .attr("name", "Kind of Blue")
        .attr("songCount", 2u32)
        .opt::<&str>("genre", None)
        .attr("duration", 2_640.5)
        .attr("starred", false)
        .list(
            "song",
            vec![Node::new("child").attr("id", "s1").attr("isVideo", false)],
        )
}

#[test]
fn ok_without_body() {
    let xml = render(Format::Xml, Ok(None), "0.1.0");
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<subsonic-response \
         xmlns=\"http://subsonic.org/restapi\" status=\"ok\" version=\"1.16.1\" \
         type=\"bucketstream\" serverVersion=\"0.1.0\" openSubsonic=\"true\"/>"
    );
    let j: serde_json::Value =
        serde_json::from_str(&render(Format::Json, Ok(None), "0.1.0")).expect("json");
    assert_eq!(
        j,
        json!({"subsonic-response": {"status": "ok", "version": "1.16.1",
            "type": "bucketstream", "serverVersion": "0.1.0", "openSubsonic": true}})
    );
}

#[test]
fn lists_are_arrays_even_of_one_and_left_out_when_empty() {
    let body = album();
    let j: serde_json::Value =
        serde_json::from_str(&render(Format::Json, Ok(Some(&body)), "v")).expect("json");
    assert_eq!(
        j["subsonic-response"]["album"],
        json!({"id": "al-1", "name": "Kind of Blue", "songCount": 2, "duration": 2640.5,
            "starred": false, "song": [{"id": "s1", "isVideo": false}]})
    );
    let xml = render(Format::Xml, Ok(Some(&body)), "v");
    assert!(xml.contains(
        "<album id=\"al-1\" name=\"Kind of Blue\" songCount=\"2\" duration=\"2640.5\" \
         starred=\"false\"><song id=\"s1\" isVideo=\"false\"/></album>"
    ));
    let empty = Node::new("genres").list("genre", vec![]);
    let j: serde_json::Value =
        serde_json::from_str(&render(Format::Json, Ok(Some(&empty)), "v")).expect("json");
    assert_eq!(j["subsonic-response"]["genres"], json!({}));
}

#[test]
fn values_are_text_elements_in_xml_and_scalar_arrays_in_json() {
    let user = Node::new("user")
        .attr("username", "ann")
        .values("folder", vec![1u32.into(), "a<b".into()])
        .values("none", vec![]);
    let xml = render(Format::Xml, Ok(Some(&user)), "v");
    assert!(
        xml.contains("<user username=\"ann\"><folder>1</folder><folder>a&lt;b</folder></user>"),
        "{xml}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&render(Format::Json, Ok(Some(&user)), "v")).expect("json");
    assert_eq!(
        j["subsonic-response"]["user"],
        json!({"username": "ann", "folder": [1, "a<b"]})
    );
}

#[test]
fn errors_use_the_failed_envelope() {
    let err = SubsonicError::new(Code::WrongCredentials, "Wrong username or password");
    let j: serde_json::Value =
        serde_json::from_str(&render(Format::Json, Err(&err), "v")).expect("json");
    assert_eq!(j["subsonic-response"]["status"], "failed");
    assert_eq!(
        j["subsonic-response"]["error"],
        json!({"code": 40, "message": "Wrong username or password"})
    );
    let xml = render(Format::Xml, Err(&err), "v");
    assert!(xml.contains("status=\"failed\""));
    assert!(xml.ends_with(
        "<error code=\"40\" message=\"Wrong username or password\"/></subsonic-response>"
    ));
}

#[test]
fn hostile_text_stays_well_formed() {
    let title = "<b>\"Rock\" & 'Roll'</b>\u{0}\u{1b}\u{FFFE}\ttab\nline ünï 🎵";
    let body = Node::new("song").attr("title", title).text("a]]>b<c");
    let xml = render(Format::Xml, Ok(Some(&body)), "v");
    assert!(xml.contains(
        "title=\"&lt;b&gt;&quot;Rock&quot; &amp; &apos;Roll&apos;&lt;/b&gt;&#9;tab&#10;line ünï 🎵\""
    ));
    assert!(xml.contains(">a]]&gt;b&lt;c</song>"));
    assert!(!xml.contains('\u{0}') && !xml.contains('\u{1b}'));
    // JSON keeps the text exactly (JSON can carry any character).
    let j: serde_json::Value =
        serde_json::from_str(&render(Format::Json, Ok(Some(&body)), "v")).expect("json");
    assert_eq!(j["subsonic-response"]["song"]["title"], title);
    assert_eq!(j["subsonic-response"]["song"]["value"], "a]]>b<c");
}

#[test]
fn non_finite_numbers_are_left_out_and_formats_parse() {
    let node = Node::new("x")
        .attr("a", f64::NAN)
        .attr("b", f64::INFINITY)
        .attr("c", 1.0);
    assert_eq!(node.attrs.len(), 1);
    assert_eq!(Format::from_param(Some("json")), Format::Json);
    assert_eq!(Format::from_param(Some("xml")), Format::Xml);
    assert_eq!(Format::from_param(Some("jsonp")), Format::Xml);
    assert_eq!(Format::from_param(None), Format::Xml);
}
