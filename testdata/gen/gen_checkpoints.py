#!/usr/bin/env python3
"""Deterministic generator for the checkpoint fixtures (testdata/checkpoints/).

Run from the repository root:

    /work/venv/bin/python testdata/gen/gen_checkpoints.py

Independent of the Rust code: RFC 6962 / RFC 9162 tree heads and consistency proofs are computed
here from the RFC's recursive definitions, leaves are SHA-256(0x00 || JCS(record without "batch"))
with the `rfc8785` package, and notes are signed per c2sp.org/signed-note (Ed25519, type 0x01) and
c2sp.org/tlog-cosignature (timestamped Ed25519, type 0x04) with `cryptography`.

Keys are derived from fixed labels (TEST-ONLY, see testdata/keys/test-only/README.md):

* log key: Ed25519 seed = SHA-256("audit-verify test checkpoint log key"), name
  "log.audit-verify.test/fixtures";
* witness key: Ed25519 seed = SHA-256("audit-verify test checkpoint witness key"), name
  "witness.audit-verify.test/w1";
* JSON checkpoints are signed ES256 (RFC 6979 deterministic, low-S, P1363) with
  testdata/keys/test-only/other-es256.pem, kid XoYDNb0I3Dq5NhfQ4kQuAiWfetZvLm3YqOJnKhmW6bg (in
  testdata/keys/gen.jwks.json).

Every output is byte-identical on every run.
"""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

TESTDATA = Path(__file__).resolve().parents[1]
OUT = TESTDATA / "checkpoints"
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

LOG_NAME = "log.audit-verify.test/fixtures"
WITNESS_NAME = "witness.audit-verify.test/w1"
COSIGN_TIME = 1790000000
ES256_KID = "XoYDNb0I3Dq5NhfQ4kQuAiWfetZvLm3YqOJnKhmW6bg"


# ---------------------------------------------------------------------------- RFC 6962 / 9162
def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = split(n)
    if m <= k:
        return subproof(m, leaves[:k], complete) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def consistency_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return subproof(m, leaves, True)


def record_leaves(path: Path) -> list[bytes]:
    leaves = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        rec.pop("batch", None)
        leaves.append(leaf_hash(rfc8785.dumps(rec)))
    return leaves


# ---------------------------------------------------------------------------- C2SP notes
def ed25519_key(label: str) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


def raw_public(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def key_id(name: str, sig_type: int, pub: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + pub).digest()[:4]


def vkey(name: str, sig_type: int, pub: bytes) -> str:
    kid = key_id(name, sig_type, pub).hex()
    return f"{name}+{kid}+{base64.b64encode(bytes([sig_type]) + pub).decode()}"


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(text: str, log: ed25519.Ed25519PrivateKey, witness=None) -> str:
    pub = raw_public(log)
    sig = key_id(LOG_NAME, 0x01, pub) + log.sign(text.encode())
    lines = [f"\u2014 {LOG_NAME} {base64.b64encode(sig).decode()}"]
    if witness is not None:
        wpub = raw_public(witness)
        msg = f"cosignature/v1\ntime {COSIGN_TIME}\n".encode() + text.encode()
        wsig = key_id(WITNESS_NAME, 0x04, wpub) + COSIGN_TIME.to_bytes(8, "big") + witness.sign(msg)
        lines.append(f"\u2014 {WITNESS_NAME} {base64.b64encode(wsig).decode()}")
    return text + "\n" + "".join(l + "\n" for l in lines)


# ---------------------------------------------------------------------------- JSON form
def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def es256_p1363(key: ec.EllipticCurvePrivateKey, msg: bytes) -> bytes:
    der = key.sign(msg, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    if s > P256_N // 2:
        s = P256_N - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def json_checkpoint(size: int, root: bytes, key, consistency=None) -> str:
    obj = {
        "type": "audit-verify/checkpoint/v1",
        "origin": LOG_NAME,
        "size": size,
        "root": root.hex(),
        "timestamp": "2026-10-03T00:00:00Z",
    }
    msg = rfc8785.dumps(obj)
    if consistency:
        obj["consistency"] = consistency
    obj["signature"] = {"alg": "ES256", "kid": ES256_KID, "sig": b64u(es256_p1363(key, msg))}
    return json.dumps(obj, indent=2) + "\n"


def write(name: str, text: str) -> None:
    (OUT / name).write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {name}: sha256 {hashlib.sha256(text.encode()).hexdigest()}")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    log = ed25519_key("audit-verify test checkpoint log key")
    witness = ed25519_key("audit-verify test checkpoint witness key")
    write("test-log.vkey", vkey(LOG_NAME, 0x01, raw_public(log)) + "\n")
    write("test-witness.vkey", vkey(WITNESS_NAME, 0x04, raw_public(witness)) + "\n")
    es_key = serialization.load_pem_private_key(
        (TESTDATA / "keys/test-only/other-es256.pem").read_bytes(), password=None
    )

    # The genuine one-epoch sample: the export's tree is the epoch's tree.
    spec = record_leaves(TESTDATA / "aat/ok--spec10-merkle.jsonl")
    root10 = mth(spec)
    assert root10.hex() == "42fb041fc7ee93857c3fbaa61b4269e562277db0a6af63fbdc95185b1f0cb953"
    write(
        "spec10-merkle.checkpoint",
        sign_note(checkpoint_text(LOG_NAME, 10, root10), log, witness),
    )

    # The 12-record generated session: a note for all 12, JSON checkpoints for all 12 (with a
    # consistency proof from 8) and for the first 8.
    seq = record_leaves(TESTDATA / "aat/ok--gen-es256-seq.jsonl")
    assert len(seq) == 12
    write("gen-es256-seq.checkpoint", sign_note(checkpoint_text(LOG_NAME, 12, mth(seq)), log))
    proof = [h.hex() for h in consistency_proof(8, seq)]
    write(
        "gen-es256-seq.checkpoint.json",
        json_checkpoint(12, mth(seq), es_key, [{"from_size": 8, "proof": proof}]),
    )
    write("gen-es256-seq-8.checkpoint.json", json_checkpoint(8, mth(seq[:8]), es_key))


if __name__ == "__main__":
    main()
