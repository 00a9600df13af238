//! GENA's requests and events, table-tested against the UPnP Device Architecture's rules.

use super::*;

/// `SID`, `CALLBACK`, `NT`, `TIMEOUT`, and what they ask (or the refusal's status).
type Case<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Result<Subscribe, u16>,
);

#[test]
fn subscribe_requests() {
    let cases: [Case; 9] = [
        (
            None,
            Some("<http://10.0.0.5:4004/events/1>"),
            Some("upnp:event"),
            Some("Second-1800"),
            Ok(Subscribe::New {
                callbacks: vec!["http://10.0.0.5:4004/events/1".into()],
                timeout: 1800,
            }),
        ),
        // Several callbacks, the non-http one dropped; a short timeout raised, infinite cut.
        (
            None,
            Some("<ftp://x/><http://a/1> <http://b:81/2>"),
            Some(" upnp:event "),
            Some("Second-5"),
            Ok(Subscribe::New {
                callbacks: vec!["http://a/1".into(), "http://b:81/2".into()],
                timeout: MIN_TIMEOUT,
            }),
        ),
        (
            None,
            Some("<http://a/>"),
            Some("upnp:event"),
            Some("Second-infinite"),
            Ok(Subscribe::New {
                callbacks: vec!["http://a/".into()],
                timeout: MAX_TIMEOUT,
            }),
        ),
        (
            Some("uuid:1"),
            None,
            None,
            Some("Second-600"),
            Ok(Subscribe::Renew {
                sid: "uuid:1".into(),
                timeout: 600,
            }),
        ),
        (Some("uuid:1"), Some("<http://a/>"), None, None, Err(400)),
        (Some("uuid:1"), None, Some("upnp:event"), None, Err(400)),
        (
            None,
            Some("<http://a/>"),
            Some("upnp:propchange"),
            None,
            Err(412),
        ),
        (None, None, Some("upnp:event"), None, Err(412)),
        (
            None,
            Some("http://a/ (no brackets)"),
            Some("upnp:event"),
            None,
            Err(412),
        ),
    ];
    for (sid, callback, nt, timeout, want) in cases {
        let got = parse_subscribe(sid, callback, nt, timeout).map_err(|e| e.status());
        assert_eq!(got, want, "{sid:?} {callback:?} {nt:?} {timeout:?}");
    }
}

#[test]
fn unsubscribe_requests() {
    assert_eq!(
        parse_unsubscribe(Some(" uuid:9 "), None, None),
        Ok("uuid:9".into())
    );
    assert_eq!(
        parse_unsubscribe(None, None, None).map_err(|e| e.status()),
        Err(412)
    );
    assert_eq!(
        parse_unsubscribe(Some(""), None, None).map_err(|e| e.status()),
        Err(412)
    );
    assert_eq!(
        parse_unsubscribe(Some("uuid:9"), Some("<http://a/>"), None).map_err(|e| e.status()),
        Err(400)
    );
}

#[test]
fn timeouts_and_sequence_numbers() {
    for (header, want) in [
        (None, MAX_TIMEOUT),
        (Some("Second-900"), 900),
        (Some("Second-99999"), MAX_TIMEOUT),
        (Some("Second-0"), MIN_TIMEOUT),
        (Some("Second--4"), MAX_TIMEOUT),
        (Some("minutes-5"), MAX_TIMEOUT),
    ] {
        assert_eq!(granted(header), want, "{header:?}");
    }
    assert_eq!(next_seq(0), 1);
    assert_eq!(next_seq(41), 42);
    assert_eq!(next_seq(u32::MAX), 1);
}

#[test]
fn callback_targets() {
    let t = |url: &str| callback_target(url);
    let own = |h: &str, p: u16, path: &str| Some((h.to_owned(), p, path.to_owned()));
    assert_eq!(
        t("http://10.0.0.5:4004/ev/1"),
        own("10.0.0.5", 4004, "/ev/1")
    );
    assert_eq!(t("http://10.0.0.5"), own("10.0.0.5", 80, "/"));
    assert_eq!(t("http://[fe80::1]:8/x?y=1"), own("fe80::1", 8, "/x?y=1"));
    assert_eq!(t("http://[fe80::1]/"), own("fe80::1", 80, "/"));
    for bad in [
        "https://a/",
        "http://",
        "http://:80/",
        "http://user@a/",
        "http://a:port/",
        "http://a/x y",
        "http://a/x\r\nEvil: 1",
        "http://[fe80::1/",
        "http://[fe80::1]x/",
    ] {
        assert_eq!(t(bad), None, "{bad}");
    }
}

#[test]
fn an_event_and_its_request() {
    let body = propertyset(&[("SystemUpdateID", "7"), ("Odd", "<&>")]);
    assert_eq!(
        body,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<e:propertyset \
         xmlns:e=\"urn:schemas-upnp-org:event-1-0\"><e:property><SystemUpdateID>7\
         </SystemUpdateID></e:property><e:property><Odd>&lt;&amp;&gt;</Odd></e:property>\
         </e:propertyset>"
    );
    let req = notify_request("10.0.0.5", 4004, "/ev/1", "uuid:abc", 3, &body);
    assert!(
        req.starts_with("NOTIFY /ev/1 HTTP/1.1\r\nHOST: 10.0.0.5:4004\r\n"),
        "{req}"
    );
    for header in [
        "NT: upnp:event\r\n",
        "NTS: upnp:propchange\r\n",
        "SID: uuid:abc\r\n",
        "SEQ: 3\r\n",
    ] {
        assert!(req.contains(header), "{header}");
    }
    assert!(req.ends_with(&format!(
        "CONTENT-LENGTH: {}\r\nCONNECTION: close\r\n\r\n{body}",
        body.len()
    )));
    let v6 = notify_request("fe80::1", 8, "/", "uuid:abc", 0, "");
    assert!(v6.contains("HOST: [fe80::1]:8\r\n"), "{v6}");
}
