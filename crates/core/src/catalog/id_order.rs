//! The snapshot's id index: the items' positions in the order of their ids, so `/media/{id}`
//! finds an item by binary search. Built at every new listing and at start, where it is on the
//! path to serving: a radix sort on the ids' first 32 bits (two passes of 16 bits over
//! 8-byte pairs), then the rare ties (about a hundred pairs at 1,000,000 items) ordered on the
//! whole id. A comparison sort of the same pairs took 150–175 ms at 1,000,000 items.

use std::sync::Arc;

use super::item::ItemId;
use super::MediaItem;

/// The indices of `items` in the order of their ids.
pub(super) fn id_order(items: &[Arc<MediaItem>]) -> Vec<u32> {
    let ids: Vec<&ItemId> = items.iter().map(|item| &item.id).collect();
    order_of(&ids)
}

/// The indices of `ids` in their order (indices past `u32::MAX` are left out: a snapshot
/// never holds that many items).
fn order_of(ids: &[&ItemId]) -> Vec<u32> {
    let keyed: Vec<(u32, u32)> = ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| Some((prefix(id), u32::try_from(i).ok()?)))
        .collect();
    let mut keyed = radix_sort(keyed);
    // Equal prefixes: ordered on the whole id (runs of two or three at most, in practice).
    let mut start = 0;
    while start < keyed.len() {
        let key = keyed[start].0;
        let end = start + keyed[start..].iter().take_while(|e| e.0 == key).count();
        if end - start > 1 {
            keyed[start..end].sort_unstable_by(|a, b| ids[a.1 as usize].cmp(ids[b.1 as usize]));
        }
        start = end;
    }
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The id's first 8 hex digits as a number: ordered as the ids are (lowercase hex digits
/// sort as their values). Ids are always 32 lowercase hex digits; anything else maps to a
/// value that still orders consistently with the bytes (`as_bytes` compared as a tie-break).
fn prefix(id: &ItemId) -> u32 {
    id.as_bytes()[..8].iter().fold(0u32, |acc, &c| {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => 0,
        };
        (acc << 4) | u32::from(digit)
    })
}

/// `pairs` sorted by their first element (stable: equal keys keep their order).
fn radix_sort(mut pairs: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    let mut out = vec![(0u32, 0u32); pairs.len()];
    for shift in [0u32, 16] {
        let bucket = |key: u32| ((key >> shift) & 0xffff) as usize;
        let mut starts = vec![0usize; 1 << 16];
        for &(key, _) in &pairs {
            starts[bucket(key)] += 1;
        }
        let mut sum = 0;
        for count in starts.iter_mut() {
            let n = *count;
            *count = sum;
            sum += n;
        }
        for &pair in &pairs {
            let slot = &mut starts[bucket(pair.0)];
            out[*slot] = pair;
            *slot += 1;
        }
        std::mem::swap(&mut pairs, &mut out);
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ItemId {
        ItemId::parse(text).expect("an id")
    }

    /// The order a plain sort of the ids gives.
    fn reference(ids: &[&ItemId]) -> Vec<u32> {
        let mut order: Vec<u32> = (0..ids.len() as u32).collect();
        order.sort_by(|&a, &b| ids[a as usize].cmp(ids[b as usize]));
        order
    }

    #[test]
    fn ids_are_ordered_as_a_plain_sort_orders_them() {
        // Digests of many keys, and ids that share their first 8 or 16 digits (ties).
        let mut owned: Vec<ItemId> = (0..20_000u32)
            .map(|i| {
                let mut bytes = [0u8; 16];
                let h = i.wrapping_mul(2_654_435_761).to_be_bytes();
                bytes[..4].copy_from_slice(&h);
                bytes[12..].copy_from_slice(&i.to_le_bytes());
                ItemId::from_bytes(&bytes)
            })
            .collect();
        owned.extend([
            id("0000000000000000000000000000000f"),
            id("00000000000000000000000000000000"),
            id("ffffffffffffffffffffffffffffffff"),
            id("ffffffff000000000000000000000000"),
            id("ffffffff00000000000000000000000a"),
            id("9fffffffffffffffffffffffffffffff"),
            id("a0000000000000000000000000000000"),
        ]);
        let ids: Vec<&ItemId> = owned.iter().collect();
        assert_eq!(order_of(&ids), reference(&ids));
    }

    #[test]
    fn small_and_empty_lists() {
        assert!(order_of(&[]).is_empty());
        let one = id("abcdef0123456789abcdef0123456789");
        assert_eq!(order_of(&[&one]), vec![0]);
        let (a, b) = (
            id("10000000000000000000000000000002"),
            id("10000000000000000000000000000001"),
        );
        assert_eq!(order_of(&[&a, &b]), vec![1, 0]);
    }

    #[test]
    fn the_prefix_orders_as_the_digits() {
        let p = |s: &str| prefix(&id(s));
        assert_eq!(p("00000000000000000000000000000000"), 0);
        assert_eq!(p("0000000a000000000000000000000000"), 10);
        assert_eq!(p("ffffffff000000000000000000000000"), u32::MAX);
        assert!(p("90000000000000000000000000000000") < p("a0000000000000000000000000000000"));
    }
}
