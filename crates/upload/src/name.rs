//! `Upload-Metadata`'s `filename` (required) and `folder` (optional, relative to the library's
//! prefix or root, `/`-separated), checked and turned into where the upload goes.
//!
//! Names are refused rather than rewritten, so that the key is exactly prefix + folder + `/` +
//! filename and a client is never surprised by where a file went: absolute folders, empty
//! segments (`a//b`), `.`/`..` and hidden names (a leading `.`: the local sink's temporary
//! files are hidden, and the library does not list hidden files), backslashes, control
//! characters and over-long names are all `400 bad_upload`; a file the library would not play
//! is `415 unsupported_type`.

use bucketstream_core::media;

use crate::error::{Result, UploadError};

/// Longest file or folder name, in bytes (room for the local sink's temporary suffix under
/// the usual 255-byte file-name limit).
pub const MAX_SEGMENT_BYTES: usize = 200;
/// Most folder levels.
pub const MAX_DEPTH: usize = 32;
/// S3's longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Where an upload goes, before the sink places it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The folder's segments (empty: the library's prefix or root).
    pub folder: Vec<String>,
    /// The file name.
    pub filename: String,
    /// The Content-Type the library serves it with.
    pub mime: &'static str,
}

/// Checks one file or folder name.
fn segment(what: &str, name: &str) -> Result<()> {
    let bad = |why: &str| Err(UploadError::BadName(format!("{what} {name:?} {why}")));
    if name.is_empty() {
        return bad("is empty (no empty folder names, no `//`)");
    }
    if name.starts_with('.') {
        return bad("starts with a dot (no `.`, `..` or hidden names)");
    }
    if name.contains('\\') {
        return bad("contains a backslash");
    }
    if name.chars().any(char::is_control) {
        return bad("contains a control character");
    }
    if name.len() > MAX_SEGMENT_BYTES {
        return bad(&format!("is longer than {MAX_SEGMENT_BYTES} bytes"));
    }
    Ok(())
}

/// The target named by `metadata` (the decoded `Upload-Metadata` pairs).
pub fn target(metadata: &[(String, String)]) -> Result<Target> {
    let get = |key: &str| {
        metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let filename = get("filename").ok_or_else(|| {
        UploadError::BadName("Upload-Metadata must name the file (`filename`)".into())
    })?;
    if filename.contains('/') {
        return Err(UploadError::BadName(format!(
            "file name {filename:?} contains a `/`; put folders in `folder`"
        )));
    }
    segment("file name", filename)?;
    let folder = get("folder").unwrap_or("");
    if folder.starts_with('/') {
        return Err(UploadError::BadName(format!(
            "folder {folder:?} is absolute; it is relative to the library"
        )));
    }
    let folder: Vec<String> = if folder.is_empty() {
        Vec::new()
    } else {
        folder.split('/').map(str::to_owned).collect()
    };
    if folder.len() > MAX_DEPTH {
        return Err(UploadError::BadName(format!(
            "the folder is more than {MAX_DEPTH} levels deep"
        )));
    }
    for part in &folder {
        segment("folder", part)?;
    }
    let (_, mime) = media::classify(filename).ok_or_else(|| {
        UploadError::UnsupportedType(format!(
            "{filename:?} is not a kind of media the library plays"
        ))
    })?;
    Ok(Target {
        folder,
        filename: filename.to_owned(),
        mime,
    })
}

impl Target {
    /// The folder and the file name joined with `/` (the key below the prefix or root).
    pub fn relative(&self) -> String {
        let mut out = String::new();
        for part in &self.folder {
            out.push_str(part);
            out.push('/');
        }
        out.push_str(&self.filename);
        out
    }

    /// The S3 key: exactly `prefix` + folder + `/` + filename.
    pub fn s3_key(&self, prefix: &str) -> Result<String> {
        let key = format!("{prefix}{}", self.relative());
        if key.len() > MAX_KEY_BYTES {
            return Err(UploadError::BadName(format!(
                "the key would be longer than S3's {MAX_KEY_BYTES} bytes"
            )));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(filename: Option<&str>, folder: Option<&str>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(f) = filename {
            out.push(("filename".to_owned(), f.to_owned()));
        }
        if let Some(f) = folder {
            out.push(("folder".to_owned(), f.to_owned()));
        }
        out
    }

    #[test]
    fn good_names_make_exact_keys() {
        let cases = [
            (Some("song.mp3"), None, "music/", "music/song.mp3"),
            (Some("song.mp3"), Some(""), "", "song.mp3"),
            (
                Some("Track 01 – Été.FLAC"),
                Some("Artist/Album (2001)"),
                "m/",
                "m/Artist/Album (2001)/Track 01 – Été.FLAC",
            ),
            (Some("a.mkv"), Some("x"), "pre", "prex/a.mkv"),
        ];
        for (filename, folder, prefix, key) in cases {
            let t = target(&meta(filename, folder)).expect("ok");
            assert_eq!(t.s3_key(prefix).expect("key"), key);
        }
        assert_eq!(
            target(&meta(Some("a.mp3"), None)).expect("ok").mime,
            "audio/mpeg"
        );
    }

    #[test]
    fn hostile_names_are_refused() {
        let long = "a".repeat(MAX_SEGMENT_BYTES + 1) + ".mp3";
        let deep = vec!["d"; MAX_DEPTH + 1].join("/");
        let cases: Vec<(Option<&str>, Option<&str>)> = vec![
            (None, Some("a")),
            (Some(""), None),
            (Some("../x.mp3"), None),
            (Some("a/b.mp3"), None),
            (Some(".."), None),
            (Some(".hidden.mp3"), None),
            (Some("a\\b.mp3"), None),
            (Some("a\u{0}.mp3"), None),
            (Some("a\n.mp3"), None),
            (Some("a\u{7f}.mp3"), None),
            (Some("a\u{85}.mp3"), None),
            (Some(&long), None),
            (Some("x.mp3"), Some("/etc")),
            (Some("x.mp3"), Some("a//b")),
            (Some("x.mp3"), Some("a/")),
            (Some("x.mp3"), Some("a/../..")),
            (Some("x.mp3"), Some("./a")),
            (Some("x.mp3"), Some("a\\..\\b")),
            (Some("x.mp3"), Some("a\tb")),
            (Some("x.mp3"), Some(&deep)),
        ];
        for (filename, folder) in cases {
            let err = target(&meta(filename, folder)).expect_err("refused");
            assert!(
                matches!(err, UploadError::BadName(_)),
                "{filename:?} {folder:?}: {err:?}"
            );
        }
        let huge = target(&meta(
            Some("x.mp3"),
            Some(&vec!["f".repeat(150); 8].join("/")),
        ))
        .expect("each part is fine");
        assert!(huge.s3_key("").is_err(), "over 1024 bytes");
    }

    #[test]
    fn only_media_the_library_plays() {
        for name in ["x.txt", "x.exe", "x", "x.mp3.sh", "cover.jpg"] {
            let err = target(&meta(Some(name), None)).expect_err("refused");
            assert!(matches!(err, UploadError::UnsupportedType(_)), "{name}");
        }
    }
}
