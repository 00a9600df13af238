//! The subfolders of one folder with their item counts (`GET /api/folders?under=X`, the
//! desktop's `library_folders`), so a player paging a 1,000,000-item library on the server can
//! draw a folder level without the list.
//!
//! Pure functions over a [`Snapshot`]: [`parse`] checks the query's pairs, [`subfolders`]
//! counts (no index kept, so memory per item is unchanged). A folder's count is the items in
//! it and below, as the player's own tree counts them.
//!
//! The snapshot is sorted by key, and every key is the source prefix followed by the item's
//! path below it, so the items under a folder are one contiguous run, and so are those of each
//! subfolder: without a kind filter a level is counted with binary searches, a few per
//! subfolder (1,000 subfolders of 1,000,000 items: about 20,000 comparisons instead of a pass
//! over the million). With a kind filter the items of the run are looked at one by one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::query::fold::fold;
use super::{MediaItem, Snapshot};
use crate::media::Kind;

/// A folder's subfolder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folder {
    /// Its last path part.
    pub name: String,
    /// Its whole path (`under/name`).
    pub path: String,
    /// Items in it and below (of the asked kind).
    pub count: usize,
}

/// What `GET /api/folders` asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderQuery {
    /// The folder whose subfolders are wanted (`""`: the top), without leading or trailing `/`.
    pub under: String,
    /// Count only items of this kind (folders without any are left out).
    pub kind: Option<Kind>,
}

/// The answer of `GET /api/folders`.
#[derive(Debug, Serialize)]
pub struct Folders {
    /// The snapshot's generation.
    pub generation: u64,
    /// The folder asked about.
    pub under: String,
    /// Items directly in it (of the asked kind).
    pub items: usize,
    /// Its subfolders, by name (byte order).
    pub folders: Vec<Folder>,
}

/// The query of these (percent-decoded) pairs: `under` and `kind` at most once each, nothing
/// else; the error is the `bad_query` message.
pub fn parse<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Result<FolderQuery, String> {
    let mut query = FolderQuery::default();
    let (mut under, mut kind) = (false, false);
    for (key, value) in pairs {
        let (key, value) = (key.as_ref(), value.as_ref());
        let seen = match key {
            "under" => &mut under,
            "kind" => &mut kind,
            _ => {
                let shown: String = key.chars().take(40).collect();
                return Err(format!("unknown parameter {shown:?} (known: under, kind)"));
            }
        };
        if std::mem::replace(seen, true) {
            return Err(format!("{key} is given twice"));
        }
        if key == "under" {
            query.under = value.trim_matches('/').to_owned();
        } else {
            query.kind = Some(match value {
                "audio" => Kind::Audio,
                "video" => Kind::Video,
                _ => return Err("kind must be audio or video".into()),
            });
        }
    }
    Ok(query)
}

/// One folder level for browsing clients (Subsonic's `getMusicDirectory`, DLNA's `Browse`):
/// the names of the folders directly under `path` (`""` is the top), sorted case- and
/// accent-insensitively, and the items directly in it, in key order.
pub fn level<'a>(items: &'a [Arc<MediaItem>], path: &str) -> (Vec<String>, Vec<&'a MediaItem>) {
    let mut folders = BTreeSet::new();
    let mut here = Vec::new();
    for item in items {
        let folder: &str = &item.folder;
        if folder == path {
            here.push(&**item);
            continue;
        }
        let rest = if path.is_empty() {
            Some(folder)
        } else {
            folder.strip_prefix(path).and_then(|r| r.strip_prefix('/'))
        };
        if let Some(first) = rest
            .and_then(|r| r.split('/').next())
            .filter(|f| !f.is_empty())
        {
            folders.insert((fold(first), first.to_owned()));
        }
    }
    (folders.into_iter().map(|(_, f)| f).collect(), here)
}

/// The subfolders of `query.under` in `snap`, with their counts.
pub fn subfolders(snap: &Snapshot, query: &FolderQuery) -> Folders {
    if query.kind.is_some() {
        return subfolders_by_pass(snap, query);
    }
    let items = &snap.items;
    let under = query.under.as_str();
    // The run of items below `under`: paths starting with "under/" ("" holds everything).
    let (start, end) = if under.is_empty() {
        (0, items.len())
    } else {
        let low = format!("{under}/");
        let high = format!("{under}0"); // '0' follows '/'
        (
            items.partition_point(|it| path(it) < low.as_str()),
            items.partition_point(|it| path(it) < high.as_str()),
        )
    };
    let skip = if under.is_empty() { 0 } else { under.len() + 1 };
    let mut folders = Vec::new();
    let mut direct = 0;
    let mut i = start;
    while i < end {
        let rest = path(&items[i]).get(skip..).unwrap_or("");
        let Some(slash) = rest.find('/') else {
            direct += 1;
            i += 1;
            continue;
        };
        let child = &rest[..slash];
        let head = &path(&items[i])[..skip + slash + 1];
        // The child's run: every path starting with "under/child/", from here on.
        let run = items[i..end]
            .partition_point(|it| path(it).starts_with(head))
            .max(1);
        folders.push(Folder {
            name: child.to_owned(),
            path: head[..head.len() - 1].to_owned(),
            count: run,
        });
        i += run;
    }
    folders.sort_by(|a, b| a.name.cmp(&b.name));
    Folders {
        generation: snap.generation,
        under: under.to_owned(),
        items: direct,
        folders,
    }
}

/// The item's path below the source prefix (`folder/file`, or `file` at the top): the end of
/// its key.
fn path(item: &super::MediaItem) -> &str {
    let key = item.key.as_str();
    let file = key.rsplit('/').next().unwrap_or(key);
    let len = if item.folder.is_empty() {
        file.len()
    } else {
        item.folder.len() + 1 + file.len()
    };
    key.get(key.len().saturating_sub(len)..).unwrap_or(key)
}

/// [`subfolders`] by looking at every item (with a kind filter, and as the reference the fast
/// path is tested against).
fn subfolders_by_pass(snap: &Snapshot, query: &FolderQuery) -> Folders {
    let under = query.under.as_str();
    let mut children: BTreeMap<&str, usize> = BTreeMap::new();
    let mut direct = 0;
    for item in &snap.items {
        if query.kind.is_some_and(|k| item.kind != k) {
            continue;
        }
        let Some(rest) = below(&item.folder, under) else {
            continue;
        };
        if rest.is_empty() {
            direct += 1;
            continue;
        }
        let child = rest.split('/').next().unwrap_or(rest);
        *children.entry(child).or_insert(0) += 1;
    }
    let folders = children
        .into_iter()
        .map(|(name, count)| Folder {
            name: name.to_owned(),
            path: if under.is_empty() {
                name.to_owned()
            } else {
                format!("{under}/{name}")
            },
            count,
        })
        .collect();
    Folders {
        generation: snap.generation,
        under: under.to_owned(),
        items: direct,
        folders,
    }
}

/// The part of `folder` below `under` (`""` when it is `under`), or `None` outside it.
pub fn below<'a>(folder: &'a str, under: &str) -> Option<&'a str> {
    if under.is_empty() {
        return Some(folder);
    }
    let rest = folder.strip_prefix(under)?;
    if rest.is_empty() {
        return Some(rest);
    }
    rest.strip_prefix('/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::item::from_object;
    use crate::source::ObjectMeta;

    fn snapshot(keys: &[&str]) -> Snapshot {
        snapshot_under("", keys)
    }

    /// A snapshot of a source whose keys all start with `prefix`.
    fn snapshot_under(prefix: &str, keys: &[&str]) -> Snapshot {
        let items = keys
            .iter()
            .map(|key| {
                let obj = ObjectMeta {
                    key: format!("{prefix}{key}"),
                    size: 1,
                    etag: None,
                    last_modified: None,
                };
                std::sync::Arc::new(from_object("test", prefix, &obj).expect("media"))
            })
            .collect();
        Snapshot::new(items, std::sync::Arc::default(), 4, None)
    }

    fn shown(f: &Folders) -> Vec<(String, String, usize)> {
        f.folders
            .iter()
            .map(|f| (f.name.clone(), f.path.clone(), f.count))
            .collect()
    }

    #[test]
    fn subfolders_count_items_in_and_below() {
        let snap = snapshot(&[
            "top.mp3",
            "a/1.mp3",
            "a/b/2.mp3",
            "a/b/c/3.mp4",
            "a b/4.mp3",
            "a/x/5.mp4",
            "z/6.mp3",
        ]);
        let top = subfolders(&snap, &FolderQuery::default());
        assert_eq!(top.items, 1);
        assert_eq!(top.generation, 4);
        let want = |v: &[(&str, &str, usize)]| -> Vec<(String, String, usize)> {
            v.iter()
                .map(|(n, p, c)| (n.to_string(), p.to_string(), *c))
                .collect()
        };
        assert_eq!(
            shown(&top),
            want(&[("a", "a", 4), ("a b", "a b", 1), ("z", "z", 1)])
        );
        let a = subfolders(
            &snap,
            &FolderQuery {
                under: "a".into(),
                kind: None,
            },
        );
        assert_eq!(a.items, 1);
        assert_eq!(shown(&a), want(&[("b", "a/b", 2), ("x", "a/x", 1)]));
        let videos = subfolders(
            &snap,
            &FolderQuery {
                under: "a".into(),
                kind: Some(Kind::Video),
            },
        );
        assert_eq!(videos.items, 0);
        assert_eq!(shown(&videos), want(&[("b", "a/b", 1), ("x", "a/x", 1)]));
        for under in ["", "a", "a/b", "a/b/c", "a b", "z", "nope", "a/x"] {
            let q = FolderQuery {
                under: under.into(),
                kind: None,
            };
            let (fast, pass) = (subfolders(&snap, &q), subfolders_by_pass(&snap, &q));
            assert_eq!(shown(&fast), shown(&pass), "{under:?}");
            assert_eq!(fast.items, pass.items, "{under:?}");
        }
        // Behind a source prefix (an S3 `prefix`): the same answers.
        let keys = ["top.mp3", "a/1.mp3", "a/b/2.mp3", "a b/4.mp3", "z/6.mp3"];
        let (plain, prefixed) = (snapshot(&keys), snapshot_under("lib/", &keys));
        for under in ["", "a", "a/b", "z"] {
            let q = FolderQuery {
                under: under.into(),
                kind: None,
            };
            let (a, b) = (subfolders(&plain, &q), subfolders(&prefixed, &q));
            assert_eq!((shown(&a), a.items), (shown(&b), b.items), "{under:?}");
        }
        let leaf = subfolders(
            &snap,
            &FolderQuery {
                under: "a/b/c".into(),
                kind: None,
            },
        );
        assert_eq!((leaf.items, leaf.folders.len()), (1, 0));
        let none = subfolders(
            &snap,
            &FolderQuery {
                under: "nope".into(),
                kind: None,
            },
        );
        assert_eq!((none.items, none.folders.len()), (0, 0));
    }

    #[test]
    fn below_table() {
        let cases = [
            ("", "", Some("")),
            ("a/b", "", Some("a/b")),
            ("a", "a", Some("")),
            ("a/b/c", "a", Some("b/c")),
            ("ab", "a", None),
            ("a b/c", "a", None),
            ("b", "a", None),
            ("", "a", None),
        ];
        for (folder, under, want) in cases {
            assert_eq!(below(folder, under), want, "{folder:?} under {under:?}");
        }
    }

    #[test]
    fn parse_table() {
        let ok: &[(&[(&str, &str)], FolderQuery)] = &[
            (&[], FolderQuery::default()),
            (
                &[("under", "/Jazz/Live/")],
                FolderQuery {
                    under: "Jazz/Live".into(),
                    kind: None,
                },
            ),
            (
                &[("kind", "video"), ("under", "")],
                FolderQuery {
                    under: String::new(),
                    kind: Some(Kind::Video),
                },
            ),
        ];
        for (pairs, want) in ok {
            assert_eq!(parse(pairs).as_ref(), Ok(want), "{pairs:?}");
        }
        let bad: &[&[(&str, &str)]] = &[
            &[("under", "a"), ("under", "b")],
            &[("kind", "film")],
            &[("folder", "a")],
            &[("_", "1")],
        ];
        for pairs in bad {
            assert!(parse(pairs).is_err(), "{pairs:?}");
        }
    }
}
