//! The Merkle trees of asqav's ComplianceBundle (`shared/formats/asqav.md` §9.4) and AGT's audit
//! export (`shared/formats/agt.md` §3.5): leaves and nodes are lowercase hex strings, and a node
//! is SHA-256 of its children's hex digits as ASCII. The two differ only at the right edge of the
//! tree ([`Edge`]).
//!
//! [`HexTree`] computes the root as the leaves arrive, holding one node per level (a binary
//! counter of complete subtrees), so a bundle of millions of entries needs no list of leaves.

use sha2::{Digest as _, Sha256};

use crate::hexdigits;

/// The literal that stands for an empty subtree in AGT's tree.
const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How a level with no right sibling for its last node is completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// AGT: the tree spans the next power of two of the leaves; a missing subtree of any height
    /// is the literal 64 zeros. One leaf is the root; no leaf, no root.
    PadZeros,
    /// asqav: a level of odd length repeats its last node. One leaf is the root; no leaf, SHA-256
    /// of nothing.
    DuplicateLast,
}

/// A hex Merkle root built leaf by leaf.
#[derive(Debug, Default)]
pub struct HexTree {
    /// `levels[h]`: the complete subtree of 2^h leaves waiting for its right sibling.
    levels: Vec<Option<String>>,
    leaves: u64,
}

/// A node over two hex children.
pub fn node(left: &str, right: &str) -> String {
    let mut h = Sha256::new();
    h.update(left.as_bytes());
    h.update(right.as_bytes());
    hexdigits::encode(&h.finalize())
}

impl HexTree {
    /// Appends the next leaf (its hex digits).
    pub fn push(&mut self, leaf: String) {
        let mut carry = leaf;
        let mut height = 0;
        loop {
            if height == self.levels.len() {
                self.levels.push(None);
            }
            match self.levels[height].take() {
                Some(left) => {
                    carry = node(&left, &carry);
                    height += 1;
                }
                None => {
                    self.levels[height] = Some(carry);
                    break;
                }
            }
        }
        self.leaves += 1;
    }

    /// The leaves pushed so far.
    pub fn len(&self) -> u64 {
        self.leaves
    }

    /// Whether no leaf was pushed.
    pub fn is_empty(&self) -> bool {
        self.leaves == 0
    }

    /// The root over the leaves pushed, completing the right edge by `edge`.
    pub fn root(mut self, edge: Edge) -> Option<String> {
        if self.leaves == 0 {
            return match edge {
                Edge::PadZeros => None,
                Edge::DuplicateLast => Some(hexdigits::encode(&Sha256::digest(b""))),
            };
        }
        // Fold from the lowest level up: `acc` is the rightmost node of the current height.
        let top = self.levels.iter().rposition(Option::is_some)?;
        let mut acc: Option<String> = None;
        for (height, slot) in self.levels.iter_mut().enumerate().take(top + 1) {
            acc = match (slot.take(), acc.take()) {
                (Some(left), Some(right)) => Some(node(&left, &right)),
                (Some(only), None) if height == top => Some(only),
                (Some(last), None) | (None, Some(last)) => Some(match edge {
                    Edge::PadZeros => node(&last, ZERO),
                    Edge::DuplicateLast => node(&last, &last),
                }),
                (None, None) => None,
            };
        }
        acc
    }
}

/// The root over `leaves` (see [`HexTree`]).
pub fn root<'a>(leaves: impl IntoIterator<Item = &'a str>, edge: Edge) -> Option<String> {
    let mut tree = HexTree::default();
    for leaf in leaves {
        tree.push(leaf.to_owned());
    }
    tree.root(edge)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AGT's definition, recursively over the next power of two.
    fn padded(leaves: &[String]) -> Option<String> {
        fn sub(leaves: &[String], lo: usize, size: usize) -> String {
            if lo >= leaves.len() {
                return ZERO.to_string();
            }
            if size == 1 {
                return leaves[lo].clone();
            }
            let half = size / 2;
            node(&sub(leaves, lo, half), &sub(leaves, lo + half, half))
        }
        match leaves.len() {
            0 => None,
            1 => leaves.first().cloned(),
            n => Some(sub(leaves, 0, n.next_power_of_two())),
        }
    }

    /// asqav's definition, level by level.
    fn duplicated(leaves: &[String]) -> String {
        if leaves.is_empty() {
            return hexdigits::encode(&Sha256::digest(b""));
        }
        let mut level = leaves.to_vec();
        while level.len() > 1 {
            if level.len() % 2 == 1 {
                let last = level[level.len() - 1].clone();
                level.push(last);
            }
            level = level.chunks(2).map(|p| node(&p[0], &p[1])).collect();
        }
        level.remove(0)
    }

    #[test]
    fn the_streamed_roots_equal_the_definitions_for_every_size_up_to_300() {
        let leaves: Vec<String> = (0u32..300)
            .map(|i| hexdigits::encode(&Sha256::digest(i.to_be_bytes())))
            .collect();
        for n in 0..=leaves.len() {
            let some = &leaves[..n];
            let each = || some.iter().map(String::as_str);
            assert_eq!(
                root(each(), Edge::PadZeros),
                padded(some),
                "padded, {n} leaves"
            );
            assert_eq!(
                root(each(), Edge::DuplicateLast),
                Some(duplicated(some)),
                "duplicated, {n} leaves"
            );
        }
    }

    #[test]
    fn the_edges_differ_only_where_a_level_is_odd() {
        let leaf = |c: char| c.to_string().repeat(64);
        let (a, b, c) = (leaf('a'), leaf('b'), leaf('c'));
        let three = [a.as_str(), b.as_str(), c.as_str()];
        assert_eq!(
            root(three, Edge::PadZeros),
            Some(node(&node(&a, &b), &node(&c, ZERO)))
        );
        assert_eq!(
            root(three, Edge::DuplicateLast),
            Some(node(&node(&a, &b), &node(&c, &c)))
        );
        assert_eq!(
            root([a.as_str(), b.as_str()], Edge::PadZeros),
            root([a.as_str(), b.as_str()], Edge::DuplicateLast)
        );
        assert_eq!(root([a.as_str()], Edge::PadZeros), Some(a.clone()));
        assert_eq!(root([], Edge::PadZeros), None);
    }
}
