//! Merkle proofs and compact ranges on hostile numbers and hashes: inclusion and consistency
//! verification with arbitrary indexes, sizes and proofs must return, never panic; proofs we
//! build for a small tree verify and stop verifying when one byte changes; compact ranges rebuilt
//! from arbitrary bounds either fail or compose.
#![no_main]

use audit_verify::compact::CompactRange;
use audit_verify::merkle::{
    Frontier, Hash, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion,
};
use libfuzzer_sys::fuzz_target;

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        let n = self.0.len().min(8);
        b[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        u64::from_le_bytes(b)
    }
    fn hash(&mut self) -> Hash {
        let mut h = [0u8; 32];
        let n = self.0.len().min(32);
        h[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        h
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let (a, b) = (r.u64(), r.u64());
    let leaf = r.hash();
    let root_h = r.hash();
    let proof: Vec<Hash> = (0..(a % 70)).map(|_| r.hash()).collect();
    let _ = verify_inclusion(a, b, &leaf, &proof, &root_h);
    let _ = verify_consistency(a, b, &proof, &leaf, &root_h);
    // Hashes of other lengths must be refused, not indexed.
    let _ = verify_inclusion(a, b, &data[..data.len().min(31)], &proof, &root_h);

    // Proofs we build verify; one flipped bit does not.
    let n = (data.len() % 40) + 1;
    let leaves: Vec<Hash> = (0..n)
        .map(|i| leaf_hash(&[data, &[i as u8]].concat()))
        .collect();
    let head = root(&leaves);
    let mut frontier = Frontier::new();
    let mut range = CompactRange::new(0);
    for l in &leaves {
        frontier.push(*l);
        range.push(*l);
    }
    assert_eq!(frontier.root(), head);
    assert_eq!(range.root(), Some(head));
    let index = (a % n as u64) as usize;
    let p = inclusion_proof(&leaves, index).expect("index inside");
    verify_inclusion(index as u64, n as u64, &leaves[index], &p, &head).expect("our proof");
    let bit = (b % 256) as usize;
    if !p.is_empty() {
        let mut bad = p.clone();
        let at = (b as usize / 256) % bad.len();
        bad[at][bit / 8 % 32] ^= 1 << (bit % 8);
        assert!(verify_inclusion(index as u64, n as u64, &leaves[index], &bad, &head).is_err());
    }
    let size1 = index + 1;
    let c = consistency_proof(&leaves, size1).expect("size inside");
    let old = root(&leaves[..size1]);
    verify_consistency(size1 as u64, n as u64, &c, &old, &head).expect("our proof");
    if !c.is_empty() {
        let mut bad = c.clone();
        let at = (b as usize / 256) % bad.len();
        bad[at][bit / 8 % 32] ^= 1 << (bit % 8);
        assert!(verify_consistency(size1 as u64, n as u64, &bad, &old, &head).is_err());
    }

    // Compact ranges from arbitrary bounds (what a certificate claims).
    let (begin, end) = (r.u64(), r.u64());
    let hashes: Vec<Hash> = (0..(begin % 130)).map(|_| r.hash()).collect();
    if let Ok(mut cr) = CompactRange::from_parts(begin, end, &hashes) {
        let _ = cr.root();
        let other = CompactRange::new(cr.end());
        let _ = cr.append(&other);
        if cr.end() < u64::MAX {
            cr.push(leaf);
        }
        let _ = cr.root();
    }
    // Adjacent ranges built from our leaves compose to the head.
    let cut = index;
    let mut left = CompactRange::new(0);
    let mut right = CompactRange::new(cut as u64);
    for l in &leaves[..cut] {
        left.push(*l);
    }
    for l in &leaves[cut..] {
        right.push(*l);
    }
    left.append(&right).expect("adjacent");
    assert_eq!(left.root(), Some(head));
});
