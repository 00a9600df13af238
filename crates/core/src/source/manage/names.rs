//! The target of a move or rename: a folder and a file name checked as hostile input, joined
//! into the key the object will have.
//!
//! Names come from a browser on the LAN (the owner's, but the page is still a web page): a
//! name that climbs (`..`), is absolute, holds a backslash (a separator to some clients), a
//! control character, an empty segment, or starts with `.` (hidden: the listing skips it, so
//! the item would vanish) is refused, as is a file name whose extension the library does not
//! play (the item would vanish too). Pure, table-tested.

use crate::error::{Error, Result};
use crate::media;

/// Longest name of one folder or file, in bytes (the common filesystem limit).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Longest key, in bytes (S3's limit).
pub const MAX_KEY_BYTES: usize = 1024;

/// Checks one folder or file name.
fn segment(part: &str, what: &str) -> Result<()> {
    let refuse = |why: &str| Err(Error::NameInvalid(format!("{what} {part:?} {why}")));
    if part.is_empty() {
        return Err(Error::NameInvalid(format!(
            "{what} is empty (no '//' and no leading or trailing '/' in a folder)"
        )));
    }
    if part == "." || part == ".." {
        return refuse("may not be '.' or '..'");
    }
    if part.starts_with('.') {
        return refuse("starts with '.' (hidden files are not listed)");
    }
    if part.contains('\\') {
        return refuse("holds a backslash");
    }
    if part.chars().any(char::is_control) {
        return refuse("holds a control character");
    }
    if part.len() > MAX_SEGMENT_BYTES {
        return Err(Error::NameInvalid(format!(
            "{what} is longer than {MAX_SEGMENT_BYTES} bytes"
        )));
    }
    Ok(())
}

/// The folder's segments: `""` is the top of the library; `a/b` is two folders. Absolute
/// paths and empty segments are refused.
pub fn folder_segments(folder: &str) -> Result<Vec<&str>> {
    if folder.is_empty() {
        return Ok(Vec::new());
    }
    if folder.starts_with('/') {
        return Err(Error::NameInvalid(format!(
            "folder {folder:?} is absolute; folders are relative to the library (\"\" is its top)"
        )));
    }
    let parts: Vec<&str> = folder.split('/').collect();
    for part in &parts {
        segment(part, "folder")?;
    }
    Ok(parts)
}

/// The key `prefix` + `folder` + `/` + `name`, once both are checked: `name` is a file name
/// with an extension the library plays.
pub fn target_key(prefix: &str, folder: &str, name: &str) -> Result<String> {
    let parts = folder_segments(folder)?;
    if name.contains('/') {
        return Err(Error::NameInvalid(format!(
            "file name {name:?} holds a '/'; put folders in the folder field"
        )));
    }
    segment(name, "file name")?;
    if media::classify(name).is_none() {
        return Err(Error::NameInvalid(format!(
            "file name {name:?} does not end in an extension the library plays (such as .mp3 or .mp4)"
        )));
    }
    let mut key = prefix.to_owned();
    for part in parts {
        key.push_str(part);
        key.push('/');
    }
    key.push_str(name);
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::NameInvalid(format!(
            "the new key is longer than {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok(key)
}

/// `name (n).ext` for `n >= 2` (`name.ext` for `n < 2`): the n-th candidate when a name is
/// taken.
pub fn numbered(name: &str, n: u32) -> String {
    if n < 2 {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_keys_table() {
        let ok: &[(&str, &str, &str, &str)] = &[
            ("", "", "a.mp3", "a.mp3"),
            ("lib/", "", "a.mp3", "lib/a.mp3"),
            (
                "lib/",
                "Jazz/Live",
                "take 2.flac",
                "lib/Jazz/Live/take 2.flac",
            ),
            ("", "Ça va", "été.mp3", "Ça va/été.mp3"),
            ("", "a", "x..y.mp3", "a/x..y.mp3"),
        ];
        for (prefix, folder, name, want) in ok {
            assert_eq!(
                target_key(prefix, folder, name).expect(name),
                *want,
                "{folder:?} {name:?}"
            );
        }
        let long = "a".repeat(256);
        let bad: &[(&str, &str)] = &[
            ("..", "a.mp3"),
            ("a/../b", "a.mp3"),
            ("/etc", "a.mp3"),
            ("a//b", "a.mp3"),
            ("a/", "a.mp3"),
            ("a\\b", "a.mp3"),
            ("a\u{0}b", "a.mp3"),
            ("a\nb", "a.mp3"),
            (".hidden", "a.mp3"),
            ("", ""),
            ("", ".."),
            ("", ".a.mp3"),
            ("", "a/b.mp3"),
            ("", "a\\b.mp3"),
            ("", "a\u{7f}.mp3"),
            ("", "notes.txt"),
            ("", "noextension"),
            ("", &long),
        ];
        for (folder, name) in bad {
            let err = target_key("", folder, name).expect_err(name);
            assert_eq!(err.code(), "name_invalid", "{folder:?} {name:?}");
        }
        let deep = vec!["f".repeat(200); 6].join("/");
        assert!(target_key("", &deep, "a.mp3").is_err(), "over 1024 bytes");
    }

    #[test]
    fn numbered_names() {
        assert_eq!(numbered("a.mp3", 1), "a.mp3");
        assert_eq!(numbered("a.mp3", 2), "a (2).mp3");
        assert_eq!(numbered("a.b.mp3", 3), "a.b (3).mp3");
        assert_eq!(numbered("noext", 2), "noext (2)");
    }
}
