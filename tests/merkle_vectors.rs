//! RFC 6962 / RFC 9162 conformance: every inclusion and consistency proof file of
//! transparency-dev/merkle (`../shared/vectors/merkle/testdata`, or `$AUDIT_VERIFY_VECTORS/merkle`)
//! and the derived reference tree `rfc6962-reference-tree.json`, run through `audit_verify::merkle`.
//! Where the folder is absent the tests say so loudly and skip.

mod common;

use std::path::{Path, PathBuf};

use audit_verify::merkle::{self, Frontier, Hash};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::Null => Vec::new(),
        Value::String(s) => STANDARD.decode(s).unwrap(),
        other => panic!("not a base64 string: {other}"),
    }
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(bytes).collect(),
        other => panic!("not a proof: {other}"),
    }
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vector_dir(kind: &str) -> Option<Vec<PathBuf>> {
    let dir = common::vectors()?.join("merkle/testdata").join(kind);
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    Some(files)
}

#[test]
fn every_inclusion_vector_gives_the_expected_result() {
    let Some(files) = vector_dir("inclusion") else {
        return;
    };
    let mut failures = Vec::new();
    for path in &files {
        let v = load(path);
        let got = merkle::verify_inclusion(
            v["leafIdx"].as_u64().unwrap(),
            v["treeSize"].as_u64().unwrap(),
            &bytes(&v["leafHash"]),
            &proof(&v["proof"]),
            &bytes(&v["root"]),
        );
        if got.is_err() != v["wantErr"].as_bool().unwrap() {
            failures.push(format!("{}: {got:?}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(files.len(), 98, "inclusion vector files run");
}

#[test]
fn every_consistency_vector_gives_the_expected_result() {
    let Some(files) = vector_dir("consistency") else {
        return;
    };
    let mut failures = Vec::new();
    for path in &files {
        let v = load(path);
        let got = merkle::verify_consistency(
            v["size1"].as_u64().unwrap(),
            v["size2"].as_u64().unwrap(),
            &proof(&v["proof"]),
            &bytes(&v["root1"]),
            &bytes(&v["root2"]),
        );
        if got.is_err() != v["wantErr"].as_bool().unwrap() {
            failures.push(format!("{}: {got:?}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(files.len(), 98, "consistency vector files run");
}

#[test]
fn the_honest_vector_proofs_are_the_ones_we_generate() {
    // Each numbered directory holds one honest proof from the 8-leaf reference tree: our proof
    // generation must reproduce it exactly.
    let Some(vectors) = common::vectors() else {
        return;
    };
    let reference = load(&vectors.join("merkle/rfc6962-reference-tree.json"));
    let leaves: Vec<Hash> = reference["leafHashesHex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            hex::decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    let mut checked = 0;
    for dir in ["0", "1", "2", "3", "4"] {
        let inc = load(&vectors.join(format!("merkle/testdata/inclusion/{dir}/happy-path.json")));
        let size = inc["treeSize"].as_u64().unwrap() as usize;
        let index = inc["leafIdx"].as_u64().unwrap() as usize;
        let want: Vec<Vec<u8>> = proof(&inc["proof"]);
        let got = merkle::inclusion_proof(&leaves[..size], index).unwrap();
        assert_eq!(
            got.iter().map(|h| h.to_vec()).collect::<Vec<_>>(),
            want,
            "inclusion {dir}"
        );
        let con = load(&vectors.join(format!("merkle/testdata/consistency/{dir}/happy-path.json")));
        let size1 = con["size1"].as_u64().unwrap() as usize;
        let size2 = con["size2"].as_u64().unwrap() as usize;
        let want: Vec<Vec<u8>> = proof(&con["proof"]);
        let got = merkle::consistency_proof(&leaves[..size2], size1).unwrap();
        assert_eq!(
            got.iter().map(|h| h.to_vec()).collect::<Vec<_>>(),
            want,
            "consistency {dir}"
        );
        checked += 2;
    }
    assert_eq!(checked, 10);
}

#[test]
fn the_rfc6962_reference_tree_is_reproduced() {
    let Some(vectors) = common::vectors() else {
        return;
    };
    let v = load(&vectors.join("merkle/rfc6962-reference-tree.json"));
    let inputs: Vec<Vec<u8>> = v["leafInputsHex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
        .collect();
    let want_leaves: Vec<String> = v["leafHashesHex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert_eq!(inputs.len(), 8);
    let leaves: Vec<Hash> = inputs.iter().map(|d| merkle::leaf_hash(d)).collect();
    for (got, want) in leaves.iter().zip(&want_leaves) {
        assert_eq!(&hex::encode(got), want);
    }
    let roots = v["rootHashesBySizeHex"].as_object().unwrap();
    assert_eq!(roots.len(), 9);
    let mut frontier = Frontier::new();
    for size in 0..=8usize {
        let want = roots[&size.to_string()].as_str().unwrap();
        assert_eq!(
            hex::encode(merkle::root(&leaves[..size])),
            want,
            "size {size}"
        );
        assert_eq!(hex::encode(frontier.root()), want, "frontier size {size}");
        if size < 8 {
            frontier.push(leaves[size]);
        }
    }
    let answers = v["hasherKnownAnswers"].as_array().unwrap();
    assert_eq!(answers.len(), 4);
    assert_eq!(
        hex::encode(merkle::empty_root()),
        answers[0]["hex"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(merkle::leaf_hash(b"")),
        answers[1]["hex"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(merkle::leaf_hash(b"L123456")),
        answers[2]["hex"].as_str().unwrap()
    );
    // Every proof between sizes of the reference tree verifies against the listed roots.
    for n in 1..=8usize {
        let head = hex::decode(roots[&n.to_string()].as_str().unwrap()).unwrap();
        for i in 0..n {
            let p = merkle::inclusion_proof(&leaves[..n], i).unwrap();
            merkle::verify_inclusion(i as u64, n as u64, &leaves[i], &p, &head).unwrap();
        }
        for m in 1..=n {
            let old = hex::decode(roots[&m.to_string()].as_str().unwrap()).unwrap();
            let p = merkle::consistency_proof(&leaves[..n], m).unwrap();
            merkle::verify_consistency(m as u64, n as u64, &p, &old, &head).unwrap();
        }
    }
}
