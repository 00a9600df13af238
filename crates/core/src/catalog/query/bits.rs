//! A fixed-size set of small integers as bits (item indices, folder ids, positions in a
//! sorted order): what a search produces and pages walk, at one bit per item (125 KB for
//! 1,000,000 items), with the counting and skipping a page needs done a word at a time.

/// A set of integers below a fixed length.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    /// The empty set of integers below `len`.
    pub fn new(len: usize) -> Bits {
        Bits {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// The length (every member is below it).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Adds `i` (ignored when `i` is not below the length).
    pub fn set(&mut self, i: usize) {
        if let Some(word) = self.words.get_mut(i / 64) {
            if i < self.len {
                *word |= 1 << (i % 64);
            }
        }
    }

    /// Removes `i`.
    pub fn clear(&mut self, i: usize) {
        if let Some(word) = self.words.get_mut(i / 64) {
            *word &= !(1 << (i % 64));
        }
    }

    /// Whether `i` is in the set.
    pub fn get(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// How many integers are in the set.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// The members in increasing order, the first `skip` of them skipped (a word at a time).
    pub fn iter_from(&self, skip: usize) -> impl Iterator<Item = usize> + '_ {
        let mut skip = skip;
        let mut first = self.words.len();
        let mut word = 0;
        for (at, &w) in self.words.iter().enumerate() {
            let ones = w.count_ones() as usize;
            if skip < ones {
                first = at;
                word = w;
                for _ in 0..skip {
                    word &= word - 1;
                }
                break;
            }
            skip -= ones;
        }
        let rest = self.words.get(first + 1..).unwrap_or(&[]);
        let tail = rest
            .iter()
            .enumerate()
            .map(move |(k, &w)| (first + 1 + k, w));
        std::iter::once((first, word))
            .chain(tail)
            .flat_map(|(at, w)| Ones(w).map(move |bit| at * 64 + bit))
    }

    /// The members in decreasing order, the first `skip` of them (the largest) skipped.
    pub fn iter_rev_from(&self, skip: usize) -> impl Iterator<Item = usize> + '_ {
        let mut skip = skip;
        let mut last = None;
        let mut word = 0;
        for (at, &w) in self.words.iter().enumerate().rev() {
            let ones = w.count_ones() as usize;
            if skip < ones {
                last = Some(at);
                word = w;
                for _ in 0..skip {
                    word &= !(1u64 << (63 - word.leading_zeros()));
                }
                break;
            }
            skip -= ones;
        }
        let (head, rest) = match last {
            Some(at) => ((at, word), &self.words[..at]),
            None => ((0, 0), &self.words[..0]),
        };
        std::iter::once(head)
            .chain(rest.iter().copied().enumerate().rev())
            .flat_map(|(at, w)| OnesRev(w).map(move |bit| at * 64 + bit))
    }

    /// The largest member at or below `i`.
    pub fn prev_at_or_below(&self, i: usize) -> Option<usize> {
        let i = i.min(self.len.checked_sub(1)?);
        let mut at = i / 64;
        let mut word = self.words.get(at)? & (u64::MAX >> (63 - i % 64));
        loop {
            if word != 0 {
                return Some(at * 64 + 63 - word.leading_zeros() as usize);
            }
            at = at.checked_sub(1)?;
            word = self.words[at];
        }
    }

    /// Keeps only the members of `other` (of the same length).
    pub fn and(&mut self, other: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

/// The set bits of a word, lowest first.
struct Ones(u64);

impl Iterator for Ones {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let bit = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(bit)
    }
}

/// The set bits of a word, highest first.
struct OnesRev(u64);

impl Iterator for OnesRev {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let bit = 63 - self.0.leading_zeros() as usize;
        self.0 &= !(1u64 << bit);
        Some(bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(len: usize, members: &[usize]) -> Bits {
        let mut bits = Bits::new(len);
        for &i in members {
            bits.set(i);
        }
        bits
    }

    #[test]
    fn iteration_with_skips_table() {
        let sets: &[(usize, &[usize])] = &[
            (0, &[]),
            (1, &[0]),
            (64, &[0, 63]),
            (65, &[64]),
            (200, &[0, 1, 63, 64, 65, 127, 128, 199]),
            (300, &[5, 130, 131, 299]),
            (128, &[]),
        ];
        for &(len, members) in sets {
            let bits = of(len, members);
            assert_eq!(bits.count(), members.len());
            assert_eq!(bits.is_empty(), members.is_empty());
            for skip in 0..=members.len() + 2 {
                let want: Vec<usize> = members.iter().copied().skip(skip).collect();
                assert_eq!(
                    bits.iter_from(skip).collect::<Vec<_>>(),
                    want,
                    "{len} {skip}"
                );
                let want: Vec<usize> = members.iter().rev().copied().skip(skip).collect();
                let got: Vec<usize> = bits.iter_rev_from(skip).collect();
                assert_eq!(got, want, "rev {len} {skip}");
            }
            for i in 0..len + 3 {
                assert_eq!(bits.get(i), members.contains(&i));
                let want = members.iter().rev().copied().find(|&m| m <= i);
                assert_eq!(bits.prev_at_or_below(i), want, "prev {len} {i}");
            }
        }
    }

    #[test]
    fn set_clear_and() {
        let mut bits = of(70, &[1, 2, 69]);
        bits.set(70);
        bits.set(1000);
        assert_eq!(bits.count(), 3, "out of range ignored");
        bits.clear(2);
        bits.clear(5000);
        assert_eq!(bits.iter_from(0).collect::<Vec<_>>(), [1, 69]);
        bits.and(&of(70, &[69, 3]));
        assert_eq!(bits.iter_from(0).collect::<Vec<_>>(), [69]);
        assert_eq!(bits.len(), 70);
    }
}
