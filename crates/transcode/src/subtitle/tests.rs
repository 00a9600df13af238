//! Conversions of real-looking and broken subtitle files to WebVTT.

use super::*;

const SRT: &str = "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello <i>world</i> & <font color=\"red\">friends</font>\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000 X1:10 Y1:20\r\n{\\an8}Top line\r\nsecond --> line\r\n\r\n3\r\n00:00:05,000 --> 00:00:04,000\r\nbackwards, skipped\r\n\r\n4\r\nbad --> time\r\nskipped too\r\n\r\n5\r\n00:00:06,000 --> 00:00:07,000\r\n\r\n6\r\n00:01:00,000 --> 00:01:01,000\r\na < b\r\n";

#[test]
fn srt_to_webvtt() {
    let vtt = to_webvtt(SRT.as_bytes(), Format::Srt).expect("vtt");
    assert_eq!(
        vtt,
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello <i>world</i> &amp; friends\n\n\
         00:00:03.000 --> 00:00:04.000\nTop line\nsecond \u{2192} line\n\n\
         00:01:00.000 --> 00:01:01.000\na &lt; b\n"
    );
}

#[test]
fn srt_without_numbers_or_blank_lines() {
    let text = "00:00:01,000 --> 00:00:02,000\nOne\n00:00:03,000 --> 00:00:04,000\nTwo\n\n\n";
    let vtt = to_webvtt(text.as_bytes(), Format::Srt).expect("vtt");
    assert_eq!(
        vtt,
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nOne\n\n00:00:03.000 --> 00:00:04.000\nTwo\n"
    );
}

const ASS: &str = "[Script Info]\nTitle: test\n\n[V4+ Styles]\nFormat: Name, Fontname\nStyle: Default,Arial\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:05.00,0:00:06.50,Default,,0,0,0,,Second, with commas\nDialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\i1}First{\\i0}\\Nline two\\hend\nDialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100{\\p0}\nComment: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,not shown\nDialogue: broken line\n";

#[test]
fn ass_to_webvtt() {
    let vtt = to_webvtt(ASS.as_bytes(), Format::Ass).expect("vtt");
    assert_eq!(
        vtt,
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<i>First</i>\nline two end\n\n\
         00:00:05.000 --> 00:00:06.500\nSecond, with commas\n"
    );
}

#[test]
fn encodings() {
    // Windows-1252: "café – ‘quoted’" as an old .srt would have it.
    let mut latin = b"00:00:01,000 --> 00:00:02,000\ncaf\xe9 \x96 \x91quoted\x92\n".to_vec();
    let vtt = to_webvtt(&latin, Format::Srt).expect("vtt");
    assert!(vtt.contains("café – ‘quoted’"), "{vtt}");
    latin.clear();
    // UTF-16 little-endian with a mark.
    let text = "00:00:01,000 --> 00:00:02,000\nünï 🎵\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    assert!(to_webvtt(&utf16, Format::Srt)
        .expect("vtt")
        .contains("ünï 🎵"));
    // UTF-8 with a mark.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    assert!(to_webvtt(&bom, Format::Srt)
        .expect("vtt")
        .contains("ünï 🎵"));
}

#[test]
fn webvtt_passes_and_garbage_fails() {
    let vtt = "WEBVTT - made elsewhere\n\n00:01.000 --> 00:02.000\nhi\n";
    assert_eq!(
        to_webvtt(vtt.as_bytes(), Format::WebVtt).as_deref(),
        Ok(vtt)
    );
    let headerless = "00:00:01.000 --> 00:00:02.000\nhi\n";
    assert!(to_webvtt(headerless.as_bytes(), Format::WebVtt)
        .expect("read as srt")
        .starts_with("WEBVTT\n"));
    for garbage in [&b""[..], b"\x00\x01\x02", b"just some text\n", b"-->-->-->"] {
        assert_eq!(to_webvtt(garbage, Format::Srt), Err(SubtitleError::NoCues));
        assert_eq!(to_webvtt(garbage, Format::Ass), Err(SubtitleError::NoCues));
    }
    assert_eq!(
        to_webvtt(&vec![b'a'; MAX_INPUT + 1], Format::Srt),
        Err(SubtitleError::TooLarge)
    );
    assert_eq!(Format::from_name("Film.EN.SRT"), Some(Format::Srt));
    assert_eq!(Format::from_name("x.ssa"), Some(Format::Ass));
    assert_eq!(Format::from_name("x.sub"), None);
}

#[test]
fn markup_is_bounded_and_safe() {
    assert_eq!(markup("<b>bold</b> <script>x</script>"), "<b>bold</b> x");
    assert_eq!(markup("<I>loud</I>"), "<i>loud</i>");
    assert_eq!(markup("a <b"), "a &lt;b");
    assert_eq!(markup("{\\an8}{not an override}"), "{not an override}");
    assert_eq!(markup("x\n\n\ny"), "x\ny");
    let long_tag = format!("<{}>", "a".repeat(100));
    assert!(markup(&long_tag).starts_with("&lt;"));
}
