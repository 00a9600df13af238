//! The ffmpeg recipe of each probe fixture ([`make`]), by name: a cover, ID3v2.3/2.4 and ID3v1
//! mp3s, HTML and over-long titles, CBR/VBR with and without a Xing header, a 200 MB mp3, an
//! m4a with its index at the end, FLAC with a picture, Unicode Opus/Ogg, tagged WAV and AIFF,
//! and videos. Kept apart from the folder, the fetchers and the ffprobe reference in the parent
//! module because the recipes are long and grow with every new fixture.

use std::path::PathBuf;

use super::{dir, ffmpeg, fixture, long_title, HOSTILE, UNICODE_TITLE};

const TAGS: [&str; 14] = [
    "-metadata",
    "artist=Test Artist",
    "-metadata",
    "album=Test Album",
    "-metadata",
    "album_artist=Various",
    "-metadata",
    "track=3/12",
    "-metadata",
    "disc=1/2",
    "-metadata",
    "date=2021",
    "-metadata",
    "genre=Jazz",
];

fn tagged(title: &str) -> Vec<String> {
    let mut v: Vec<String> = TAGS.iter().map(|s| (*s).to_owned()).collect();
    v.push("-metadata".into());
    v.push(format!("title={title}"));
    v
}

fn run(args: Vec<String>) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ffmpeg(&refs);
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

/// Makes fixture `name` at `dir()/file`.
pub(super) fn make(name: &str, file: &str) -> PathBuf {
    let d = dir();
    let out = d.join(file);
    let o = out.to_str().expect("utf-8 path").to_owned();
    let sine = |secs: u32| {
        s(&[
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:duration={secs}"),
        ])
    };
    let cover = || fixture("cover.png").to_str().expect("path").to_owned();
    // Quiet then loud: a VBR stream whose bitrate changes a lot half-way.
    let mixed = s(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=40",
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=duration=20:amplitude=0.5",
        "-filter_complex",
        "[0][1]concat=n=2:v=0:a=1[a]",
        "-map",
        "[a]",
    ]);
    let mp3_with_cover = |version: &str, title: &str| {
        let mut a = sine(30);
        a.extend(s(&[
            "-i",
            &cover(),
            "-map",
            "0",
            "-map",
            "1",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            "-c:v",
            "copy",
            "-id3v2_version",
            version,
            "-metadata:s:v",
            "title=Album cover",
            "-metadata:s:v",
            "comment=Cover (front)",
        ]));
        a.extend(tagged(title));
        a.push(o.clone());
        run(a);
    };
    match name {
        "cover.png" => run(s(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=300x300:duration=1",
            "-frames:v",
            "1",
            &o,
        ])),
        "v24_cover.mp3" => mp3_with_cover("4", "ID3v2.4 with cover"),
        "v23_cover.mp3" => mp3_with_cover("3", "ID3v2.3 with cover"),
        "html.mp3" => mp3_with_cover("4", HOSTILE),
        "long_title.mp3" => mp3_with_cover("4", &long_title()),
        "id3v1.mp3" => {
            // ffmpeg writes ID3v1 only beside ID3v2 (`-id3v2_version 0` writes neither): the
            // ID3v2 tag is cut off afterwards.
            let mut a = sine(20);
            a.extend(s(&[
                "-c:a",
                "libmp3lame",
                "-b:a",
                "128k",
                "-write_id3v1",
                "1",
            ]));
            a.extend(tagged("ID3v1 only"));
            a.push(o.clone());
            run(a);
            let bytes = std::fs::read(&out).expect("read");
            assert!(bytes.starts_with(b"ID3"), "an ID3v2 tag to cut");
            let size = bytes[6..10]
                .iter()
                .fold(0usize, |a, b| (a << 7) | usize::from(b & 0x7F));
            std::fs::write(&out, &bytes[10 + size..]).expect("write");
            assert!(
                bytes[bytes.len() - 128..].starts_with(b"TAG"),
                "an ID3v1 tag"
            );
        }
        "cbr_xing.mp3" | "cbr_noxing.mp3" | "vbr_xing.mp3" | "vbr_noxing.mp3" => {
            let mut a = mixed;
            a.extend(s(&["-c:a", "libmp3lame"]));
            a.extend(s(if name.starts_with("cbr") {
                &["-b:a", "160k"]
            } else {
                &["-q:a", "4"]
            }));
            if name.contains("noxing") {
                a.extend(s(&["-write_xing", "0"]));
            }
            a.extend(tagged(name));
            a.push(o.clone());
            run(a);
        }
        "vbr_noxing_long.mp3" => {
            // Three minutes of quiet and loud parts of different lengths, VBR, no Xing.
            let mut a = Vec::new();
            let parts = [
                ("sine=frequency=330", 30),
                ("anoisesrc=amplitude=0.4", 20),
                ("sine=frequency=880", 50),
                ("anoisesrc=amplitude=0.2:color=pink", 40),
                ("sine=frequency=220", 40),
            ];
            for (src, secs) in parts {
                a.extend(s(&["-f", "lavfi", "-i", &format!("{src}:duration={secs}")]));
            }
            a.extend(s(&[
                "-filter_complex",
                "[0][1][2][3][4]concat=n=5:v=0:a=1[a]",
                "-map",
                "[a]",
                "-c:a",
                "libmp3lame",
                "-q:a",
                "2",
                "-write_xing",
                "0",
            ]));
            a.extend(tagged(name));
            a.push(o.clone());
            run(a);
        }
        "big.mp3" => {
            // 10 s of 320 kbit/s CBR, looped by ffmpeg into a valid 84-minute, ~200 MB stream.
            let seed = d.join(format!("{file}.seed.mp3"));
            let seed = seed.to_str().expect("path");
            let mut a = sine(10);
            a.extend(s(&[
                "-c:a",
                "libmp3lame",
                "-b:a",
                "320k",
                "-write_xing",
                "0",
                seed,
            ]));
            run(a);
            let mut a = s(&[
                "-stream_loop",
                "-1",
                "-i",
                seed,
                "-t",
                "5040",
                "-c",
                "copy",
                "-id3v2_version",
                "4",
            ]);
            a.extend(tagged("Two hundred megabytes"));
            a.push(o.clone());
            run(a);
            std::fs::remove_file(seed).expect("remove the seed");
        }
        "moov_end.m4a" => {
            let mut a = sine(30);
            a.extend(s(&[
                "-i",
                &cover(),
                "-map",
                "0",
                "-map",
                "1",
                "-c:a",
                "aac",
                "-b:a",
                "128k",
                "-c:v",
                "copy",
                "-disposition:v",
                "attached_pic",
            ]));
            a.extend(tagged("M4A moov at the end"));
            a.push(o.clone());
            run(a);
        }
        "picture.flac" => {
            let mut a = sine(20);
            a.extend(s(&[
                "-i",
                &cover(),
                "-map",
                "0",
                "-map",
                "1",
                "-c:a",
                "flac",
                "-c:v",
                "copy",
                "-disposition:v",
                "attached_pic",
            ]));
            a.extend(tagged("FLAC with picture"));
            a.push(o.clone());
            run(a);
        }
        "unicode.opus" | "unicode.ogg" => {
            let mut a = sine(25);
            a.extend(s(if name.ends_with("opus") {
                &["-c:a", "libopus", "-b:a", "64k"]
            } else {
                &["-c:a", "libvorbis", "-q:a", "3"]
            }));
            a.extend(tagged(UNICODE_TITLE));
            a.extend(s(&["-metadata", "artist=Björk Guðmundsdóttir"]));
            a.push(o.clone());
            run(a);
        }
        "tagged.wav" => {
            let mut a = sine(5);
            a.extend(tagged("WAV with INFO"));
            a.push(o.clone());
            run(a);
        }
        "tagged.aiff" => {
            let mut a = sine(5);
            a.extend(s(&["-write_id3v2", "1"]));
            a.extend(tagged("AIFF with ID3"));
            a.push(o.clone());
            run(a);
        }
        "video.mp4" => run(s(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=25:duration=10",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=10",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-metadata",
            "title=A short film",
            "-shortest",
            &o,
        ])),
        "wide.mp4" => run(s(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=1280x720:rate=25:duration=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            &o,
        ])),
        "video.webm" => run(s(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25:duration=6",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=6",
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "300k",
            "-c:a",
            "libopus",
            "-metadata",
            "title=A webm film",
            "-shortest",
            &o,
        ])),
        "video.mkv" | "faststart.mov" => {
            // Matroska (H.264 + MP3) and QuickTime with its index first (H.264 + AAC).
            let (audio, extra): (&str, &[&str]) = if name == "video.mkv" {
                ("libmp3lame", &[])
            } else {
                ("aac", &["-movflags", "+faststart"])
            };
            let mut a = s(&[
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=480x270:rate=25:duration=5",
                "-f",
                "lavfi",
                "-i",
                "sine=duration=5",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                audio,
                "-metadata",
                "title=Container title",
                "-shortest",
            ]);
            a.extend(s(extra));
            a.push(o.clone());
            run(a);
        }
        _ => panic!("no recipe for fixture {name}"),
    }
    out
}
