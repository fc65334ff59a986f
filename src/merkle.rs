//! RFC 9162 §2.1 (equivalently RFC 6962 §2.1) Merkle trees over SHA-256: leaf hashes
//! `SHA-256(0x00 ‖ data)`, node hashes `SHA-256(0x01 ‖ left ‖ right)`, the tree head of `n` leaves
//! with the RFC's split (`k` = the largest power of two below `n`), a streaming [`Frontier`] that
//! computes the head in O(log n) memory as leaves are appended in order, inclusion proof
//! verification (§2.1.3.2) and consistency proof verification (§2.1.4.2), and proof generation
//! (§2.1.3.1, §2.1.4.1) for tests and tools.
//!
//! Every hash must be exactly 32 bytes and a proof must have exactly the length the tree shape
//! implies; anything else is an error, never a guess. A consistency proof from the empty tree is
//! an error (it proves nothing), as in the transparency-dev test vectors.

use sha2::{Digest as _, Sha256};

/// A SHA-256 tree hash.
pub type Hash = [u8; 32];

/// Length of every hash in the tree.
pub const HASH_LEN: usize = 32;

/// Which side of the running hash a proof element sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The sibling is the left child: `node(sibling, running)`.
    Left,
    /// The sibling is the right child: `node(running, sibling)`.
    Right,
}

impl Side {
    /// `left` or `right`, as AAT `batch` proofs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// A hash is not 32 bytes.
    #[error("{what} is {len} bytes, not 32")]
    HashLength {
        /// Which hash (`leaf hash`, `root`, `proof element 2`, …).
        what: String,
        /// Its length.
        len: usize,
    },
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof has the wrong number of elements for the tree shape.
    #[error("proof has {found} element(s), the tree shape needs {expected}")]
    ProofLength {
        /// Elements the shape requires.
        expected: usize,
        /// Elements given.
        found: usize,
    },
    /// A consistency proof from the empty tree (it proves nothing).
    #[error("consistency proof from an empty tree")]
    EmptyFirstTree,
    /// The second tree is smaller than the first.
    #[error("tree size {size1} is larger than tree size {size2}")]
    SizesDecrease {
        /// The first size.
        size1: u64,
        /// The second size.
        size2: u64,
    },
    /// The proof leads to another root.
    #[error("proof leads to {computed}, not to the expected root {expected}")]
    RootMismatch {
        /// The root the caller expected (hex).
        expected: String,
        /// The root the proof leads to (hex).
        computed: String,
    },
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The leaf hash of `data`: `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// The interior node hash: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (`n ≥ 2`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The tree head (MTH) over leaf hashes, by the RFC's recursive definition.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The tree head computed as leaves are appended in order, holding only the roots of the perfect
/// subtrees the size decomposes into (one per set bit: O(log n) memory).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of perfect subtrees, largest (leftmost) first.
    stack: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Frontier::default()
    }

    /// Leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut s = self.size;
        // Each trailing set bit of the old size is a perfect subtree of equal height: merge.
        while s & 1 == 1 {
            match self.stack.pop() {
                Some(left) => h = node_hash(&left, &h),
                None => break,
            }
            s >>= 1;
        }
        self.stack.push(h);
        self.size += 1;
    }

    /// The tree head of the leaves appended so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.stack.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        // Perfect subtrees in decreasing size: root = node(s0, node(s1, … node(s_{k-1}, s_k))).
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

fn to_hash(bytes: &[u8], what: impl FnOnce() -> String) -> Result<Hash, MerkleError> {
    bytes.try_into().map_err(|_| MerkleError::HashLength {
        what: what(),
        len: bytes.len(),
    })
}

fn to_hashes<P: AsRef<[u8]>>(proof: &[P]) -> Result<Vec<Hash>, MerkleError> {
    proof
        .iter()
        .enumerate()
        .map(|(i, p)| to_hash(p.as_ref(), || format!("proof element {i}")))
        .collect()
}

/// Bit length of `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// The number of elements of an inclusion proof for `index` in a tree of `size` (`index < size`):
/// the path inside the perfect subtree shared with the last leaf, plus the border nodes.
fn inclusion_len(index: u64, size: u64) -> usize {
    let inner = bit_len(index ^ (size - 1));
    // `inner` is 64 when the tree's top bit separates index and last leaf: no border nodes then
    // (a plain `>>` by 64 overflows).
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// The sides of the siblings on the path from leaf `index` to the root of a tree of `size`,
/// bottom-up, as RFC 9162 §2.1.3.2 derives them: the sibling is on the left when the running
/// index is odd or is the last node of its level.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] when `index ≥ size`.
pub fn inclusion_sides(index: u64, size: u64) -> Result<Vec<Side>, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut sides = Vec::with_capacity(inclusion_len(index, size));
    let (mut f, mut s) = (index, size - 1);
    while s > 0 {
        if f & 1 == 1 || f == s {
            sides.push(Side::Left);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sides.push(Side::Right);
        }
        f >>= 1;
        s >>= 1;
    }
    Ok(sides)
}

/// Folds a proof whose sides are given: what AAT `batch` proofs carry.
pub fn root_from_sided_proof(leaf: &Hash, proof: &[(Hash, Side)]) -> Hash {
    proof.iter().fold(*leaf, |acc, (sib, side)| match side {
        Side::Left => node_hash(sib, &acc),
        Side::Right => node_hash(&acc, sib),
    })
}

/// The root an inclusion proof leads to (RFC 9162 §2.1.3.2), after checking every length.
///
/// # Errors
/// [`MerkleError`] for an index outside the tree, a hash that is not 32 bytes, or a proof of the
/// wrong length.
pub fn root_from_inclusion<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[P],
) -> Result<Hash, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let leaf = to_hash(leaf, || "leaf hash".into())?;
    let proof = to_hashes(proof)?;
    let expected = inclusion_len(index, size);
    if proof.len() != expected {
        return Err(MerkleError::ProofLength {
            expected,
            found: proof.len(),
        });
    }
    let sides = inclusion_sides(index, size)?;
    let pairs: Vec<(Hash, Side)> = proof.into_iter().zip(sides).collect();
    Ok(root_from_sided_proof(&leaf, &pairs))
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves whose head is `root`
/// (RFC 9162 §2.1.3.2).
///
/// # Errors
/// [`MerkleError`] saying why not.
pub fn verify_inclusion<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[P],
    root: &[u8],
) -> Result<(), MerkleError> {
    let expected = to_hash(root, || "root".into())?;
    let computed = root_from_inclusion(index, size, leaf, proof)?;
    if computed == expected {
        Ok(())
    } else {
        Err(MerkleError::RootMismatch {
            expected: hex::encode(expected),
            computed: hex::encode(computed),
        })
    }
}

/// The number of elements of a consistency proof from `size1` to `size2` (`0 < size1 < size2`).
fn consistency_len(size1: u64, size2: u64) -> usize {
    let index = size1 - 1;
    let inner = bit_len(index ^ (size2 - 1));
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    let shift = size1.trailing_zeros();
    // When size1 is a power of two its own root is the seed and is not part of the proof.
    let start = usize::from(size1 != 1 << shift);
    start + (inner - shift) as usize + border as usize
}

/// Verifies that the tree of `size2` leaves with head `root2` extends the tree of `size1` leaves
/// with head `root1` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and identical roots (compared as given, as the vectors do).
///
/// # Errors
/// [`MerkleError`] for `size1 = 0` (a proof from the empty tree proves nothing), decreasing sizes,
/// a hash that is not 32 bytes, a proof of the wrong length, or roots the proof does not lead to.
pub fn verify_consistency<P: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[P],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), MerkleError> {
    if size1 == 0 {
        return Err(MerkleError::EmptyFirstTree);
    }
    if size1 > size2 {
        return Err(MerkleError::SizesDecrease { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(MerkleError::ProofLength {
                expected: 0,
                found: proof.len(),
            });
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(MerkleError::RootMismatch {
                expected: hex::encode(root2),
                computed: hex::encode(root1),
            })
        };
    }
    let first = to_hash(root1, || "first root".into())?;
    let second = to_hash(root2, || "second root".into())?;
    let proof = to_hashes(proof)?;
    let expected = consistency_len(size1, size2);
    let found = proof.len();
    if found != expected {
        return Err(MerkleError::ProofLength {
            expected,
            found: proof.len(),
        });
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(first);
    }
    path.extend(proof);
    let (mut f, mut s) = (size1 - 1, size2 - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let Some((seed, rest)) = path.split_first() else {
        return Err(MerkleError::ProofLength { expected, found });
    };
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if s == 0 {
            return Err(MerkleError::ProofLength { expected, found });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if fr != first {
        return Err(MerkleError::RootMismatch {
            expected: hex::encode(first),
            computed: hex::encode(fr),
        });
    }
    if sr != second || s != 0 {
        return Err(MerkleError::RootMismatch {
            expected: hex::encode(second),
            computed: hex::encode(sr),
        });
    }
    Ok(())
}

/// The inclusion proof of leaf `index` (RFC 9162 §2.1.3.1 `PATH`), bottom-up; `None` when
/// `index` is not inside the tree.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    path(index, leaves, &mut out);
    Some(out)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// The consistency proof from the first `size1` leaves to all of `leaves` (RFC 9162 §2.1.4.1
/// `PROOF`); `None` unless `0 < size1 ≤ leaves.len()`.
pub fn consistency_proof(leaves: &[Hash], size1: usize) -> Option<Vec<Hash>> {
    if size1 == 0 || size1 > leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    subproof(size1, leaves, true, &mut out);
    Some(out)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn known_answers() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"L123456")),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
        );
        let mut h = Sha256::new();
        h.update([0x01]);
        h.update(b"N123");
        h.update(b"N456");
        let want: Hash = h.finalize().into();
        assert_eq!(
            hex::encode(want),
            "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
        );
    }

    #[test]
    fn frontier_matches_the_recursive_root_for_every_size() {
        let all = leaves(70);
        let mut f = Frontier::new();
        assert_eq!(f.root(), empty_root());
        for (i, l) in all.iter().enumerate() {
            f.push(*l);
            assert_eq!(f.size(), i as u64 + 1);
            assert_eq!(f.root(), root(&all[..=i]), "size {}", i + 1);
            assert!(f.stack.len() <= 7);
        }
    }

    #[test]
    fn generated_inclusion_proofs_verify_and_have_the_derived_sides() {
        for n in 1..=33 {
            let all = leaves(n);
            let head = root(&all);
            for i in 0..n {
                let proof = inclusion_proof(&all, i).unwrap();
                assert_eq!(proof.len(), inclusion_len(i as u64, n as u64));
                verify_inclusion(i as u64, n as u64, &all[i], &proof, &head).unwrap();
                let sides = inclusion_sides(i as u64, n as u64).unwrap();
                let pairs: Vec<_> = proof.iter().copied().zip(sides).collect();
                assert_eq!(root_from_sided_proof(&all[i], &pairs), head);
                // Any other index with the same proof fails.
                if n > 1 {
                    let other = (i + 1) % n;
                    assert!(
                        verify_inclusion(other as u64, n as u64, &all[i], &proof, &head).is_err()
                    );
                }
            }
            assert!(inclusion_proof(&all, n).is_none());
        }
    }

    #[test]
    fn generated_consistency_proofs_verify() {
        for n in 1..=33 {
            let all = leaves(n);
            let head = root(&all);
            for m in 1..=n {
                let proof = consistency_proof(&all, m).unwrap();
                let old = root(&all[..m]);
                if m < n {
                    assert_eq!(proof.len(), consistency_len(m as u64, n as u64), "{m}->{n}");
                }
                verify_consistency(m as u64, n as u64, &proof, &old, &head).unwrap();
                let mut wrong = old;
                wrong[0] ^= 1;
                assert!(verify_consistency(m as u64, n as u64, &proof, &wrong, &head).is_err());
            }
        }
    }

    #[test]
    fn rejects_malformed_input() {
        let all = leaves(5);
        let head = root(&all);
        let proof = inclusion_proof(&all, 2).unwrap();
        assert_eq!(
            verify_inclusion(5, 5, &all[2], &proof, &head),
            Err(MerkleError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert!(matches!(
            verify_inclusion(2, 5, &all[2][..31], &proof, &head),
            Err(MerkleError::HashLength { len: 31, .. })
        ));
        assert!(matches!(
            verify_inclusion(2, 5, &all[2], &proof[..2], &head),
            Err(MerkleError::ProofLength {
                expected: 3,
                found: 2
            })
        ));
        assert_eq!(
            verify_consistency::<Hash>(0, 0, &[], &head, &head),
            Err(MerkleError::EmptyFirstTree)
        );
        assert!(matches!(
            verify_consistency::<Hash>(3, 2, &[], &head, &head),
            Err(MerkleError::SizesDecrease { .. })
        ));
    }

    #[test]
    fn proof_lengths_past_two_to_the_63_do_not_overflow() {
        // See: fuzz target `merkle` (crash in inclusion_len); `leaf_index`, `tree_size` and
        // checkpoint sizes come from untrusted input.
        let size = (1u64 << 63) + 1;
        let sides = inclusion_sides(0, size).unwrap();
        assert_eq!(sides.len(), 64);
        assert!(sides.iter().all(|s| *s == Side::Right));
        assert_eq!(inclusion_sides(size - 1, size).unwrap(), vec![Side::Left]);
        let h = [7u8; 32];
        assert_eq!(
            verify_inclusion(0, size, &h, &vec![h; 63], &h),
            Err(MerkleError::ProofLength {
                expected: 64,
                found: 63
            })
        );
        assert!(matches!(
            verify_inclusion(0, size, &h, &vec![h; 64], &h),
            Err(MerkleError::RootMismatch { .. })
        ));
        assert_eq!(
            verify_consistency(1, size, &[h; 3], &h, &h),
            Err(MerkleError::ProofLength {
                expected: 64,
                found: 3
            })
        );
        assert!(verify_consistency(1, u64::MAX, &vec![h; 64], &h, &h).is_err());
    }
}
