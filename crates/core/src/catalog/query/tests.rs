//! Table tests of the query engine over a small snapshot: filters, search with accents,
//! every sort in both directions, paging that adds up to the whole sorted list.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::catalog::item::from_object;
use crate::catalog::{ItemMeta, Snapshot};
use crate::source::ObjectMeta;

/// (key, size, modified s, title, artist, album, duration ms)
type Row = (
    &'static str,
    u64,
    Option<u64>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<u64>,
);

const ROWS: &[Row] = &[
    (
        "Pop/Beyoncé - Halo.mp3",
        30,
        Some(5),
        Some("Halo"),
        Some("Beyoncé"),
        Some("I Am"),
        Some(261_000),
    ),
    (
        "Pop/live/Beyonce Live.mp4",
        900,
        Some(9),
        None,
        None,
        None,
        Some(3_600_000),
    ),
    (
        "ÉCOLE/leçon 1.ogg",
        12,
        None,
        Some("Leçon un"),
        Some("Prof"),
        None,
        None,
    ),
    (
        "Кино/Группа крови.mp3",
        40,
        Some(2),
        Some("Группа крови"),
        Some("Кино"),
        Some("Группа крови"),
        Some(285_000),
    ),
    (
        "坂本龍一/Merry Christmas.flac",
        50,
        Some(7),
        Some("戦場のメリークリスマス"),
        Some("坂本龍一"),
        None,
        Some(300_000),
    ),
    ("a.mp4", 7, Some(1), None, None, None, None),
    (
        "Pop/zebra.mp3",
        30,
        Some(3),
        Some("zebra"),
        Some("beyoncé"),
        Some("B"),
        Some(1_000),
    ),
];

/// Query string pairs.
type Pairs<'a> = &'a [(&'a str, &'a str)];

fn snapshot() -> Snapshot {
    let items = ROWS
        .iter()
        .map(|&(key, size, modified, title, artist, album, duration)| {
            let obj = ObjectMeta {
                key: key.into(),
                size,
                etag: None,
                last_modified: modified.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            };
            let mut item = from_object("test", "", &obj).expect("media");
            item.meta = Arc::new(ItemMeta {
                title: title.map(Into::into),
                artist: artist.map(Into::into),
                album: album.map(Into::into),
                duration_ms: duration,
                ..ItemMeta::default()
            });
            Arc::new(item)
        })
        .collect();
    Snapshot::new(items, Arc::default(), 3, None)
}

fn keys(snap: &Snapshot, pairs: &[(&str, &str)]) -> (usize, Vec<String>) {
    let query = parse(pairs).expect("valid").expect("a page");
    let page = run(snap, &query);
    assert_eq!(page.generation, 3);
    (
        page.total,
        page.items.iter().map(|i| i.key.clone()).collect(),
    )
}

#[test]
fn search_and_filters_table() {
    let snap = snapshot();
    let cases: &[(Pairs, &[&str])] = &[
        (
            &[("q", "beyonce")],
            &[
                "Pop/Beyoncé - Halo.mp3",
                "Pop/live/Beyonce Live.mp4",
                "Pop/zebra.mp3",
            ],
        ),
        (&[("q", "BEYONCÉ halo")], &["Pop/Beyoncé - Halo.mp3"]),
        (&[("q", "ecole")], &["ÉCOLE/leçon 1.ogg"]),
        (&[("q", "lecon")], &["ÉCOLE/leçon 1.ogg"]),
        (&[("q", "КРОВИ")], &["Кино/Группа крови.mp3"]),
        (&[("q", "кино")], &["Кино/Группа крови.mp3"]),
        (&[("q", "龍一")], &["坂本龍一/Merry Christmas.flac"]),
        (&[("q", "メリー")], &["坂本龍一/Merry Christmas.flac"]),
        (&[("q", "i am")], &["Pop/Beyoncé - Halo.mp3"]),
        // Words do not span fields: "halo" is the title, "i" the album, but "halo i" is not text.
        (&[("q", "haloi")], &[]),
        (&[("q", "nothing")], &[]),
        (
            &[("kind", "video")],
            &["Pop/live/Beyonce Live.mp4", "a.mp4"],
        ),
        (
            &[("folder", "Pop")],
            &["Pop/Beyoncé - Halo.mp3", "Pop/zebra.mp3"],
        ),
        (&[("folder", "")], &["a.mp4"]),
        (&[("folder", "Po")], &[]),
        (
            &[("under", "Pop")],
            &[
                "Pop/Beyoncé - Halo.mp3",
                "Pop/live/Beyonce Live.mp4",
                "Pop/zebra.mp3",
            ],
        ),
        (&[("under", "/Pop/live/")], &["Pop/live/Beyonce Live.mp4"]),
        (&[("under", "Po")], &[]),
        (
            &[("under", "Pop"), ("kind", "audio"), ("q", "beyonce")],
            &["Pop/Beyoncé - Halo.mp3", "Pop/zebra.mp3"],
        ),
    ];
    for (pairs, want) in cases {
        let (total, got) = keys(&snap, pairs);
        assert_eq!(got, *want, "{pairs:?}");
        assert_eq!(total, want.len(), "{pairs:?}");
    }
    assert_eq!(keys(&snap, &[("under", "")]).0, ROWS.len());
}

#[test]
fn sorts_table() {
    let snap = snapshot();
    let cases: &[(&str, &[&str])] = &[
        (
            "key",
            &[
                "Pop/Beyoncé - Halo.mp3",
                "Pop/live/Beyonce Live.mp4",
                "Pop/zebra.mp3",
                "a.mp4",
                "ÉCOLE/leçon 1.ogg",
                "Кино/Группа крови.mp3",
                "坂本龍一/Merry Christmas.flac",
            ],
        ),
        (
            "size",
            &[
                "a.mp4",
                "ÉCOLE/leçon 1.ogg",
                "Pop/Beyoncé - Halo.mp3",
                "Pop/zebra.mp3",
                "Кино/Группа крови.mp3",
                "坂本龍一/Merry Christmas.flac",
                "Pop/live/Beyonce Live.mp4",
            ],
        ),
        (
            "-size",
            &[
                "Pop/live/Beyonce Live.mp4",
                "坂本龍一/Merry Christmas.flac",
                "Кино/Группа крови.mp3",
                "Pop/Beyoncé - Halo.mp3",
                "Pop/zebra.mp3",
                "ÉCOLE/leçon 1.ogg",
                "a.mp4",
            ],
        ),
        (
            "modified",
            &[
                "a.mp4",
                "Кино/Группа крови.mp3",
                "Pop/zebra.mp3",
                "Pop/Beyoncé - Halo.mp3",
                "坂本龍一/Merry Christmas.flac",
                "Pop/live/Beyonce Live.mp4",
                "ÉCOLE/leçon 1.ogg",
            ],
        ),
        (
            "-modified",
            &[
                "Pop/live/Beyonce Live.mp4",
                "坂本龍一/Merry Christmas.flac",
                "Pop/Beyoncé - Halo.mp3",
                "Pop/zebra.mp3",
                "Кино/Группа крови.mp3",
                "a.mp4",
                "ÉCOLE/leçon 1.ogg",
            ],
        ),
        (
            "duration",
            &[
                "Pop/zebra.mp3",
                "Pop/Beyoncé - Halo.mp3",
                "Кино/Группа крови.mp3",
                "坂本龍一/Merry Christmas.flac",
                "Pop/live/Beyonce Live.mp4",
                "a.mp4",
                "ÉCOLE/leçon 1.ogg",
            ],
        ),
        (
            "artist",
            &[
                "Pop/Beyoncé - Halo.mp3",
                "Pop/zebra.mp3",
                "ÉCOLE/leçon 1.ogg",
                "Кино/Группа крови.mp3",
                "坂本龍一/Merry Christmas.flac",
                "Pop/live/Beyonce Live.mp4",
                "a.mp4",
            ],
        ),
        (
            "-artist",
            &[
                "坂本龍一/Merry Christmas.flac",
                "Кино/Группа крови.mp3",
                "ÉCOLE/leçon 1.ogg",
                // Beyoncé and beyoncé tie: by key, ascending.
                "Pop/Beyoncé - Halo.mp3",
                "Pop/zebra.mp3",
                "Pop/live/Beyonce Live.mp4",
                "a.mp4",
            ],
        ),
        (
            "album",
            &[
                "Pop/zebra.mp3",
                "Pop/Beyoncé - Halo.mp3",
                "Кино/Группа крови.mp3",
                // No album: last, by key.
                "Pop/live/Beyonce Live.mp4",
                "a.mp4",
                "ÉCOLE/leçon 1.ogg",
                "坂本龍一/Merry Christmas.flac",
            ],
        ),
        (
            "name",
            &[
                "a.mp4",
                "Pop/live/Beyonce Live.mp4",
                "Pop/Beyoncé - Halo.mp3",
                "ÉCOLE/leçon 1.ogg",
                "坂本龍一/Merry Christmas.flac",
                "Pop/zebra.mp3",
                "Кино/Группа крови.mp3",
            ],
        ),
        (
            "title",
            &[
                "a.mp4",
                "Pop/live/Beyonce Live.mp4",
                "Pop/Beyoncé - Halo.mp3",
                "ÉCOLE/leçon 1.ogg",
                "Pop/zebra.mp3",
                "Кино/Группа крови.mp3",
                "坂本龍一/Merry Christmas.flac",
            ],
        ),
    ];
    for (sort, want) in cases {
        let (total, got) = keys(&snap, &[("sort", sort)]);
        assert_eq!(got, *want, "sort={sort}");
        assert_eq!(total, ROWS.len());
    }
}

#[test]
fn pages_add_up_to_the_whole_sorted_list_for_every_sort() {
    let snap = snapshot();
    for (name, _) in SortField::NAMES {
        for sort in [name.to_owned(), format!("-{name}")] {
            let (_, whole) = keys(&snap, &[("sort", &sort), ("limit", "1000")]);
            assert_eq!(whole.len(), ROWS.len());
            for limit in 1..=ROWS.len() + 1 {
                let mut pages = Vec::new();
                for offset in (0..ROWS.len() + 2).step_by(limit) {
                    let (total, page) = keys(
                        &snap,
                        &[
                            ("sort", &sort),
                            ("limit", &limit.to_string()),
                            ("offset", &offset.to_string()),
                        ],
                    );
                    assert_eq!(total, ROWS.len());
                    assert!(page.len() <= limit);
                    pages.extend(page);
                }
                assert_eq!(pages, whole, "sort={sort} limit={limit}");
            }
        }
    }
    let (total, page) = keys(&snap, &[("offset", "999999999999")]);
    assert_eq!((total, page.len()), (ROWS.len(), 0));
}

#[test]
fn a_page_serialises_as_total_items_generation() {
    let snap = snapshot();
    let page = run(
        &snap,
        &Query {
            limit: 1,
            ..Query::default()
        },
    );
    let json = serde_json::to_value(&page).expect("json");
    assert_eq!(json["total"], ROWS.len());
    assert_eq!(json["generation"], 3);
    let whole: serde_json::Value = serde_json::from_slice(&snap.to_json()).expect("list");
    assert_eq!(json["items"][0], whole[0], "items as in the whole list");
}
