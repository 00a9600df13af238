//! The two ways Subsonic clients browse: by tags (ID3: `getAlbumList2`, `search3`,
//! `getStarred2`, albums as `album` elements opened with `getAlbum`) and by folders (the older
//! `getAlbumList`, `search2`, `getStarred`, albums as directory entries opened with
//! `getMusicDirectory`), which DSub and Ultrasonic use unless "browse by tags" is switched on.
//! Both ask the same question and get the same albums; only the answer's names and the
//! album's shape differ, so each method is written once and rendered here.

use bucketstream_subsonic::model::Album;
use bucketstream_subsonic::Node;

/// Which family of methods is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `getAlbumList2`, `search3`, `getStarred2`.
    Id3,
    /// `getAlbumList`, `search2`, `getStarred`.
    Folders,
}

impl Dialect {
    /// The dialect of `method` and its ID3 name (the name the dispatch knows), for the
    /// methods that come in both; `None` for the others.
    pub fn of(method: &str) -> Option<(Dialect, &'static str)> {
        Some(match method {
            "getAlbumList2" => (Dialect::Id3, "getAlbumList2"),
            "getAlbumList" => (Dialect::Folders, "getAlbumList2"),
            "search3" => (Dialect::Id3, "search3"),
            "search2" => (Dialect::Folders, "search3"),
            "getStarred2" => (Dialect::Id3, "getStarred2"),
            "getStarred" => (Dialect::Folders, "getStarred2"),
            _ => return None,
        })
    }

    /// `album` as this dialect lists it.
    pub fn album(self, album: &Album) -> Node {
        match self {
            Dialect::Id3 => album.node(),
            Dialect::Folders => album.child("album"),
        }
    }

    /// The element of an album list.
    pub fn album_list(self, albums: &[Album]) -> Node {
        let name = match self {
            Dialect::Id3 => "albumList2",
            Dialect::Folders => "albumList",
        };
        Node::new(name).list("album", albums.iter().map(|a| self.album(a)).collect())
    }

    /// The element of a search answer.
    pub fn search_result(self) -> Node {
        Node::new(match self {
            Dialect::Id3 => "searchResult3",
            Dialect::Folders => "searchResult2",
        })
    }

    /// The element of the starred answer.
    pub fn starred(self) -> Node {
        Node::new(match self {
            Dialect::Id3 => "starred2",
            Dialect::Folders => "starred",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucketstream_subsonic::envelope::{render, Format};

    fn json(node: &Node) -> serde_json::Value {
        let text = render(Format::Json, Ok(Some(node)), "v");
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
        v["subsonic-response"].take()
    }

    #[test]
    fn each_method_has_its_twin_and_the_album_its_shape() {
        for (method, want) in [
            ("getAlbumList", Some((Dialect::Folders, "getAlbumList2"))),
            ("getAlbumList2", Some((Dialect::Id3, "getAlbumList2"))),
            ("search2", Some((Dialect::Folders, "search3"))),
            ("search3", Some((Dialect::Id3, "search3"))),
            ("getStarred", Some((Dialect::Folders, "getStarred2"))),
            ("getStarred2", Some((Dialect::Id3, "getStarred2"))),
            ("getAlbum", None),
            ("search", None),
        ] {
            assert_eq!(Dialect::of(method), want, "{method}");
        }
        let albums = [Album {
            id: "al-1".into(),
            name: "Kind of Blue".into(),
            artist_id: Some("ar-1".into()),
            ..Album::default()
        }];
        let id3 = json(&Dialect::Id3.album_list(&albums));
        assert_eq!(id3["albumList2"]["album"][0]["name"], "Kind of Blue");
        assert!(id3["albumList2"]["album"][0].get("isDir").is_none());
        let folders = json(&Dialect::Folders.album_list(&albums));
        let entry = &folders["albumList"]["album"][0];
        assert_eq!(entry["title"], "Kind of Blue");
        assert_eq!(entry["isDir"], true);
        assert_eq!(entry["parent"], "ar-1");
        assert!(json(&Dialect::Folders.search_result())
            .get("searchResult2")
            .is_some());
        assert!(json(&Dialect::Folders.starred()).get("starred").is_some());
        assert!(json(&Dialect::Id3.starred()).get("starred2").is_some());
    }
}
