#!/usr/bin/env python3
"""Writes small asqav Audit Packs and ComplianceBundles into corpus/verify_run and
corpus/json_array: one to three receipts of testdata/asqav's generated chain, the pack
projection canonicalized and signed as testdata/gen/gen_asqav.py does, under an Ed25519 or
ES256 key of keys/asqav-gen.jwks.json (ML-DSA-65 pack signatures alone are 4.4 KB of base64:
the whole packs exceed the corpus's 8,192-byte inputs), and packs with one thing changed.

The fixtures' own packs (26 receipts, 70-110 KB) are too large for the fuzzers' inputs, so
without these seeds no input reaches the bundle-level checks. Needs the producers' Python
packages (asqav, dilithium-py, cryptography), as gen_asqav.py does; run from the repository
root with that interpreter:  /path/to/venv/bin/python fuzz/seeds_asqav.py
"""
import copy
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "testdata", "gen"))

import gen_asqav as g  # noqa: E402
from asqav.compliance import export_bundle  # noqa: E402
from seeds import put  # noqa: E402


def pack(receipts, key):
    """A pack of `receipts` signed by `key`, without the key directory (whose ML-DSA keys alone
    would exceed an input)."""
    ids = [r["signature_id"] for r in receipts]
    return g.audit_pack(receipts, None, key, {"eu_ai_act": ids[:1]})


def flat_receipt(i, key):
    """A legacy flat hash-mode receipt (shared/formats/asqav.md section 10), signed by `key`."""
    signed = {
        "v": 1, "mode": "hash",
        "hash": "sha256:" + hashlib.sha256(b"action %d" % i).hexdigest(),
        "hash_algo": "sha256", "metadata": {},
        "server_timestamp": "2026-11-10T09:00:%02d.128301" % i,
        "action_id": "act_flat%04d" % i, "agent_id": key.agent_id, "org_id": g.ORG,
        "policy_digest": hashlib.sha256(b"policy").hexdigest(), "policy_decision": "permit",
    }
    r = dict(signed)
    r.update({
        "payload": None, "algorithm": key.alg, "key_id": key.kid, "anchors": [],
        "signature_b64": g.b64url(key.sign(g.canonical_json(signed))),
    })
    return r


def dump(obj, compact):
    if compact:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return (json.dumps(obj, indent=1, ensure_ascii=False) + "\n").encode()


def main():
    chain = g.main_chain()
    # The chain's first receipts are alpha's (Ed25519); take one of each agent too.
    by_agent = {}
    for r in chain:
        by_agent.setdefault(r["payload"]["agent_id"], r)
    small = [chain[:1], chain[:2], chain[:3]]
    for n, receipts in enumerate(small):
        for key in (g.ALPHA, g.BETA):
            p = pack(receipts, key)
            for compact in (False, True):
                body = dump(p, compact)
                # Byte 0 of verify_run: 0 = detect the container, 2 = JSON forced.
                put("verify_run", b"\x00" + body)
                put("verify_run", b"\x02" + body)
                put("json_array", body)
            if n == 0:
                # One change each: a receipt count, a digest, a signature, a receipt member.
                for k, v in [("receipt_count", 2), ("bundle_digest", "sha256:" + "0" * 64),
                             ("bundle_signature", g.b64(b"\x00" * 64)),
                             ("bundle_signature_algorithm", "ML-DSA-65")]:
                    q = copy.deepcopy(p)
                    q[k] = v
                    put("verify_run", b"\x00" + dump(q, True))
                q = copy.deepcopy(p)
                q["receipts"][0]["payload"]["decision"] = "deny"
                put("verify_run", b"\x00" + dump(q, True))
    flats = [flat_receipt(i, k) for i, k in enumerate((g.ALPHA, g.BETA, g.ALPHA))]
    put("verify_run", b"\x00" + b"".join(dump(r, True) + b"\n" for r in flats))
    put("verify_run", b"\x00" + dump(flats[0], True) + b"\n" + dump(chain[0], True) + b"\n")
    for receipts in ([chain[0]], chain[:2], list(by_agent.values())[:2]):
        bundle = export_bundle(receipts, framework="dora")
        bundle.generated_at = "2026-11-11T06:00:00.000000+00:00"
        path = os.path.join(HERE, "target-seed-bundle.json")
        bundle.to_file(path)
        with open(path, "rb") as f:
            body = f.read()
        os.remove(path)
        put("verify_run", b"\x00" + body)
        put("json_array", body)
    print("asqav seeds written")


if __name__ == "__main__":
    main()
