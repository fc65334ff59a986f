"""Generates the asqav fixtures under testdata/asqav/ (ok--gen-*, fail--gen-*) and their key
directory testdata/keys/asqav-gen.jwks.json, with the asqav package (PyPI `asqav` 0.10.14) as a
library, and checks every file with asqav's own verifiers.

The asqav SDK does not sign receipts locally (receipts are signed by the Asqav cloud, ML-DSA-65
only in the cloud KMS); it does ship the pieces an offline producer uses, and those are what
this script calls: the canonicaliser `asqav._jcs.canonical_json` (the signed bytes, the chain
hash, payload_digest), `asqav.counterparty.compute_counterparty_binding` (the acknowledgment's
binding), `asqav.verifier.verify_receipt.thumbprint_for_key` (key_thumbprint),
`asqav.verifier.pack_verify.signed_bundle_payload` (the Audit Pack projection that the bundle
signature covers) and `asqav.compliance.export_bundle` (the ComplianceBundle). The receipt
layout follows the interop sample and asqav's own conformance-vector generators
(shared/formats/asqav.md). Signing: Ed25519 and ES256 with `cryptography`, ML-DSA-65 with
`dilithium-py` (what asqav's verifier uses).

Byte-deterministic: keys from fixed labels (TEST-ONLY, derivable from this file), ES256 with RFC
6979 nonces, ML-DSA-65 with dilithium-py's deterministic signing, fixed times and ids; the only
clock value asqav writes (ComplianceBundle `generated_at`) is replaced by a fixed one.

Run from the repository root: /work/venv/bin/python testdata/gen/gen_asqav.py
"""

import base64
import copy
import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from dilithium_py.ml_dsa import ML_DSA_65

import asqav
from asqav._jcs import canonical_json
from asqav.compliance import export_bundle
from asqav.counterparty import compute_counterparty_binding
from asqav.verifier.pack_verify import signed_bundle_payload, verify_pack
from asqav.verifier.verify_receipt import thumbprint_for_key

OUT = Path("testdata/asqav")
JWKS = Path("testdata/keys/asqav-gen.jwks.json")
ISSUER = "Fixture Org GmbH"
ORG = "3f6c2a4e-5b1d-4c8e-9a70-0d2e1f4b6a88"
GENESIS = "0" * 64
T0 = datetime(2026, 11, 10, 9, 0, 0, 125000, tzinfo=timezone.utc)
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def seed(label: str) -> bytes:
    return hashlib.sha256(("asqav-fixture-key:" + label).encode()).digest()


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


class Key:
    """A TEST-ONLY signing key from a fixed label."""

    def __init__(self, label: str, alg: str, kid: str, agent_id: str | None):
        self.label, self.alg, self.kid, self.agent_id = label, alg, kid, agent_id
        s = seed(label)
        if alg == "Ed25519":
            self.sk = Ed25519PrivateKey.from_private_bytes(s)
            self.pub = self.sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        elif alg == "ES256":
            d = int.from_bytes(s, "big") % (P256_N - 1) + 1
            self.sk = ec.derive_private_key(d, ec.SECP256R1())
            self.pub = self.sk.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint)
        else:
            self.pub, self.sk = ML_DSA_65.key_derive(s)

    def sign(self, msg: bytes) -> bytes:
        if self.alg == "Ed25519":
            return self.sk.sign(msg)
        if self.alg == "ES256":
            der = self.sk.sign(msg, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
            r, s = decode_dss_signature(der)
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return ML_DSA_65.sign(self.sk, msg, ctx=b"", deterministic=True)

    @property
    def thumbprint(self) -> str:
        return thumbprint_for_key(alg=self.alg, public_key=self.pub)

    def directory_entry(self, status="active", revoked_at=None, reason=None) -> dict:
        e = {
            "kid": self.kid,
            "issuer_id": ISSUER,
            "org_id": ORG,
            "alg": self.alg,
            "public_key": b64(self.pub),
            "key_thumbprint": self.thumbprint,
            "status": status,
        }
        if self.alg == "ML-DSA-65":
            # The AKP JWK members (draft-ietf-cose-dilithium) only where AKP is defined.
            e["kty"] = "AKP"
            e["pub"] = b64url(self.pub)
        if self.agent_id:
            e["agent_id"] = self.agent_id
        if revoked_at:
            e["revoked_at"] = revoked_at
            e["revocation_reason"] = reason
        return e


ALPHA = Key("alpha-ed25519-1", "Ed25519", "alpha-ed25519-1", "agt_fixture_alpha")
BETA = Key("beta-es256-1", "ES256", "beta-es256-1", "agt_fixture_beta")
GAMMA = Key("gamma-mldsa65-1", "ML-DSA-65", "gamma-mldsa65-1", "agt_fixture_gamma")
DELTA1 = Key("delta-ed25519-1", "Ed25519", "delta-ed25519-1", "agt_fixture_delta")
DELTA2 = Key("delta-ed25519-2", "Ed25519", "delta-ed25519-2", "agt_fixture_delta")
PACK = Key("org-pack-mldsa65", "ML-DSA-65", "org-pack-mldsa65", None)

# delta's first key is revoked (rotated out) between its receipts seq 5 and seq 6.
DELTA1_REVOKED_AT = "2026-11-10T10:05:30Z"


def ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Agent:
    def __init__(self, agent_id: str, key: Key, cloud_kid: bool = False):
        self.agent_id, self.key, self.cloud_kid = agent_id, key, cloud_kid
        self.prev = GENESIS
        self.seq = 0

    def receipt(self, n: int, t: datetime, rtype: str, decision: str, context, *,
                action_type: str, tool: str | None = None, key: Key | None = None,
                extra: dict | None = None) -> dict:
        key = key or self.key
        self.seq += 1
        payload = {
            "v": 1,
            "type": rtype,
            "mode": "payload",
            "issued_at": ts(t),
            "issuer_id": ISSUER,
            "org_id": ORG,
            "agent_id": self.agent_id,
            "action_id": f"act_fx{n:06d}",
            "action_type": action_type,
            "policy_digest": "sha256:" + hashlib.sha256(b"fixture-policy-v3").hexdigest(),
            "previousReceiptHash": self.prev,
            "decision": decision,
            "seq": self.seq,
            "nonce": hashlib.sha256(f"nonce:{n}".encode()).hexdigest()[:24],
        }
        if key.alg == "ML-DSA-65":
            # As the cloud does; asqav 0.10.14's verify_receipt_offline recomputes a
            # key_thumbprint only for raw ML-DSA keys (SKIPPED for Ed25519/ES256).
            payload["key_thumbprint"] = key.thumbprint
        if tool:
            payload["tool_name"] = tool
        if context is not None:
            c = canonical_json(context)
            h = hashlib.sha256(c).hexdigest()
            payload["context"] = context
            payload["payload_digest"] = {"hash": h, "size": len(c)}
            payload["action_ref"] = "sha256:" + h
        else:
            # Redacted context: the digest stays, the context is withheld.
            c = canonical_json({"redacted": n})
            h = hashlib.sha256(c).hexdigest()
            payload["payload_digest"] = {"hash": h, "size": len(c)}
            payload["action_ref"] = "sha256:" + h
        if extra:
            payload.update(extra)
        msg = canonical_json(payload)
        sig = key.sign(msg)
        self.prev = hashlib.sha256(msg).hexdigest()
        return {
            "signature_id": f"sig_fx{n:06d}",
            "agent_id": self.agent_id,
            "payload": payload,
            # Cloud receipts put the org in signature.kid; the key is found by key_thumbprint.
            "signature": {"alg": key.alg, "kid": ORG if self.cloud_kid else key.kid,
                          "sig": b64url(sig)},
            "anchors": [],
        }


def main_chain() -> list[dict]:
    """Three agents interleaved (Ed25519, ES256, ML-DSA-65), per-agent seq, one acknowledgment
    with a counterparty_binding to another agent's receipt."""
    alpha = Agent("agt_fixture_alpha", ALPHA)
    beta = Agent("agt_fixture_beta", BETA)
    gamma = Agent("agt_fixture_gamma", GAMMA, cloud_kid=True)
    out = []
    t = T0
    order = "ABACBABCABCAABCBACBAACBCAB"  # 26 receipts: alpha 10, beta 9, gamma 7
    acked = None
    for n, who in enumerate(order):
        t = t + timedelta(seconds=7, microseconds=3301 * (n + 1))
        if who == "A":
            i = alpha.seq
            ctx = {"tool": "search", "query": f"q{i}", "i": i}
            if i == 3:
                ctx = {"tool": "fetch", "url": "https://example.test/café", "score": 0.875,
                       "ratio": 1e-05, "tiny": 2.5e-07, "\uff41": "fullwidth", "\U0001F600": "emoji"}
            if i == 6:
                ctx = None  # redacted
            decision = "deny" if i in (4, 8) else "allow"
            r = alpha.receipt(n, t, "protectmcp:decision", decision, ctx,
                              action_type="tool:" + ("fetch" if i == 3 else "search"),
                              tool="fetch" if i == 3 else "search")
            if i == 2:
                acked = r
        elif who == "B":
            i = beta.seq
            if i == 3 and acked is not None:
                binding = compute_counterparty_binding(
                    acked, receipt_ref=acked["signature_id"], expect_ack_from=BETA.kid,
                    transport_label="mcp").to_wire()
                r = beta.receipt(n, t, "protectmcp:acknowledgment", "allow",
                                 {"acknowledges": acked["signature_id"]},
                                 action_type="ack:result", extra={"counterparty_binding": binding})
            else:
                r = beta.receipt(n, t, "protectmcp:decision", "rate_limit" if i == 5 else "allow",
                                 {"tool": "db.query", "rows": i * 10, "table": "orders"},
                                 action_type="tool:db.query", tool="db.query")
        else:
            i = gamma.seq
            rtype = "protectmcp:observation" if i % 3 == 2 else "protectmcp:decision"
            r = gamma.receipt(n, t, rtype, "observation" if rtype.endswith("observation")
                              else "allow", {"model": "fixture-llm", "tokens": 100 + i},
                              action_type="llm:completion")
        out.append(r)
    return out


def delta_chain(after_revocation: bool) -> list[dict]:
    """Key rotation: receipts 1-5 under delta's first key, a configuration_change receipt and
    more under its second key; the first key is revoked in between. With after_revocation, a
    receipt is signed with the revoked first key after its revocation time (must fail)."""
    delta = Agent("agt_fixture_delta", DELTA1)
    out = []
    t = datetime(2026, 11, 10, 10, 0, 0, 500000, tzinfo=timezone.utc)
    base = 200 if after_revocation else 100
    for i in range(12):
        t = t + timedelta(seconds=55)
        key = DELTA1 if i < 5 else DELTA2
        if after_revocation and i == 8:
            key = DELTA1
        if i == 5:
            r = delta.receipt(base + i, t, "protectmcp:lifecycle:configuration_change", "allow",
                              {"change": "key_rotation", "old_kid": DELTA1.kid,
                               "new_kid": DELTA2.kid},
                              action_type="config:key_rotation", key=key)
        else:
            r = delta.receipt(base + i, t, "protectmcp:decision", "allow",
                              {"tool": "files.read", "path": f"/srv/data/{i}.csv"},
                              action_type="tool:files.read", tool="files.read", key=key)
        out.append(r)
    return out


def jwks() -> dict:
    return {"keys": [
        ALPHA.directory_entry(), BETA.directory_entry(), GAMMA.directory_entry(),
        DELTA1.directory_entry("revoked", DELTA1_REVOKED_AT, "superseded"),
        DELTA2.directory_entry(), PACK.directory_entry(),
    ]}


def pack_entries(receipts: list[dict]) -> list[dict]:
    """Audit Pack entries: the envelope plus the export's outer copies, all agreeing."""
    out = []
    for r in receipts:
        e = copy.deepcopy(r)
        p = e["payload"]
        k = {ALPHA.agent_id: ALPHA, BETA.agent_id: BETA, GAMMA.agent_id: GAMMA}[p["agent_id"]]
        msg = canonical_json(p)
        e.update({
            "action_id": p["action_id"],
            "action_type": p["action_type"],
            "receipt_type": p["type"],
            "algorithm": e["signature"]["alg"],
            "signed_at": p["issued_at"],
            "compliance_mode": True,
            "public_key_b64": b64(k.pub),
            "message_sha256": hashlib.sha256(msg).hexdigest(),
            "signed_bytes_withheld": False,
        })
        out.append(e)
    return out


def audit_pack(receipts: list[dict], directory: dict | None, key: Key = PACK,
               regime_mapping: dict | None = None) -> dict:
    """An Audit Pack of `receipts` signed by `key`; `jwks` only when a directory is given (it is
    then in the signed projection)."""
    entries = pack_entries(receipts)
    ids = [e["signature_id"] for e in entries]
    if regime_mapping is None:
        regime_mapping = {"eu_ai_act": ids[:3], "dora": [ids[5]]}
    pack = {
        "organization_id": ORG,
        "start": "2026-11-10T00:00:00Z",
        "end": "2026-11-11T00:00:00Z",
        "agent_id": None,
        "only_compliance": True,
        "algorithm_registry_version": "1",
        "receipt_count": len(entries),
        "receipts": entries,
        "revocation_manifest": [],
        "regime_mapping": regime_mapping,
    }
    if directory is not None:
        pack["jwks"] = directory
    projection = canonical_json(signed_bundle_payload(pack))
    pack["bundle_digest"] = "sha256:" + hashlib.sha256(projection).hexdigest()
    pack["bundle_signature"] = b64(key.sign(projection))
    pack["bundle_public_key"] = b64(key.pub)
    pack["bundle_signature_algorithm"] = key.alg
    return pack


def write_jsonl(path: Path, receipts: list[dict]) -> None:
    path.write_text("".join(
        json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in receipts),
        encoding="utf-8")


def check_offline(name: str, receipts: list[dict], directory: dict) -> list[str]:
    """asqav.verify_receipt_offline per receipt, predecessor by (agent, seq - 1), the
    counterparty's originating envelope by receipt_ref."""
    by_key = {(r["payload"]["agent_id"], r["payload"]["seq"]): r for r in receipts}
    by_id = {r["signature_id"]: r for r in receipts}
    lines = []
    for n, r in enumerate(receipts, 1):
        p = r["payload"]
        pred = by_key.get((p["agent_id"], p["seq"] - 1))
        cpb = p.get("counterparty_binding")
        origin = by_id.get(cpb["receipt_ref"]) if cpb else None
        res = asqav.verify_receipt_offline(r, directory, predecessor=pred,
                                           originating_envelope=origin)
        bad = [f"{a['name']}={a['result']}" for a in res["axes"] if a["result"] != "PASS"]
        lines.append(f"{name} line {n}: {res['verdict']} {res['failure_class'] or ''} "
                     f"{' '.join(bad)}".rstrip())
    return lines


def main() -> None:
    directory = jwks()
    JWKS.write_text(json.dumps(directory, indent=2) + "\n")
    chain = main_chain()
    write_jsonl(OUT / "ok--gen-receipts.jsonl", chain)
    pack = audit_pack(chain, directory)
    (OUT / "ok--gen-audit-pack.json").write_text(json.dumps(pack, indent=1, ensure_ascii=False)
                                                 + "\n", encoding="utf-8")
    bundle = export_bundle(chain, framework="dora")
    bundle.generated_at = "2026-11-11T06:00:00.000000+00:00"  # the one clock value, fixed
    bundle.to_file(str(OUT / "ok--gen-compliance-bundle.json"))
    rotation = delta_chain(False)
    write_jsonl(OUT / "ok--gen-key-rotation.jsonl", rotation)
    forged = delta_chain(True)
    write_jsonl(OUT / "fail--gen-signed-after-revocation.jsonl", forged)

    report = []
    report += check_offline("receipts", chain, directory)
    report += check_offline("rotation", rotation, directory)
    report += check_offline("after-revocation", forged, directory)
    v = verify_pack(pack, jwks=directory)
    report.append(f"audit-pack: {v['status']} bundle={v['bundle']['status']} "
                  f"summary={v['summary']}")
    for line in report:
        print(line)


if __name__ == "__main__":
    main()
