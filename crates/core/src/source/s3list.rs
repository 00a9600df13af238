//! Listing a large bucket with bounded parallelism: ListObjectsV2 pages fanned out over the
//! prefixes a `/` delimiter finds, at most N requests in flight.
//!
//! A sequential walk costs one round trip per 1,000 keys, one after the other. Here the unit of
//! work is one page of one prefix: a *delimited* page (Delimiter=`/`) yields the objects
//! directly under its prefix and the sub-prefixes ("folders") below it; each sub-prefix becomes
//! a new job, and a page's continuation token becomes the next job of the same prefix. Pages of
//! different prefixes run side by side, at most `concurrency` at once.
//!
//! **Where the delimiter stops.** Every delimited level costs at least one request per folder,
//! so descending to the leaves of an `Artist/Album/track` library would make one request per
//! album (a few tracks each) where a flat page carries 1,000 keys. So the walk descends with the
//! delimiter only while it has not yet found enough folders to keep every slot busy
//! ([`child_mode`]: fewer than `WIDTH_PER_SLOT × concurrency` prefixes seen, and at most
//! [`MAX_DELIMITED_DEPTH`] levels), and lists every prefix found after that *flat* (no
//! delimiter: all keys below it, 1,000 a page). A wide bucket thus turns into one flat walk per
//! top-level folder; a bucket with one or two top folders gets split one or two levels deeper;
//! a bucket with every key at its top level stays one sequential walk (nothing to split on).
//!
//! **Same result as the sequential walk.** The sub-prefixes of a delimited listing of `P` are
//! disjoint and, with the objects directly under `P`, cover exactly the keys under `P`, whatever
//! the keys look like (`/` first, `//`, trailing `/`, unicode: S3 splits on the first `/` after
//! `P`, byte for byte). The union is then sorted by key in byte order, which is S3's order.
//! Folder markers (keys ending in `/`) are skipped as in the sequential walk. The first page
//! that fails fails the whole listing (the in-flight ones are dropped): no partial library.

use std::collections::VecDeque;
use std::time::SystemTime;

use aws_sdk_s3::types::Object;
use futures_util::stream::{FuturesUnordered, StreamExt};

use super::s3::{classify, S3Source};
use super::ObjectMeta;
use crate::error::Result;

/// Requests in flight while listing (the SDK's connection pool is shared with playback).
pub const LIST_CONCURRENCY: usize = 8;

/// The delimiter that splits keys into folders.
const DELIMITER: &str = "/";

/// How many prefixes per slot the walk wants before it stops descending with the delimiter.
const WIDTH_PER_SLOT: usize = 4;

/// The deepest level listed with the delimiter (the configured prefix is level 0).
pub const MAX_DELIMITED_DEPTH: usize = 2;

/// How one prefix is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// With Delimiter=`/`: the objects directly under the prefix, and its sub-prefixes.
    Delimited,
    /// Without a delimiter: every key below the prefix.
    Flat,
}

/// How a sub-prefix found at `depth` (the configured prefix being 0) is listed, given how many
/// prefixes the walk has found so far and how many requests it may have in flight.
pub fn child_mode(depth: usize, prefixes_seen: usize, concurrency: usize) -> Mode {
    let wanted = WIDTH_PER_SLOT.saturating_mul(concurrency.max(1));
    if depth <= MAX_DELIMITED_DEPTH && prefixes_seen < wanted {
        Mode::Delimited
    } else {
        Mode::Flat
    }
}

/// One page to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Job {
    /// The prefix listed.
    prefix: String,
    /// With or without the delimiter.
    mode: Mode,
    /// The prefix's level below the configured prefix (0: the configured prefix itself).
    depth: usize,
    /// The continuation token of this page (`None`: the first page).
    token: Option<String>,
}

/// What one page brought back.
struct Page {
    /// Its objects, folder markers already skipped.
    objects: Vec<ObjectMeta>,
    /// Sub-prefixes (delimited pages only).
    prefixes: Vec<String>,
    /// The token of the next page of the same prefix.
    next: Option<String>,
}

/// Converts a listed object, or `None` for a folder marker or a keyless entry.
fn meta(obj: &Object) -> Option<ObjectMeta> {
    let key = obj.key()?;
    if key.ends_with('/') {
        return None; // folder marker
    }
    Some(ObjectMeta {
        key: key.to_owned(),
        size: obj.size().unwrap_or(0).max(0) as u64,
        etag: obj.e_tag().map(str::to_owned),
        last_modified: obj
            .last_modified()
            .and_then(|t| SystemTime::try_from(*t).ok()),
    })
}

/// Sorts a listing into S3's order (keys by byte) and drops a key listed twice, keeping its
/// first occurrence (a page retried by the SDK cannot duplicate a key, but the union of jobs
/// must not either).
pub fn into_key_order(mut objects: Vec<ObjectMeta>) -> Vec<ObjectMeta> {
    objects.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    objects.dedup_by(|b, a| a.key == b.key);
    objects
}

impl S3Source {
    /// Lists every object under the prefix, sorted by key, with at most [`LIST_CONCURRENCY`]
    /// ListObjectsV2 requests in flight (see the module documentation).
    pub async fn list(&self) -> Result<Vec<ObjectMeta>> {
        self.list_parallel(LIST_CONCURRENCY).await
    }

    /// [`S3Source::list`] with at most `concurrency` requests in flight (at least 1).
    pub async fn list_parallel(&self, concurrency: usize) -> Result<Vec<ObjectMeta>> {
        let concurrency = concurrency.max(1);
        let mut queue = VecDeque::from([Job {
            prefix: self.prefix().to_owned(),
            mode: Mode::Delimited,
            depth: 0,
            token: None,
        }]);
        let mut prefixes_seen = 0usize;
        let mut out = Vec::new();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < concurrency {
                let Some(job) = queue.pop_front() else { break };
                running.push(async move {
                    let page = self.page(&job).await;
                    (job, page)
                });
            }
            let Some((job, page)) = running.next().await else {
                break; // nothing queued, nothing running: done
            };
            let page = page?;
            out.extend(page.objects);
            if let Some(token) = page.next {
                queue.push_back(Job {
                    token: Some(token),
                    ..job.clone()
                });
            }
            for prefix in page.prefixes {
                prefixes_seen += 1;
                queue.push_back(Job {
                    prefix,
                    mode: child_mode(job.depth + 1, prefixes_seen, concurrency),
                    depth: job.depth + 1,
                    token: None,
                });
            }
        }
        Ok(into_key_order(out))
    }

    /// Fetches one page.
    async fn page(&self, job: &Job) -> Result<Page> {
        let mut req = self
            .client()
            .list_objects_v2()
            .bucket(self.bucket())
            .prefix(&job.prefix);
        if job.mode == Mode::Delimited {
            req = req.delimiter(DELIMITER);
        }
        if let Some(token) = &job.token {
            req = req.continuation_token(token);
        }
        let out = req.send().await.map_err(|e| classify(e, self.bucket()))?;
        let next = match out.is_truncated() {
            Some(true) => out.next_continuation_token().map(str::to_owned),
            _ => None,
        };
        Ok(Page {
            objects: out.contents().iter().filter_map(meta).collect(),
            prefixes: out
                .common_prefixes()
                .iter()
                .filter_map(|p| p.prefix())
                // A store that echoed the listed prefix itself would loop forever.
                .filter(|p| *p != job.prefix)
                .map(str::to_owned)
                .collect(),
            next,
        })
    }

    /// The sequential ListObjectsV2 walk (one page after the other, no delimiter), the
    /// reference [`S3Source::list`] is tested and measured against.
    pub async fn list_sequential(&self) -> Result<Vec<ObjectMeta>> {
        let mut out = Vec::new();
        let mut pages = self
            .client()
            .list_objects_v2()
            .bucket(self.bucket())
            .prefix(self.prefix())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(e, self.bucket()))?;
            out.extend(page.contents().iter().filter_map(meta));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_mode_descends_until_wide_or_deep() {
        // (depth, prefixes seen, concurrency, expected)
        let table = [
            (1, 1, 8, Mode::Delimited),          // one top folder: split it
            (1, 31, 8, Mode::Delimited),         // still fewer than 4 per slot
            (1, 32, 8, Mode::Flat),              // wide enough: flat below
            (1, 500, 8, Mode::Flat),             // a wide bucket: one flat walk per folder
            (2, 5, 8, Mode::Delimited),          // narrow at level 1: one more level, the deepest
            (3, 5, 8, Mode::Flat),               // never deeper than MAX_DELIMITED_DEPTH
            (1, 3, 1, Mode::Delimited),          // one slot wants 4 prefixes
            (1, 4, 1, Mode::Flat),               //
            (1, 0, 0, Mode::Delimited),          // concurrency 0 counts as 1
            (1, 0, usize::MAX, Mode::Delimited), // no overflow
        ];
        for (depth, seen, conc, want) in table {
            assert_eq!(
                child_mode(depth, seen, conc),
                want,
                "depth {depth}, seen {seen}, concurrency {conc}"
            );
        }
    }

    fn obj(key: &str, size: u64) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size,
            etag: None,
            last_modified: None,
        }
    }

    #[test]
    fn key_order_is_bytewise_and_deduplicated() {
        let got = into_key_order(vec![
            obj("b", 1),
            obj("a/é", 2),
            obj("a/z", 3),
            obj("/x", 4),
            obj("a//y", 5),
            obj("A", 6),
            obj("a/z", 7),
            obj("a/\u{1F600}", 8),
        ]);
        let keys: Vec<&str> = got.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            keys,
            ["/x", "A", "a//y", "a/z", "a/é", "a/\u{1F600}", "b"],
            "byte order: '/' < 'A' < 'a', ASCII before multi-byte UTF-8"
        );
        assert_eq!(got[3].size, 3, "the first of two equal keys is kept");
    }

    #[test]
    fn folder_markers_are_skipped() {
        let marker = Object::builder().key("a/").size(0).build();
        let file = Object::builder().key("a/b").size(7).e_tag("\"e\"").build();
        let keyless = Object::builder().size(1).build();
        assert_eq!(meta(&marker), None);
        assert_eq!(meta(&keyless), None);
        let got = meta(&file);
        assert_eq!(got.as_ref().map(|m| m.size), Some(7));
        assert_eq!(got.and_then(|m| m.etag), Some("\"e\"".into()));
    }
}
