//! The media files of the scan tests ([`crate::scan`]): what each one holds ([`FIXTURES`]) and
//! the folder they are made in with ffmpeg ([`fixtures`]). Kept apart from the tests because
//! the recipes (tagged songs with covers, a 200 MB mp3, a 50 MB film with its index at the
//! end, a VP9 clip) are long and change for other reasons than the checks do.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::ffmpeg;

/// One fixture: its key, and what the scan must find.
pub(crate) struct Fixture {
    pub(crate) key: &'static str,
    pub(crate) title: Option<&'static str>,
    pub(crate) artist: Option<&'static str>,
    pub(crate) has_art: bool,
}

pub(crate) const FIXTURES: &[Fixture] = &[
    Fixture {
        key: "Album/01 one.mp3",
        title: Some("Fjärd <b>one</b>"),
        artist: Some("The Testers"),
        has_art: true,
    },
    Fixture {
        key: "Album/02 two.m4a",
        title: Some("Two"),
        artist: Some("The Testers"),
        has_art: true,
    },
    Fixture {
        key: "Album/03 three.flac",
        title: Some("Three"),
        artist: Some("The Testers"),
        has_art: false,
    },
    Fixture {
        key: "Other/voice.opus",
        title: Some("Голос ♫"),
        artist: Some("Ünïcödé"),
        has_art: true,
    },
    Fixture {
        key: "Other/big.mp3",
        title: Some("Big"),
        artist: None,
        has_art: true,
    },
    Fixture {
        key: "Other/garbage.mp3",
        title: None,
        artist: None,
        has_art: true,
    },
    Fixture {
        key: "clip.webm",
        title: Some("A clip"),
        artist: None,
        has_art: true,
    },
    Fixture {
        key: "film.mp4",
        title: Some("A film"),
        artist: None,
        has_art: true,
    },
];

/// The fixture folder (made once per test run).
pub(crate) fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Made once under cargo's target folder and reused by later runs (the 200 MB mp3 is
        // not written again); built beside it and renamed into place, so a run stopped
        // half-way leaves nothing that looks complete.
        let done = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scan-fixtures-v2");
        if done.join("film.mp4").is_file() {
            return done;
        }
        let dir = done.with_extension(format!("part-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["Album", "Other"] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        }
        let p = |rel: &str| dir.join(rel).to_string_lossy().into_owned();
        let cover = p("cover-src.png");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x640:duration=1",
            "-frames:v",
            "1",
            &cover,
        ]);
        let tags = |title: &str, track: &str| {
            vec![
                "-metadata".to_owned(),
                format!("title={title}"),
                "-metadata".to_owned(),
                "artist=The Testers".to_owned(),
                "-metadata".to_owned(),
                "album=Test Album".to_owned(),
                "-metadata".to_owned(),
                "album_artist=The Testers".to_owned(),
                "-metadata".to_owned(),
                format!("track={track}/3"),
                "-metadata".to_owned(),
                "date=2021".to_owned(),
                "-metadata".to_owned(),
                "genre=Jazz".to_owned(),
            ]
        };
        let run = |mut args: Vec<String>, extra: &[&str]| {
            args.extend(extra.iter().map(|s| s.to_string()));
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            ffmpeg(&refs);
        };
        let sv = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        let tone = sv(&["-f", "lavfi", "-i", "sine=frequency=440:duration=7"]);
        let with_cover = sv(&[
            "-i",
            &cover,
            "-map",
            "0:a",
            "-map",
            "1:v",
            "-c:v",
            "png",
            "-disposition:v",
            "attached_pic",
        ]);
        let mp3 = sv(&["-id3v2_version", "4", "-b:a", "128k"]);
        let one = tags("Fjärd <b>one</b>", "1");
        run(
            [tone.clone(), with_cover.clone(), mp3, one].concat(),
            &[&p("Album/01 one.mp3")],
        );
        let m4a = sv(&["-c:a", "aac"]);
        let two = tags("Two", "2");
        run(
            [tone.clone(), with_cover, m4a, two].concat(),
            &[&p("Album/02 two.m4a")],
        );
        run(
            [tone.clone(), tags("Three", "3")].concat(),
            &[&p("Album/03 three.flac")],
        );
        run(
            tone,
            &[
                "-c:a",
                "libopus",
                "-metadata",
                "title=Голос ♫",
                "-metadata",
                "artist=Ünïcödé",
                &p("Other/voice.opus"),
            ],
        );
        ffmpeg(&["-i", &cover, "-vf", "scale=200:200", &p("Other/cover.jpg")]);
        // 200 MB of mp3 frames (copied, so it is quick to make), tagged.
        let small = p("small.mp3");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:duration=20",
            "-b:a",
            "320k",
            &small,
        ]);
        ffmpeg(&[
            "-stream_loop",
            "250",
            "-i",
            &small,
            "-c",
            "copy",
            "-metadata",
            "title=Big",
            &p("Other/big.mp3"),
        ]);
        std::fs::write(
            dir.join("Other/garbage.mp3"),
            crate::common::bytes(300_000, 7),
        )
        .expect("write");
        // A 50 MB film with its index (moov) at the end: 10 s at a constant 8 Mbit/s, looped.
        let base = p("film-base.mp4");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=10",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=10",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "8M",
            "-minrate",
            "8M",
            "-maxrate",
            "8M",
            "-bufsize",
            "2M",
            "-x264-params",
            "nal-hrd=cbr",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            &base,
        ]);
        ffmpeg(&[
            "-stream_loop",
            "4",
            "-i",
            &base,
            "-c",
            "copy",
            "-metadata",
            "title=A film",
            &p("film.mp4"),
        ]);
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=256x144:rate=15:duration=3",
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "150k",
            "-metadata",
            "title=A clip",
            &p("clip.webm"),
        ]);
        for tmp in ["cover-src.png", "small.mp3", "film-base.mp4"] {
            let _ = std::fs::remove_file(dir.join(tmp));
        }
        let _ = std::fs::remove_dir_all(&done);
        std::fs::rename(&dir, &done).expect("fixtures in place");
        done
    })
}
