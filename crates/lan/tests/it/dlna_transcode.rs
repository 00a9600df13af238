//! A renderer that cannot play a file gets a second resource beside it: the item transcoded
//! on the host to H.264/AAC (or AAC) in MP4. Browsed with `upnp-client` (async-upnp-client,
//! PyPI), the second resource then played by ffprobe, which reports the converted codecs.
//! A renderer seeks that resource by time (`TimeSeekRange.dlna.org`) and is answered the DLNA
//! headers it asks for, on the file too.

use std::process::Command;

use crate::common::{ffmpeg, http};
use crate::dlna::{all, browse, start_dlna, upnp_client};

/// Each item of a DIDL-Lite answer: its title and its resources (protocolInfo, URL).
fn items(didl: &str) -> Vec<(String, Vec<(String, String)>)> {
    didl.split("<item ")
        .skip(1)
        .map(|item| {
            let title = all(item, "<dc:title>", "</dc:title>")
                .first()
                .copied()
                .unwrap_or_default()
                .to_owned();
            let res = item
                .split("<res protocolInfo=\"")
                .skip(1)
                .map(|r| {
                    let info = r.split('"').next().unwrap_or_default().to_owned();
                    let url = r
                        .split_once('>')
                        .and_then(|(_, rest)| rest.split("</res>").next())
                        .unwrap_or_default()
                        .to_owned();
                    (info, url)
                })
                .collect();
            (title, res)
        })
        .collect()
}

/// The codecs of the streams at `url`, as ffprobe reads them.
fn codecs(url: &str) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name"])
        .args(["-of", "csv=p=0", url])
        .output()
        .expect("ffprobe");
    assert!(
        out.status.success(),
        "{url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renderer_is_offered_a_transcode_of_what_it_may_not_play() {
    let bin = upnp_client();
    let root = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    let at = |p: &str| {
        let path = root.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        path.display().to_string()
    };
    let (picture, sound) = ("testsrc=duration=2:size=160x120:rate=10", "sine=duration=2");
    let lavfi = |input: &'static str| ["-f", "lavfi", "-i", input];
    let both: Vec<&str> = lavfi(picture).into_iter().chain(lavfi(sound)).collect();
    for (path, codecs) in [
        ("Films/old.avi", ["-c:v", "mpeg4", "-c:a", "libmp3lame"]),
        ("Films/clip.mp4", ["-c:v", "libx264", "-c:a", "aac"]),
    ] {
        let out = at(path);
        let mut args = both.clone();
        args.extend(codecs);
        args.extend(["-pix_fmt", "yuv420p", "-shortest", out.as_str()]);
        ffmpeg(&args);
    }
    for (path, codec) in [
        ("Music/song.mp3", "libmp3lame"),
        ("Music/tune.wma", "wmav2"),
    ] {
        let out = at(path);
        let mut args: Vec<&str> = lavfi(sound).to_vec();
        args.extend(["-c:a", codec, out.as_str()]);
        ffmpeg(&args);
    }
    let (server, _) = start_dlna(root.path(), data.path()).await;
    let device = format!("http://{}/dlna/device.xml", server.addr);
    let music = format!("f:{}", hex::encode("Music"));
    let (videos, songs) = tokio::task::spawn_blocking(move || {
        let (_, videos) = browse(&bin, &device, "videos", "BrowseDirectChildren", 0, 0);
        let (_, songs) = browse(&bin, &device, &music, "BrowseDirectChildren", 0, 0);
        (items(&videos), items(&songs))
    })
    .await
    .expect("join");
    let offered = |list: &[(String, Vec<(String, String)>)], title: &str| {
        list.iter()
            .find(|(t, _)| t == title)
            .map(|(_, res)| res.clone())
            .unwrap_or_else(|| panic!("{title} is listed: {list:?}"))
    };
    // What every renderer plays has one resource: the file.
    for (list, title) in [(&videos, "clip"), (&songs, "song")] {
        let res = offered(list, title);
        assert_eq!(res.len(), 1, "{title}: {res:?}");
        assert!(res[0].0.contains("DLNA.ORG_OP=01;DLNA.ORG_CI=0"), "{res:?}");
        assert!(res[0].1.contains("/media/"), "{res:?}");
    }
    // The others: the file first, then its transcode, flagged as converted, seeking by time.
    for (list, title, mime, mode, want) in [
        (&videos, "old", "video/mp4", "full", vec!["h264", "aac"]),
        (&songs, "tune", "audio/mp4", "audio", vec!["aac"]),
    ] {
        let res = offered(list, title);
        assert_eq!(res.len(), 2, "{title}: {res:?}");
        assert!(res[0].1.contains("/media/"), "{res:?}");
        assert_eq!(
            res[1].0,
            format!(
                "http-get:*:{mime}:DLNA.ORG_OP=10;DLNA.ORG_CI=1;\
                 DLNA.ORG_FLAGS=01700000000000000000000000000000"
            ),
            "{title}"
        );
        let url = res[1].1.clone();
        assert!(
            url.contains("/transcode/") && url.ends_with(&format!("?mode={mode}")),
            "{url}"
        );
        let got = tokio::task::spawn_blocking(move || codecs(&url))
            .await
            .expect("join");
        assert_eq!(got, want, "{title}");
    }
    time_seeks(&offered(&videos, "old")[1].1, root.path()).await;
    // The file answers a renderer's DLNA headers too: byte seeks, not converted.
    let file = &offered(&videos, "clip")[0].1;
    let resp = http()
        .get(file)
        .header("getcontentFeatures.dlna.org", "1")
        .header("Range", "bytes=0-99")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 206);
    told_features(resp.headers(), "DLNA.ORG_OP=01;DLNA.ORG_CI=0;");
}

/// Asserts the DLNA headers of an answer: `contentFeatures.dlna.org` starting with `features`,
/// streamed.
fn told_features(h: &reqwest::header::HeaderMap, features: &str) {
    assert!(
        h["contentfeatures.dlna.org"]
            .to_str()
            .is_ok_and(|v| v.starts_with(features)),
        "{h:?}"
    );
    assert_eq!(h["transfermode.dlna.org"], "Streaming");
}

/// The 2 s AVI's transcode at `url`, asked from 1 s by time seek: about half its frames,
/// the range served said back; a seek past the end is 416, an unreadable one 400.
async fn time_seeks(url: &str, dir: &std::path::Path) {
    let resp = http()
        .get(url)
        .header("TimeSeekRange.dlna.org", "npt=1.0-")
        .header("getcontentFeatures.dlna.org", "1")
        .header("transferMode.dlna.org", "Streaming")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    let range = h["timeseekrange.dlna.org"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        range.starts_with("npt=0:00:0") && range.contains("-0:00:02") && range.contains("/0:00:02"),
        "{range}"
    );
    told_features(&h, "DLNA.ORG_OP=10;DLNA.ORG_CI=1;");
    let body = resp.bytes().await.expect("body");
    let part = dir.join("from-1s.mp4");
    std::fs::write(&part, &body).expect("write");
    let frames = |path: &std::path::Path| {
        let out = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-count_packets"])
            .args(["-show_entries", "stream=nb_read_packets", "-of", "csv=p=0"])
            .arg(path)
            .output()
            .expect("ffprobe");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
    };
    let whole = frames(&dir.join("Films/old.avi"));
    let from_middle = frames(&part);
    assert!(
        from_middle > 0 && from_middle < whole * 3 / 4,
        "{from_middle} of {whole} frames from 1 s"
    );
    for (value, status) in [("npt=5-", 416), ("npt=soon-", 400)] {
        let resp = http()
            .get(url)
            .header("TimeSeekRange.dlna.org", value)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), status, "{value}");
    }
}
