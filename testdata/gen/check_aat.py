#!/usr/bin/env python3
"""Self-check for the AAT fixtures in testdata/aat/ (run: /work/venv/bin/python testdata/gen/check_aat.py).

Re-parses every file, recomputes every prev_hash, parent link, sequence number, timestamp order,
session_hash / record_count and signature with rfc8785, cryptography and dilithium-py
(ML-DSA-65 signatures are checked with both dilithium-py and OpenSSL via cryptography), checks
that every kid matches its key under the stated rule, asserts the expected findings of the fail--
files, and runs aat-mcp 0.1.0's own verify_chain on the ES256 trails. Exits non-zero on any
unexpected result.
"""
from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature, decode_dss_signature
from dilithium_py.ml_dsa import ML_DSA_65

TESTDATA = Path(__file__).resolve().parents[1]
AAT_DIR = TESTDATA / "aat"
KEYS_DIR = TESTDATA / "keys"
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

# sha256 of the genuine samples as listed in shared/interop/aat/README.md
GENUINE = {
    "ok--spec10.jsonl": "b4d7f4dcb361a0779776d8d4a5f035f51913ed28e038afd808141adfc6d76242",
    "ok--spec10-merkle.jsonl": "c87cd0140dd874b4138e401aca7543868070eecff426fa48bd82601beed331d2",
    "ok--spec3-hybrid.jsonl": "26cf2b1d92d399c6ba49154da30b1509deea006d22d883dd65820c1588de71c4",
    "ok--mcp10.jsonl": "ea7f98f0409e12ae68ed6edafd81c5e9f96d2de9ad167a34089125955d53aa0d",
}


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def b64u_d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jcs(o) -> bytes:
    return rfc8785.dumps(o)


def H(rec) -> str:
    return hashlib.sha256(jcs({k: v for k, v in rec.items() if k != "batch"})).hexdigest()


def M(rec) -> bytes:
    return jcs({k: v for k, v in rec.items() if k not in ("signature", "signature_classical", "batch")})


def no_dupes(pairs):
    d = OrderedDict()
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate member {k!r}")
        d[k] = v
    return dict(d)


# --------------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------------
def ec_thumb(x, y):
    return b64u(hashlib.sha256(jcs({"crv": "P-256", "kty": "EC", "x": x, "y": y})).digest())


def mldsa_kid_raw(pub_b64):
    return b64u(hashlib.sha256(b64u_d(pub_b64)).digest())


def mldsa_kid_akp(pub_b64):
    return b64u(hashlib.sha256(jcs({"alg": "ML-DSA-65", "kty": "AKP", "pub": pub_b64})).digest())


def load_jwks(path: Path, mldsa_rule="raw"):
    keys = {}
    for k in json.loads(path.read_text())["keys"]:
        if k["kty"] == "EC":
            assert k["kid"] == ec_thumb(k["x"], k["y"]), f"{path.name}: EC kid != RFC 7638 thumbprint"
            pub = ec.EllipticCurvePublicNumbers(
                int.from_bytes(b64u_d(k["x"]), "big"), int.from_bytes(b64u_d(k["y"]), "big"), ec.SECP256R1()
            ).public_key()
            keys[k["kid"]] = ("ES256", pub)
        elif k["kty"] == "AKP":
            want = mldsa_kid_raw(k["pub"]) if mldsa_rule == "raw" else mldsa_kid_akp(k["pub"])
            assert k["kid"] == want, f"{path.name}: ML-DSA kid does not follow the {mldsa_rule} rule"
            assert len(b64u_d(k["pub"])) == 1952
            keys[k["kid"]] = ("ML-DSA-65", b64u_d(k["pub"]))
        else:
            raise AssertionError(k["kty"])
    return keys


def check_keys():
    # the kid rules reproduce the values documented for the genuine hybrid sample
    hyb = json.loads((KEYS_DIR / "spec_hybrid.jwks.json").read_text())["keys"]
    akp = [k for k in hyb if k["kty"] == "AKP"][0]
    assert mldsa_kid_raw(akp["pub"]) == akp["kid"] == "bY0AE0ckYZQR3L0gVHw2eEMya_-DDxyVeJ8iIuy-t_Q"
    assert mldsa_kid_akp(akp["pub"]) == "8wn3iuqrD_tnx2-_lO0o7mJ-_RzNKP0ykPLkjonQqUw"

    gen = load_jwks(KEYS_DIR / "gen.jwks.json", "raw")
    akp_set = load_jwks(KEYS_DIR / "gen-mldsa-akp.jwks.json", "akp")
    (akp_kid, (_, akp_pk)), = akp_set.items()
    ml = [(kid, v[1]) for kid, v in gen.items() if v[0] == "ML-DSA-65"]
    assert len(ml) == 1 and ml[0][1] == akp_pk and ml[0][0] != akp_kid

    # keystore (aat-verify shape) holds the same keys
    ks = json.loads((KEYS_DIR / "gen.keys.json").read_text())
    assert set(ks) == set(gen)
    # private test keys match the published public keys
    t = KEYS_DIR / "test-only"
    agent = serialization.load_pem_private_key((t / "agent-es256.pem").read_bytes(), None)
    other = serialization.load_pem_private_key((t / "other-es256.pem").read_bytes(), None)
    kids_ec = []
    for priv in (agent, other):
        n = priv.public_key().public_numbers()
        kid = ec_thumb(b64u(n.x.to_bytes(32, "big")), b64u(n.y.to_bytes(32, "big")))
        assert kid in gen
        kids_ec.append(kid)
    seed = bytes.fromhex((t / "agent-mldsa65.seed").read_text().strip())
    pk, _ = ML_DSA_65.key_derive(seed)
    assert pk == ml[0][1]
    ossl = serialization.load_pem_private_key((t / "agent-mldsa65.pem").read_bytes(), None)
    assert ossl.public_key().public_bytes_raw() == pk
    pem_pub = serialization.load_pem_public_key((KEYS_DIR / "gen-agent.pub.pem").read_bytes())
    assert pem_pub.public_numbers() == agent.public_key().public_numbers()
    assert serialization.load_pem_public_key((KEYS_DIR / "gen-mldsa65.pub.pem").read_bytes()).public_bytes_raw() == pk
    return gen, {"agent": kids_ec[0], "other": kids_ec[1], "mldsa": ml[0][0], "mldsa_akp": akp_kid}


# --------------------------------------------------------------------------------------------
# trail verification
# --------------------------------------------------------------------------------------------
def verify_es256(pub, sig_b64, msg, issues, where):
    raw = b64u_d(sig_b64)
    if len(raw) != 64:
        issues.append(f"{where}: ES256 signature is {len(raw)} bytes, not P1363 (64)")
        return False
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    try:
        pub.verify(encode_dss_signature(r, s), msg, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        issues.append(f"{where}: ES256 signature invalid")
        return False
    if s > P256_N // 2:
        issues.append(f"{where}: high-S")
    return True


def verify_mldsa(pk, sig_b64, msg, issues, where):
    d = hashlib.sha256(msg).digest()
    sig = b64u_d(sig_b64)
    ok1 = len(sig) == 3309 and ML_DSA_65.verify(pk, d, sig, ctx=b"")
    try:
        mldsa.MLDSA65PublicKey.from_public_bytes(pk).verify(sig, d)
        ok2 = True
    except InvalidSignature:
        ok2 = False
    if ok1 != ok2:
        issues.append(f"{where}: dilithium-py and OpenSSL disagree on the ML-DSA-65 signature")
    if not (ok1 and ok2):
        issues.append(f"{where}: ML-DSA-65 signature invalid")
    return ok1 and ok2


def instant(s):
    return datetime.fromisoformat(s)


def verify_trail(path: Path, keys):
    """Returns (sessions, issues, stats)."""
    issues = []
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    sessions = OrderedDict()
    file_order = []
    for ln, line in enumerate(text.split("\n")[:-1], 1):
        rec = json.loads(line, object_pairs_hook=no_dupes)
        sessions.setdefault(rec["session_id"], []).append(rec)
        file_order.append(rec["session_id"])
    stats = {"records": len(file_order), "sessions": len(sessions), "algs": set(), "closed": 0,
             "partial": 0, "signed": 0, "ts_string_inversions": 0}
    for sid, recs in sessions.items():
        tag = f"{path.name} session {sid[:8]}"
        g = recs[0]
        if g["prev_hash"] is None:
            assert g["parent_record_id"] is None
            if not (g["action_type"] == "lifecycle" and g["action_detail"].get("event") == "session_start"
                    and g["record_phase"] == "concurrent"):
                issues.append(f"{tag}: bad genesis")
            seq0 = 0
        else:
            stats["partial"] += 1
            seq0 = g.get("sequence_number")
        assert len({r["agent_id"] for r in recs}) == 1
        for i, r in enumerate(recs):
            where = f"{tag} record {i}"
            if "sequence_number" in r and r["sequence_number"] != seq0 + i:
                issues.append(f"{where}: sequence_number {r['sequence_number']} != {seq0 + i}")
            if i:
                p = recs[i - 1]
                if r["prev_hash"] != H(p):
                    issues.append(f"{where}: prev_hash mismatch")
                if r["parent_record_id"] != p["record_id"]:
                    issues.append(f"{where}: parent_record_id mismatch")
                if instant(r["timestamp"]) < instant(p["timestamp"]):
                    issues.append(f"{where}: timestamp goes backwards")
                if r["timestamp"] < p["timestamp"]:
                    stats["ts_string_inversions"] += 1
            if r["action_type"] == "decision" and r["outcome"] in ("denied", "escalated"):
                if r["record_phase"] != "pre_execution":
                    issues.append(f"{where}: §4.2 denial not pre_execution")
            if "signature" in r:
                stats["signed"] += 1
                alg = r.get("sig_alg", "ES256")
                stats["algs"].add(alg + ("+ES256" if "signature_classical" in r else ""))
                msg = M(r)
                entry = keys.get(r.get("signer_kid"))
                if alg not in ("ES256", "ML-DSA-65"):
                    issues.append(f"{where}: unknown sig_alg {alg!r}")
                elif entry is None or entry[0] != alg:
                    issues.append(f"{where}: no {alg} key for kid {r.get('signer_kid')}")
                elif alg == "ES256":
                    verify_es256(entry[1], r["signature"], msg, issues, where)
                else:
                    verify_mldsa(entry[1], r["signature"], msg, issues, where)
                if "signature_classical" in r:
                    ce = keys.get(r.get("signer_kid_classical"))
                    if ce is None or ce[0] != "ES256":
                        issues.append(f"{where}: no ES256 key for signer_kid_classical")
                    else:
                        verify_es256(ce[1], r["signature_classical"], msg, issues, where + " (classical)")
        last = recs[-1]
        if last["action_type"] == "lifecycle" and last["action_detail"].get("event") == "session_end":
            stats["closed"] += 1
            ad = last["action_detail"]
            if "session_hash" in ad:
                want = hashlib.sha256(b"".join(bytes.fromhex(r["prev_hash"]) for r in recs[1:])).hexdigest()
                if ad["session_hash"] != want:
                    issues.append(f"{tag}: session_hash mismatch")
            if "record_count" in ad and ad["record_count"] != len(recs):
                issues.append(f"{tag}: record_count {ad['record_count']} != {len(recs)}")
    stats["file_order"] = file_order
    return sessions, issues, stats


def aat_mcp_verify(sessions, keys):
    """aat-mcp 0.1.0's own verify_chain, per session, ES256 keys only."""
    from aat.core import verify_chain

    pubs = {kid: v[1] for kid, v in keys.items() if v[0] == "ES256"}
    out = []
    for sid, recs in sessions.items():
        try:
            ok, issues = verify_chain(recs, pubs)
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            ok, issues = False, [f"{type(e).__name__}: {e}"]
        out.append((ok, issues))
    return out


def main(argv=None) -> int:
    failures = []
    gen_keys, kids = check_keys()
    spec_keys = load_jwks(KEYS_DIR / "spec_hybrid.jwks.json", "raw")  # superset of spec.jwks.json
    mcp10_keys = load_jwks(KEYS_DIR / "mcp10.jwks.json")

    def expect(cond, msg):
        if not cond:
            failures.append(msg)

    rows = []

    # genuine copies: byte-identical to the interop samples
    for name, digest in GENUINE.items():
        data = (AAT_DIR / name).read_bytes()
        expect(hashlib.sha256(data).hexdigest() == digest, f"{name}: not the genuine bytes")
        keys = mcp10_keys if "mcp10" in name else spec_keys
        sessions, issues, st = verify_trail(AAT_DIR / name, keys)
        expect(not issues, f"{name}: {issues}")
        rows.append((name, st, issues, None))

    ok_files = {
        "ok--gen-es256-seq.jsonl": dict(records=12, sessions=1, closed=1, algs={"ES256"}),
        "ok--gen-two-sessions.jsonl": dict(records=16, sessions=2, closed=2, algs={"ES256"}),
        "ok--gen-mldsa.jsonl": dict(records=5, sessions=1, closed=1, algs={"ML-DSA-65"}),
        "ok--gen-hybrid.jsonl": dict(records=5, sessions=1, closed=1, algs={"ML-DSA-65+ES256"}),
        "ok--gen-unsigned.jsonl": dict(records=6, sessions=1, closed=1, algs=set()),
        "ok--gen-partial.jsonl": dict(records=7, sessions=1, closed=0, algs={"ES256"}),
        "ok--gen-float.jsonl": dict(records=4, sessions=1, closed=1, algs={"ES256"}),
        "ok--gen-mcp-recorder.jsonl": dict(sessions=2, closed=2, algs={"ES256"}),
    }
    for name, want in ok_files.items():
        sessions, issues, st = verify_trail(AAT_DIR / name, gen_keys)
        expect(not issues, f"{name}: {issues}")
        for k, v in want.items():
            expect(st[k] == v, f"{name}: {k} = {st[k]!r}, expected {v!r}")
        mcp = None
        if name != "ok--gen-mldsa.jsonl" and name != "ok--gen-hybrid.jsonl":
            mcp = aat_mcp_verify(sessions, gen_keys)
        rows.append((name, st, issues, mcp))

        recs = [r for rs in sessions.values() for r in rs]
        if name == "ok--gen-es256-seq.jsonl":
            expect(st["ts_string_inversions"] == 2, f"{name}: expected 2 string-order inversions")
            r5 = recs[5]
            expect(r5["timestamp"].endswith("+02:00") and len(r5["timestamp"].split(".")[1]) == 12,
                   f"{name}: record 5 timestamp shape")
            expect(r5["timestamp"] < recs[4]["timestamp"] and instant(r5["timestamp"]) > instant(recs[4]["timestamp"]),
                   f"{name}: record 5 must be string-smaller but later than record 4")
            expect([r["sequence_number"] for r in recs] == list(range(12)), f"{name}: seq")
            expect(recs[-1]["action_detail"]["record_count"] == 12, f"{name}: record_count")
            expect(sum(r["action_type"] == "decision" and r["outcome"] == "denied" for r in recs) == 1, name)
        if name == "ok--gen-two-sessions.jsonl":
            a, b = list(sessions)
            want_order = [{"A": a, "B": b}[c] for c in "A B A A B B A B A A B B A B A B".split()]
            expect(st["file_order"] == want_order, f"{name}: interleaving")
            expect(all(len(v) == 8 for v in sessions.values()), f"{name}: 8 records each")
        if name == "ok--gen-unsigned.jsonl":
            expect(not any(k in r for r in recs for k in ("signature", "sig_alg", "signer_kid",
                                                             "signature_classical", "signer_kid_classical")),
                   f"{name}: signature members present")
        if name == "ok--gen-partial.jsonl":
            expect(recs[0]["prev_hash"] is not None and recs[0]["sequence_number"] == 5
                   and recs[-1]["sequence_number"] == 11 and st["partial"] == 1, f"{name}: partial shape")
        if name == "ok--gen-float.jsonl":
            lines = (AAT_DIR / name).read_text(encoding="utf-8").split("\n")[:-1]
            expect("1E-7" in lines[1] and "1e-7" not in lines[1], f"{name}: 1E-7 spelling")
            expect(all(l.encode() != jcs(r) for l, r in zip(lines, recs)), f"{name}: a line equals its JCS")
            d = recs[1]
            canon = jcs(d).decode()
            expect('"risk_score":1e-7' in canon and '"confidence":0.92' in canon, f"{name}: JCS numbers")
            expect(canon.index('"😀"') < canon.index('"ａ"'), f"{name}: JCS must sort by UTF-16 units")
            py = json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            expect(py.index('"ａ"') < py.index('"😀"') and py.encode() != jcs(d),
                   f"{name}: sorted json.dumps should differ from JCS")
        if name == "ok--gen-mcp-recorder.jsonl":
            for ok, iss in mcp:
                expect(ok and not iss, f"{name}: aat-mcp verify_chain: {iss}")
            expect(all(r.get("signer_kid") == kids["agent"] for r in recs), f"{name}: signer kid")
        if mcp is not None and name not in ("ok--gen-partial.jsonl",):
            for ok, iss in mcp:
                expect(ok, f"{name}: aat-mcp verify_chain: {iss}")

    # fail files: exactly the planted findings
    sessions, issues, st = verify_trail(AAT_DIR / "fail--gen-der-signature.jsonl", gen_keys)
    expect(len(issues) == 1 and "record 2: ES256 signature is" in issues[0] and "not P1363" in issues[0],
           f"der: {issues}")
    r2 = list(sessions.values())[0][2]
    der = b64u_d(r2["signature"])
    r, s = decode_dss_signature(der)  # it is a well-formed DER ECDSA-Sig-Value ...
    gen_keys[kids["agent"]][1].verify(der, M(r2), ec.ECDSA(hashes.SHA256()))  # ... and valid as DER
    rows.append(("fail--gen-der-signature.jsonl", st, issues, aat_mcp_verify(sessions, gen_keys)))

    sessions, issues, st = verify_trail(AAT_DIR / "fail--gen-alg-none.jsonl", gen_keys)
    expect(sorted(issues) == sorted([
        f"fail--gen-alg-none.jsonl session {list(sessions)[0][:8]} record 3: unknown sig_alg 'none'",
        f"fail--gen-alg-none.jsonl session {list(sessions)[0][:8]} record 4: prev_hash mismatch",
    ]), f"alg-none: {issues}")
    recs = list(sessions.values())[0]
    fixed = dict(recs[3], sig_alg="ES256")
    expect(H(fixed) == recs[4]["prev_hash"], "alg-none: restoring ES256 should restore the link")
    tmp = []
    verify_es256(gen_keys[kids["agent"]][1], fixed["signature"], M(fixed), tmp, "alg-none restored")
    expect(not tmp, f"alg-none: original signature should verify once relabelled back: {tmp}")
    rows.append(("fail--gen-alg-none.jsonl", st, issues, aat_mcp_verify(sessions, gen_keys)))

    # summary
    print(f"{'file':34} {'recs':>4} {'sess':>4} {'signed':>6} {'closed':>6} {'algs':18} issues / aat-mcp verify_chain")
    for name, st, iss, mcp in rows:
        mcp_s = "-" if mcp is None else ",".join("ok" if ok else "FAIL(" + "; ".join(i)[:70] + ")" for ok, i in mcp)
        print(f"{name:34} {st['records']:>4} {st['sessions']:>4} {st['signed']:>6} {st['closed']:>6} "
              f"{'/'.join(sorted(st['algs'])) or 'unsigned':18} {len(iss)} / {mcp_s}")
        for i in iss:
            print(f"    finding: {i}")
    print("kids:", kids)
    if failures:
        print("SELF-CHECK FAILED:")
        for f in failures:
            print("  -", f)
        return 1
    print("SELF-CHECK OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
