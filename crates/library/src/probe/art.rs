//! Folder art: `cover`, `folder` or `front` images beside the tracks, used for tracks without
//! embedded art, and which one a folder's tracks get when there are several.

/// The base names that mark a folder's art, best first.
const NAMES: [&str; 3] = ["cover", "folder", "front"];
/// The image extensions accepted, best first.
const EXTS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// (name rank, extension rank) of a folder-art file name (its last path segment), if it is one.
fn rank(file_name: &str) -> Option<(usize, usize)> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let (stem, ext) = base.rsplit_once('.')?;
    let name = NAMES.iter().position(|n| stem.eq_ignore_ascii_case(n))?;
    let ext = EXTS.iter().position(|e| ext.eq_ignore_ascii_case(e))?;
    // jpg and jpeg rank the same.
    Some((name, ext.saturating_sub(usize::from(ext > 0))))
}

/// `cover`/`folder`/`front` + .jpg/.jpeg/.png/.webp, any case.
pub fn is_folder_art(file_name: &str) -> bool {
    rank(file_name).is_some()
}

/// Prefer cover > folder > front, then jpg > png > webp, among names in one folder.
/// Ties (e.g. `cover.jpg` and `Cover.JPG`) go to the first name given.
pub fn pick_folder_art<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<((usize, usize), &'a str)> = None;
    for name in names {
        if let Some(r) = rank(name) {
            if best.is_none_or(|(b, _)| r < b) {
                best = Some((r, name));
            }
        }
    }
    best.map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_folder_art_in_any_case() {
        for yes in ["cover.jpg", "Folder.JPEG", "FRONT.png", "a/b/cover.WebP"] {
            assert!(is_folder_art(yes), "{yes}");
        }
        for no in [
            "cover.gif",
            "cover",
            "mycover.jpg",
            "cover.jpg.mp3",
            "back.jpg",
            ".jpg",
        ] {
            assert!(!is_folder_art(no), "{no}");
        }
    }

    #[test]
    fn picks_cover_then_folder_then_front_then_jpg_png_webp() {
        let names = [
            "front.jpg",
            "folder.png",
            "track.mp3",
            "folder.jpg",
            "cover.webp",
        ];
        assert_eq!(pick_folder_art(names), Some("cover.webp"));
        assert_eq!(
            pick_folder_art(["folder.webp", "folder.png"]),
            Some("folder.png")
        );
        assert_eq!(
            pick_folder_art(["front.png", "front.JPEG"]),
            Some("front.JPEG")
        );
        assert_eq!(pick_folder_art(["a.mp3", "b.flac"]), None);
    }
}
