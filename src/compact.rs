//! Compact ranges of an RFC 9162 Merkle tree: the perfect subtrees that cover the leaves
//! `[begin, end)`, aligned to their global positions.
//!
//! A compact range takes O(log n) hashes, grows one leaf at a time, and two adjacent ranges merge
//! into one. A range that begins at 0 yields the tree head (RFC 9162 §2.1.1) of its leaves. This is
//! what lets a chain verified in shards, each shard's range kept in its certificate, give the same
//! Merkle root as the chain verified whole.

use crate::merkle::{Hash, node_hash};

/// The largest `end` a range rebuilt with [`CompactRange::from_parts`] may have: 2^63 leaves, far
/// beyond any export, and small enough that no subtree arithmetic overflows.
pub const MAX_END: u64 = 1 << 63;

/// One perfect subtree: `2^level` leaves starting at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// Index of its first leaf.
    pub start: u64,
    /// Height: it covers `2^level` leaves.
    pub level: u32,
    /// Its hash.
    pub hash: Hash,
}

/// The leaves `[begin, end)` as perfect subtrees, left to right.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactRange {
    begin: u64,
    end: u64,
    nodes: Vec<Node>,
}

/// Why two ranges or a node list cannot form a compact range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactError {
    /// The second range does not start where the first ends.
    #[error("ranges are not adjacent: the first ends at {end}, the second begins at {begin}")]
    NotAdjacent {
        /// End of the first.
        end: u64,
        /// Begin of the second.
        begin: u64,
    },
    /// The node list is not the decomposition of its range.
    #[error("the node list is not a compact range of [{begin}, {end})")]
    Malformed {
        /// Claimed begin.
        begin: u64,
        /// Claimed end.
        end: u64,
    },
}

impl CompactRange {
    /// An empty range at `begin`.
    pub fn new(begin: u64) -> Self {
        CompactRange {
            begin,
            end: begin,
            nodes: Vec::new(),
        }
    }

    /// First leaf index.
    pub fn begin(&self) -> u64 {
        self.begin
    }

    /// One past the last leaf index.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The subtrees.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Appends one leaf hash (already `SHA-256(0x00 ‖ data)`).
    pub fn push(&mut self, leaf: Hash) {
        let start = self.end;
        self.end += 1;
        self.push_node(Node {
            start,
            level: 0,
            hash: leaf,
        });
    }

    fn push_node(&mut self, mut node: Node) {
        while let Some(prev) = self.nodes.last() {
            // Two subtrees of 2^63 leaves would make a tree of 2^64: not representable, not merged.
            let Some(width) = 1u64.checked_shl(node.level + 1) else {
                break;
            };
            if prev.level == node.level && prev.start % width == 0 {
                node = Node {
                    start: prev.start,
                    level: node.level + 1,
                    hash: node_hash(&prev.hash, &node.hash),
                };
                self.nodes.pop();
            } else {
                break;
            }
        }
        self.nodes.push(node);
    }

    /// Appends the adjacent range `other` (which must begin where this one ends).
    ///
    /// # Errors
    /// [`CompactError::NotAdjacent`].
    pub fn append(&mut self, other: &CompactRange) -> Result<(), CompactError> {
        if other.begin != self.end {
            return Err(CompactError::NotAdjacent {
                end: self.end,
                begin: other.begin,
            });
        }
        for n in &other.nodes {
            self.push_node(*n);
        }
        self.end = other.end;
        Ok(())
    }

    /// The tree head of leaves `[0, end)`, if this range begins at 0.
    pub fn root(&self) -> Option<Hash> {
        if self.begin != 0 {
            return None;
        }
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else {
            return Some(crate::merkle::empty_root());
        };
        Some(nodes.fold(last.hash, |acc, n| node_hash(&n.hash, &acc)))
    }

    /// Rebuilds a range from its bounds and subtree hashes (left to right), checking that the
    /// hashes are exactly as many as the decomposition of `[begin, end)` needs, and that `end` is
    /// at most [`MAX_END`].
    ///
    /// # Errors
    /// [`CompactError::Malformed`] when the count does not fit.
    pub fn from_parts(begin: u64, end: u64, hashes: &[Hash]) -> Result<Self, CompactError> {
        // The bounds come from certificates: past MAX_END the subtree arithmetic would overflow.
        if begin > end || end > MAX_END {
            return Err(CompactError::Malformed { begin, end });
        }
        let shape = decompose(begin, end);
        if shape.len() != hashes.len() {
            return Err(CompactError::Malformed { begin, end });
        }
        Ok(CompactRange {
            begin,
            end,
            nodes: shape
                .into_iter()
                .zip(hashes)
                .map(|((start, level), hash)| Node {
                    start,
                    level,
                    hash: *hash,
                })
                .collect(),
        })
    }
}

/// The `(start, level)` of the perfect subtrees covering `[begin, end)`, left to right.
fn decompose(begin: u64, end: u64) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    let mut pos = begin;
    while pos < end {
        let mut level = if pos == 0 { 63 } else { pos.trailing_zeros() };
        while level > 0 && (level >= 64 || pos + (1u64 << level) > end) {
            level -= 1;
        }
        out.push((pos, level));
        pos += 1u64 << level;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root};

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn a_range_from_zero_gives_the_tree_head() {
        for n in 0..70 {
            let l = leaves(n);
            let mut r = CompactRange::new(0);
            for h in &l {
                r.push(*h);
            }
            assert_eq!(r.root(), Some(root(&l)), "n = {n}");
            assert_eq!(r.nodes().len() as u32, (n as u64).count_ones());
        }
    }

    #[test]
    fn adjacent_ranges_compose_at_every_split() {
        let l = leaves(37);
        for cut1 in 0..=37usize {
            for cut2 in cut1..=37usize {
                let mut parts: Vec<CompactRange> = Vec::new();
                for (a, b) in [(0, cut1), (cut1, cut2), (cut2, 37)] {
                    let mut r = CompactRange::new(a as u64);
                    for h in &l[a..b] {
                        r.push(*h);
                    }
                    // Round trip through the certificate form.
                    let hashes: Vec<Hash> = r.nodes().iter().map(|n| n.hash).collect();
                    assert_eq!(
                        CompactRange::from_parts(a as u64, b as u64, &hashes).unwrap(),
                        r
                    );
                    parts.push(r);
                }
                let mut whole = parts[0].clone();
                whole.append(&parts[1]).unwrap();
                whole.append(&parts[2]).unwrap();
                assert_eq!(whole.root(), Some(root(&l)), "cuts {cut1} {cut2}");
            }
        }
    }

    #[test]
    fn gaps_and_bad_shapes_are_refused() {
        let mut a = CompactRange::new(0);
        a.push(leaf_hash(b"x"));
        let b = CompactRange::new(2);
        assert!(matches!(
            a.append(&b),
            Err(CompactError::NotAdjacent { .. })
        ));
        assert!(CompactRange::from_parts(0, 3, &[leaf_hash(b"x")]).is_err());
        assert!(CompactRange::from_parts(5, 4, &[]).is_err());
        assert_eq!(CompactRange::new(7).root(), None);
    }

    #[test]
    fn bounds_near_two_to_the_64_are_refused_not_overflowed() {
        // See: fuzz target `merkle`; a certificate's `merkle.begin`/`end` are untrusted numbers.
        let h = [1u8; 32];
        assert!(CompactRange::from_parts(0, u64::MAX, &[h; 64]).is_err());
        assert!(CompactRange::from_parts((1 << 63) + 5, u64::MAX, &[h; 3]).is_err());
        assert!(CompactRange::from_parts(u64::MAX, u64::MAX, &[]).is_err());
        let top = CompactRange::from_parts(0, MAX_END, &[h]).unwrap();
        assert_eq!(top.nodes()[0].level, 63);
        let mut grown = top.clone();
        grown.push(h);
        assert_eq!(grown.end(), MAX_END + 1);
        assert!(grown.root().is_some());
        let odd = CompactRange::from_parts(MAX_END - 3, MAX_END, &[h, h]).unwrap();
        assert_eq!(odd.nodes().len(), 2);
    }
}
