//! The DLNA streaming headers, table-tested.

use super::*;

#[test]
fn time_seek_ranges() {
    let cases: [(&str, Result<u64, ()>); 16] = [
        ("npt=0-", Ok(0)),
        ("npt=12.5-", Ok(12_500)),
        ("npt=12.345-20", Ok(12_345)),
        (" npt=0:01:02.5- ", Ok(62_500)),
        ("npt=1:00:00-1:30:00.000", Ok(3_600_000)),
        ("npt=10:00:00.1-", Ok(36_000_100)),
        ("npt=5-4", Err(())),
        ("npt=-5", Err(())),
        ("npt=now-", Err(())),
        ("npt=1:2:3-", Err(())),
        ("npt=0:61:00-", Err(())),
        ("npt=1.2345-", Err(())),
        ("npt=25:00:00-", Err(())),
        ("bytes=0-100", Err(())),
        ("npt=12.5", Err(())),
        ("npt=1e3-", Err(())),
    ];
    for (value, want) in cases {
        assert_eq!(parse_time_seek(value).map_err(|_| ()), want, "{value:?}");
    }
    let why = parse_time_seek("npt=x-").expect_err("unreadable");
    assert!(why.contains("npt=START-[END]"), "{why}");
}

#[test]
fn answers() {
    assert_eq!(
        time_seek_answer(62_500, Some(3_723_004)),
        "npt=0:01:02.500-1:02:03.004/1:02:03.004"
    );
    assert_eq!(time_seek_answer(0, None), "npt=0:00:00.000-/*");
    // A browser asks nothing and is told nothing.
    let browser = Asked::read(None, None, None);
    assert!(!browser.any() && browser.answer(false).is_empty());
    let tv = Asked::read(Some("1"), Some("streaming"), Some("npt=3-"));
    assert_eq!(tv.time_seek, Some(Ok(3000)));
    assert_eq!(
        tv.answer(true),
        [
            (
                "contentfeatures.dlna.org",
                "DLNA.ORG_OP=10;DLNA.ORG_CI=1;DLNA.ORG_FLAGS=01700000000000000000000000000000"
                    .to_owned()
            ),
            ("transfermode.dlna.org", "Streaming".to_owned()),
        ]
    );
    let features = Asked::read(Some("1"), Some("Bogus"), None);
    assert_eq!(
        features.answer(false)[0].1,
        "DLNA.ORG_OP=01;DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000"
    );
    assert_eq!(features.answer(false)[1].1, "Streaming");
    // Lowercase names: the server makes header names of them as they are.
    for (name, _) in tv.answer(true) {
        assert!(!name.bytes().any(|b| b.is_ascii_uppercase()), "{name}");
    }
    let interactive = Asked::read(None, Some("Interactive"), None);
    assert_eq!(
        interactive.answer(false),
        [("transfermode.dlna.org", "Interactive".to_owned())]
    );
}
