//! The indexed engine against its reference: table tests of the text index (no hit across
//! two fields or two items, accents and case, several words, an empty query, words longer
//! than any text), then random snapshots and queries whose pages must equal the item by item
//! engine's ([`naive`]), through every path (sorted directly or along an order, with
//! the text indexed or not).

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::index::{Index, MAX_TEXT};
use super::run::run_with;
use super::*;
use crate::catalog::item::from_object;
use crate::catalog::{ItemMeta, Snapshot};
use crate::source::ObjectMeta;

/// One item: key, size, modified (s), title, artist, album, duration (ms).
struct Row {
    key: String,
    size: u64,
    modified: Option<u64>,
    title: Option<String>,
    artist: Option<String>,
    album: Option<String>,
    duration: Option<u64>,
}

fn row(key: &str) -> Row {
    Row {
        key: key.into(),
        size: 1,
        modified: None,
        title: None,
        artist: None,
        album: None,
        duration: None,
    }
}

fn snapshot(rows: Vec<Row>) -> Snapshot {
    let items = rows
        .into_iter()
        .filter_map(|r| {
            let obj = ObjectMeta {
                key: r.key,
                size: r.size,
                etag: None,
                last_modified: r.modified.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            };
            let mut item = from_object("test", "", &obj)?;
            item.meta = Arc::new(ItemMeta {
                title: r.title.map(Into::into),
                artist: r.artist.map(Into::into),
                album: r.album.map(Into::into),
                duration_ms: r.duration,
                ..ItemMeta::default()
            });
            Some(Arc::new(item))
        })
        .collect();
    Snapshot::of_items(items)
}

fn query(pairs: &[(&str, &str)]) -> Query {
    parse(pairs).expect("valid").expect("a page")
}

/// (total, keys of the page)
fn keys_of(page: Page<'_>) -> (usize, Vec<String>) {
    let keys = page.items.iter().map(|i| i.key.to_string()).collect();
    (page.total, keys)
}

#[test]
fn text_index_table() {
    let mut tagged = row("x/tags.mp3");
    tagged.title = Some("Ab".into());
    tagged.artist = Some("Cd".into());
    tagged.album = Some("Crème Brûlée".into());
    let snap = snapshot(vec![
        row("ab.mp3"),
        row("cd.mp3"),
        row("ef/gh.mp3"),
        tagged,
        row("Ünïcödé/ÉTÉ.mp4"),
        row("zz/last word.mp3"),
    ]);
    let index = Index::build(&snap, MAX_TEXT);
    let cases: &[(&str, &[&str])] = &[
        // "ab" + "cd": no hit across two items, nor across two fields (title Ab, artist Cd).
        ("bc", &[]),
        ("b", &["ab.mp3", "x/tags.mp3"]),
        ("ab", &["ab.mp3", "x/tags.mp3"]),
        ("ab cd", &["x/tags.mp3"]),
        // Folder and name are separate texts: "fg" spans "ef/" and "gh".
        ("fg", &[]),
        ("ef gh", &["ef/gh.mp3"]),
        ("ef/", &[]),
        // Accents and case, in the query and in the text.
        ("CREME brulee", &["x/tags.mp3"]),
        ("ete UNICODE", &["Ünïcödé/ÉTÉ.mp4"]),
        ("été", &["Ünïcödé/ÉTÉ.mp4"]),
        // The first and last bytes of the buffer.
        ("a", &["ab.mp3", "x/tags.mp3", "zz/last word.mp3"]),
        ("word", &["zz/last word.mp3"]),
        ("last word", &["zz/last word.mp3"]),
        ("zz", &["zz/last word.mp3"]),
        // Longer than any text, and nothing at all.
        (
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
            &[],
        ),
        ("nothing", &[]),
    ];
    for &(q, want) in cases {
        let mut want: Vec<String> = want.iter().map(|k| k.to_string()).collect();
        want.sort();
        let got = keys_of(run_with(&snap, &index, &query(&[("q", q)]), 0));
        assert_eq!(got, (want.len(), want.clone()), "q={q:?}");
        assert_eq!(keys_of(naive::run(&snap, &query(&[("q", q)]))).1, want);
    }
    let all = keys_of(run_with(&snap, &index, &query(&[("q", "")]), 0));
    assert_eq!(all.0, 6, "an empty query matches everything");
    let empty = snapshot(Vec::new());
    let page = run(&empty, &query(&[("q", "a"), ("sort", "-title")]));
    assert_eq!((page.total, page.items.len()), (0, 0));
}

#[test]
fn hits_map_to_their_segments() {
    let snap = snapshot(
        (0..300)
            .map(|i| row(&format!("f{}/n{i:03}x.mp3", i % 7)))
            .collect(),
    );
    let index = Index::build(&snap, MAX_TEXT);
    for (q, want) in [("x", 300), ("n1", 100), ("n29", 10), ("9x", 30), ("f3", 43)] {
        let page = run_with(&snap, &index, &query(&[("q", q), ("limit", "1000")]), 0);
        assert_eq!(page.total, want, "{q}");
        assert_eq!(
            keys_of(page),
            keys_of(naive::run(&snap, &query(&[("q", q), ("limit", "1000")])))
        );
    }
}

/// xorshift64*: reproducible random numbers without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn maybe<T>(&mut self, value: T) -> Option<T> {
        (self.below(4) != 0).then_some(value)
    }
}

const FOLDERS: &[&str] = &[
    "",
    "Pop",
    "Pop/live",
    "Pop/live/2",
    "Pop-x",
    "pop",
    "École",
    "a/b",
];
const PIECES: &[&str] = &[
    "a", "b", "ab", "é", "É", "e", "x", "Bé", "ß", "-", " ", "Zz", "ﬁ", "кр",
];
const WORDS: &[&str] = &[
    "a", "b", "AB", "e", "é", "x", "pop", "live", "ss", "fi", "zz", "ba", "кр", "/", "-", "q",
];
const SORTS: &[&str] = &[
    "key", "name", "title", "artist", "album", "modified", "size", "duration",
];

fn text(rng: &mut Rng) -> String {
    (0..1 + rng.below(4)).map(|_| rng.pick(PIECES)).collect()
}

fn random_snapshot(rng: &mut Rng, count: usize) -> Snapshot {
    let rows = (0..count)
        .map(|i| {
            let folder = rng.pick(FOLDERS);
            let ext = rng.pick(&["mp3", "mp4", "flac"]);
            let name = format!("{}{i}.{ext}", text(rng));
            let (title, artist, album) = (text(rng), text(rng), text(rng));
            let (modified, duration) = (rng.below(4) as u64, rng.below(3) as u64);
            Row {
                key: if folder.is_empty() {
                    name
                } else {
                    format!("{folder}/{name}")
                },
                size: rng.below(5) as u64,
                modified: rng.maybe(modified),
                title: rng.maybe(title),
                artist: rng.maybe(artist),
                album: rng.maybe(album),
                duration: rng.maybe(duration),
            }
        })
        .collect();
    snapshot(rows)
}

fn random_query(rng: &mut Rng, count: usize) -> Vec<(&'static str, String)> {
    let mut pairs = vec![("limit", (1 + rng.below(25)).to_string())];
    let offset = rng.below(count + 5);
    pairs.push((
        "offset",
        if rng.below(2) == 0 {
            offset / 8
        } else {
            offset
        }
        .to_string(),
    ));
    let words = rng.below(4);
    if words > 0 {
        let q: Vec<&str> = (0..words).map(|_| rng.pick(WORDS)).collect();
        pairs.push(("q", q.join(" ")));
    }
    if rng.below(4) == 0 {
        pairs.push(("folder", rng.pick(FOLDERS).to_owned()));
    }
    if rng.below(4) == 0 {
        pairs.push((
            "under",
            rng.pick(&["", "Pop", "/Pop/live/", "Po", "a", "x"])
                .to_owned(),
        ));
    }
    if rng.below(4) == 0 {
        pairs.push(("kind", rng.pick(&["audio", "video"]).to_owned()));
    }
    let sort = rng.pick(SORTS);
    pairs.push((
        "sort",
        if rng.below(2) == 0 {
            format!("-{sort}")
        } else {
            sort.to_owned()
        },
    ));
    pairs
}

#[test]
fn random_snapshots_and_queries_answer_as_the_reference() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..12 {
        let count = [0, 1, 2, 7, 40, 150, 400][round % 7];
        let snap = random_snapshot(&mut rng, count);
        let indexed = Index::build(&snap, MAX_TEXT);
        // Text over the limit: not indexed, searched item by item.
        let unindexed = Index::build(&snap, 8);
        assert!(count < 3 || unindexed.text().is_none());
        for _ in 0..150 {
            let pairs = random_query(&mut rng, snap.items.len());
            let q = parse(&pairs).expect("valid").expect("a page");
            let want = keys_of(naive::run(&snap, &q));
            for sort_directly in [0, 3, usize::MAX] {
                let got = keys_of(run_with(&snap, &indexed, &q, sort_directly));
                assert_eq!(got, want, "{pairs:?} sort_directly={sort_directly}");
            }
            assert_eq!(
                keys_of(run_with(&snap, &unindexed, &q, 0)),
                want,
                "{pairs:?} unindexed"
            );
        }
    }
}

#[test]
fn sorted_pages_equal_the_full_sort_at_every_offset() {
    let mut rng = Rng(42);
    let snap = random_snapshot(&mut rng, 300);
    let index = Index::build(&snap, MAX_TEXT);
    for sort in SORTS {
        for sort in [sort.to_string(), format!("-{sort}")] {
            for q in ["", "a", "é b"] {
                let whole = keys_of(naive::run(
                    &snap,
                    &query(&[("sort", &sort), ("q", q), ("limit", "1000")]),
                ));
                let mut pages = Vec::new();
                for offset in (0..whole.0 + 7).step_by(7) {
                    let pairs = [
                        ("sort", sort.as_str()),
                        ("q", q),
                        ("limit", "7"),
                        ("offset", &offset.to_string()),
                    ];
                    let (total, page) = keys_of(run_with(&snap, &index, &query(&pairs), 0));
                    assert_eq!(total, whole.0);
                    pages.extend(page);
                }
                assert_eq!(pages, whole.1, "sort={sort} q={q}");
            }
        }
    }
}

#[test]
fn the_index_is_built_once_per_snapshot_and_stays_small() {
    let snap = snapshot(
        (0..1000)
            .map(|i| row(&format!("artist-{:02}/track-{i:04}.mp3", i / 100)))
            .collect(),
    );
    let first = run(&snap, &query(&[("q", "track-0042"), ("sort", "-name")]));
    assert_eq!(first.total, 1);
    let index = snap.index.get().expect("built by the first query");
    let before = index.bytes();
    // Text (11 bytes + newline), start (4), folder id (4), kind bit: ~21 bytes an item.
    assert!(before < 1000 * 32, "{before} bytes");
    let sorted = run(&snap, &query(&[("sort", "-name"), ("offset", "990")]));
    assert_eq!(sorted.items.len(), 10);
    assert_eq!(&*sorted.items[0].key, "artist-00/track-0009.mp3");
    let index = snap.index.get().expect("still there");
    assert!(index.bytes() >= before + 4000, "the name order was added");
}

/// The query engine as it was before the index, the reference: every item folded and
/// checked, the matches sorted with [`compare`]. Slow (seconds at 1,000,000 items) but
/// obviously right.
mod naive {
    use memchr::memmem::Finder;

    use super::super::order::compare;
    use super::super::run::TextMatch;
    use super::super::{Page, Query};
    use crate::catalog::{MediaItem, Snapshot};

    /// The page of `snap` that `query` asks for, item by item.
    pub fn run<'a>(snap: &'a Snapshot, query: &Query) -> Page<'a> {
        let finders = query
            .words
            .iter()
            .map(|w| Finder::new(w.as_bytes()).into_owned())
            .collect();
        let mut text = TextMatch::new(finders);
        let mut matches: Vec<&MediaItem> = Vec::new();
        for item in snap.items.iter() {
            let item: &MediaItem = item;
            if filters(item, query) && text.matches(item) {
                matches.push(item);
            }
        }
        matches.sort_by(|a, b| compare(query.sort, a, b));
        let total = matches.len();
        let start = query.offset.min(total);
        let end = query.offset.saturating_add(query.limit).min(total);
        Page {
            total,
            items: matches[start..end].to_vec(),
            generation: snap.generation,
        }
    }

    /// The cheap filters: kind and folder.
    fn filters(item: &MediaItem, query: &Query) -> bool {
        query.kind.is_none_or(|kind| item.kind == kind)
            && query.folder.as_deref().is_none_or(|f| &*item.folder == f)
            && query
                .under
                .as_deref()
                .is_none_or(|u| is_under(&item.folder, u))
    }

    /// Whether `folder` is `under` or below it (everything is under `""`).
    fn is_under(folder: &str, under: &str) -> bool {
        under.is_empty()
            || folder
                .strip_prefix(under)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}
