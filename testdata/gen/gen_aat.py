#!/usr/bin/env python3
"""Deterministic generator for the AAT (draft-sharif-agent-audit-trail) test fixtures.

Run from the repository root:

    /work/venv/bin/python testdata/gen/gen_aat.py [--regen-mcp] [--no-check]

Writes testdata/aat/{ok,fail}--gen-*.jsonl and the generated keys under testdata/keys/.
Everything except ok--gen-mcp-recorder.jsonl is byte-identical on every run:

* P-256 keys are derived from fixed integers (SHA-256 of a label, reduced mod n);
* ECDSA uses RFC 6979 deterministic nonces (cryptography's
  ec.ECDSA(..., deterministic_signing=True)), then low-S normalisation;
* ML-DSA-65 key from a fixed 32-byte seed (dilithium-py ML_DSA_65.key_derive), signatures with
  dilithium-py's deterministic variant (rnd = 0^32), pure, empty context;
* record and session ids are UUID-v4-shaped values derived from fixed labels;
* timestamps are fixed strings.

ok--gen-mcp-recorder.jsonl is made by the real aat-mcp 0.1.0 recorder, which stamps the current
time, random uuid4 record ids and randomised ECDSA signatures; it is therefore only (re)generated
when it is missing or when --regen-mcp is given.

Dependencies (a venv outside the repo): aat-mcp==0.1.0, rfc8785, cryptography (>= 44 for
deterministic ECDSA; ML-DSA support in the OpenSSL backend for the PKCS#8 export), dilithium-py.
The packages are used as libraries only.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import uuid
from pathlib import Path

import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from dilithium_py.ml_dsa import ML_DSA_65

TESTDATA = Path(__file__).resolve().parents[1]
AAT_DIR = TESTDATA / "aat"
KEYS_DIR = TESTDATA / "keys"
TEST_ONLY_DIR = KEYS_DIR / "test-only"

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

AGENT_ID = "urn:agent:fixture-bot.example"
AGENT_VERSION = "0.9.0"


# --------------------------------------------------------------------------------------------
# primitives
# --------------------------------------------------------------------------------------------
def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def jcs(obj) -> bytes:
    return rfc8785.dumps(obj)


def sha256_hex(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def digest_of(value) -> str:
    """hex(SHA-256(JCS(value))), the way aat-mcp computes parameters_hash etc."""
    return sha256_hex(jcs(value))


def chain_hash(rec: dict) -> str:
    """H(R) = hex(SHA-256(JCS(R without 'batch'))), signatures included."""
    return sha256_hex(jcs({k: v for k, v in rec.items() if k != "batch"}))


def signing_input(rec: dict) -> bytes:
    """M = JCS(R without signature, signature_classical, batch)."""
    drop = ("signature", "signature_classical", "batch")
    return jcs({k: v for k, v in rec.items() if k not in drop})


def fixed_uuid(label: str) -> str:
    """UUID-v4-shaped (version and variant bits set) id derived from a fixed label."""
    h = hashlib.sha256(("aat-fixture-uuid:" + label).encode()).digest()
    return str(uuid.UUID(bytes=h[:16], version=4))


def fixed_int(label: str) -> int:
    """A fixed P-256 private scalar in [1, n-1]."""
    h = hashlib.sha256(("aat-fixture-key:" + label).encode()).digest()
    return int.from_bytes(h, "big") % (P256_N - 1) + 1


def ts(day: int, ms: int) -> str:
    """Fixed timestamp 2026-10-<day>T09:00:00.000Z plus ms milliseconds (< 1 hour)."""
    assert 0 <= ms < 3_600_000
    m, rem = divmod(ms, 60_000)
    s, milli = divmod(rem, 1000)
    return f"2026-10-{day:02d}T09:{m:02d}:{s:02d}.{milli:03d}Z"


# --------------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------------
class EcKey:
    def __init__(self, label: str):
        self.label = label
        self.d = fixed_int(label)
        self.priv = ec.derive_private_key(self.d, ec.SECP256R1())
        nums = self.priv.public_key().public_numbers()
        self.x = b64u(nums.x.to_bytes(32, "big"))
        self.y = b64u(nums.y.to_bytes(32, "big"))
        # RFC 7638 thumbprint over the required members, in JCS form
        self.kid = b64u(hashlib.sha256(jcs({"crv": "P-256", "kty": "EC", "x": self.x, "y": self.y})).digest())

    def sign_rs(self, msg: bytes) -> tuple[int, int]:
        """ES256 over msg (= ECDSA of SHA-256(msg)), RFC 6979 deterministic, low-S."""
        der = self.priv.sign(msg, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        if s > P256_N // 2:
            s = P256_N - s
        return r, s

    def sign_p1363(self, msg: bytes) -> str:
        r, s = self.sign_rs(msg)
        return b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def sign_der(self, msg: bytes) -> str:
        r, s = self.sign_rs(msg)
        return b64u(encode_dss_signature(r, s))

    def jwk(self) -> dict:
        return {"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y, "alg": "ES256", "use": "sig", "kid": self.kid}

    def pkcs8_pem(self) -> bytes:
        return self.priv.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def spki_pem(self) -> bytes:
        return self.priv.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class MlDsaKey:
    def __init__(self, label: str):
        self.seed = hashlib.sha256(("aat-fixture-mldsa-seed:" + label).encode()).digest()
        self.pk, self.sk = ML_DSA_65.key_derive(self.seed)
        self.pub = b64u(self.pk)
        # aat-verify 0.1.0 rule: base64url(SHA-256(raw public key))
        self.kid = b64u(hashlib.sha256(self.pk).digest())
        # draft-ietf-cose-dilithium / [OE] rule: RFC 7638 thumbprint of the AKP JWK
        self.kid_akp = b64u(hashlib.sha256(jcs({"alg": "ML-DSA-65", "kty": "AKP", "pub": self.pub})).digest())
        # cross-check the key derivation against the OpenSSL implementation
        self._ossl = mldsa.MLDSA65PrivateKey.from_seed_bytes(self.seed)
        assert self._ossl.public_key().public_bytes_raw() == self.pk

    def sign(self, msg: bytes) -> str:
        """ML-DSA-65 pure, empty context, message = SHA-256(msg), deterministic."""
        d = hashlib.sha256(msg).digest()
        sig = ML_DSA_65.sign(self.sk, d, ctx=b"", deterministic=True)
        assert len(sig) == 3309
        return b64u(sig)

    def jwk(self, kid: str) -> dict:
        return {"kty": "AKP", "alg": "ML-DSA-65", "pub": self.pub, "kid": kid}

    def pkcs8_pem(self) -> bytes:
        # cryptography writes the seed-only PKCS#8 form (RFC 9881 / lamps-dilithium-certificates)
        return self._ossl.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def spki_pem(self) -> bytes:
        return self._ossl.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


AGENT = EcKey("agent-es256")
OTHER = EcKey("other-es256")
MLDSA = MlDsaKey("agent-mldsa65")


# --------------------------------------------------------------------------------------------
# sessions
# --------------------------------------------------------------------------------------------
class Session:
    """Builds one hash-chained session in the draft's member order (insertion order, as aat-mcp
    and the genuine spec samples do).

    mode: "es256" | "es256-der" (P1363 replaced by DER for chosen records) | "mldsa" | "hybrid" | "none"
    """

    def __init__(self, name: str, mode: str = "es256", seq: bool = True, der_records=()):
        self.name = name
        self.mode = mode
        self.seq = seq
        self.der_records = set(der_records)
        self.session_id = fixed_uuid(f"{name}:session")
        self.records: list[dict] = []
        self.last_id = None
        self.last_hash = None

    def add(self, action_type, action_detail, *, outcome="success", phase, trust="L1", timestamp, extra=None):
        i = len(self.records)
        rec = {
            "record_id": fixed_uuid(f"{self.name}:record:{i}"),
            "timestamp": timestamp,
            "agent_id": AGENT_ID,
            "agent_version": AGENT_VERSION,
            "session_id": self.session_id,
            "action_type": action_type,
            "action_detail": action_detail,
            "outcome": outcome,
            "trust_level": trust,
            "parent_record_id": self.last_id,
            "prev_hash": self.last_hash,
            "record_phase": phase,
        }
        if self.seq:
            rec["sequence_number"] = i
        if extra:
            rec.update(extra)
        self._sign(rec, i)
        self.last_hash = chain_hash(rec)
        self.last_id = rec["record_id"]
        self.records.append(rec)
        return rec

    def _sign(self, rec, i):
        if self.mode == "none":
            return
        if self.mode in ("es256", "es256-der"):
            rec["sig_alg"] = "ES256"
            rec["signer_kid"] = AGENT.kid
            m = signing_input(rec)
            if i in self.der_records:
                rec["signature"] = AGENT.sign_der(m)
            else:
                rec["signature"] = AGENT.sign_p1363(m)
        elif self.mode == "mldsa":
            rec["sig_alg"] = "ML-DSA-65"
            rec["signer_kid"] = MLDSA.kid
            rec["signature"] = MLDSA.sign(signing_input(rec))
        elif self.mode == "hybrid":
            rec["sig_alg"] = "ML-DSA-65"
            rec["signer_kid"] = MLDSA.kid
            rec["signer_kid_classical"] = AGENT.kid
            m = signing_input(rec)
            rec["signature"] = MLDSA.sign(m)
            rec["signature_classical"] = AGENT.sign_p1363(m)
        else:
            raise ValueError(self.mode)

    # convenience builders ------------------------------------------------------------------
    def genesis(self, timestamp, trust="L1"):
        config = {"fixture": self.name, "model": "test-model-1", "policy": "default"}
        return self.add(
            "lifecycle",
            {"event": "session_start", "recording_mode": "self", "config_hash": digest_of(config)},
            phase="concurrent",
            trust=trust,
            timestamp=timestamp,
        )

    def tool_pair(self, tool, args, result, t_call, t_resp, trust="L1"):
        call = self.add(
            "tool_call",
            {"tool_name": tool, "parameters_hash": digest_of(args)},
            phase="pre_execution",
            trust=trust,
            timestamp=t_call,
        )
        self.add(
            "tool_response",
            {"tool_name": tool, "response_hash": digest_of(result), "parent_call_id": call["record_id"]},
            phase="post_execution",
            trust=trust,
            timestamp=t_resp,
        )

    def close(self, timestamp, trust="L1"):
        # session_hash = SHA-256 over the raw 32-byte prev_hash of records 1..N, N = the close
        # record itself, whose prev_hash is H(last record) = self.last_hash.
        prevs = [r["prev_hash"] for r in self.records[1:]] + [self.last_hash]
        session_hash = hashlib.sha256(b"".join(bytes.fromhex(p) for p in prevs)).hexdigest()
        return self.add(
            "lifecycle",
            {"event": "session_end", "session_hash": session_hash, "record_count": len(self.records) + 1},
            phase="post_execution",
            trust=trust,
            timestamp=timestamp,
        )


# --------------------------------------------------------------------------------------------
# serialisation
# --------------------------------------------------------------------------------------------
def compact_line(rec: dict) -> str:
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(name: str, lines: list[str]) -> None:
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    (AAT_DIR / name).write_bytes(data)


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------
def gen_es256_seq() -> list[dict]:
    s = Session("gen-es256-seq")
    s.genesis(ts(2, 0))                                                             # 0
    s.tool_pair("search_flights", {"from": "LHR", "to": "KWI", "date": "2026-10-20"},
                {"offers": 3}, ts(2, 1000), ts(2, 2000))                            # 1, 2
    # 3: tool_call in Z; 4: its response with a +03:00 offset (09:00:04Z as an instant)
    call = s.add("tool_call", {"tool_name": "get_fare_rules", "parameters_hash": digest_of({"offer": 2})},
                 phase="pre_execution", timestamp=ts(2, 3000))
    s.add("tool_response",
          {"tool_name": "get_fare_rules", "response_hash": digest_of({"refundable": False}),
           "parent_call_id": call["record_id"]},
          phase="post_execution", timestamp="2026-10-02T12:00:04.000+03:00")
    # 5: +02:00 offset with microseconds: 09:00:04.000250Z, 250 us after record 4 as an instant,
    #    but string-wise SMALLER than record 4 ("...T11..." < "...T12...").
    s.add("decision",
          {"decision_type": "payment_approval", "reasoning_hash": digest_of("fare exceeds delegated limit")},
          outcome="denied", phase="pre_execution", trust="L2",
          timestamp="2026-10-02T11:00:04.000250+02:00",
          extra={"deny_reasons": ["CAPABILITY_NOT_GRANTED"]})
    # 6: back to Z: 09:00:05.000Z is later as an instant, string-wise smaller than record 5.
    s.tool_pair("hold_booking", {"offer": 2, "hold_minutes": 30}, {"hold_id": "H-1"},
                "2026-10-02T09:00:05.000Z", ts(2, 6000))                           # 6, 7
    s.tool_pair("send_itinerary", {"hold_id": "H-1", "channel": "email"}, {"sent": True},
                ts(2, 7000), ts(2, 8000))                                           # 8, 9
    s.add("error",
          {"error_code": "UPSTREAM_TIMEOUT", "error_message": "calendar sync timed out",
           "error_category": "timeout", "recoverable": True},
          outcome="timeout", phase="post_execution", timestamp=ts(2, 9000))        # 10
    s.close(ts(2, 10000))                                                           # 11
    assert len(s.records) == 12
    write_jsonl("ok--gen-es256-seq.jsonl", [compact_line(r) for r in s.records])
    return s.records


def gen_two_sessions():
    a = Session("gen-two-sessions:A")
    b = Session("gen-two-sessions:B")
    # file order: A0 B0 A1 A2 B1 B2 A3 B3 A4 A5 B4 B5 A6 B6 A7 B7
    order = "A B A A B B A B A A B B A B A B".split()
    sessions = {"A": a, "B": b}
    plans = {
        "A": [
            lambda s, t: s.genesis(t),
            lambda s, t: s.add("tool_call", {"tool_name": "read_inbox", "parameters_hash": digest_of({"folder": "in"})},
                               phase="pre_execution", timestamp=t),
            lambda s, t: s.add("tool_response", {"tool_name": "read_inbox", "response_hash": digest_of({"n": 4}),
                                                 "parent_call_id": s.records[1]["record_id"]},
                               phase="post_execution", timestamp=t),
            lambda s, t: s.add("tool_call", {"tool_name": "summarise", "parameters_hash": digest_of({"ids": [1, 2]})},
                               phase="pre_execution", timestamp=t),
            lambda s, t: s.add("tool_response", {"tool_name": "summarise", "response_hash": digest_of("two mails"),
                                                 "parent_call_id": s.records[3]["record_id"]},
                               phase="post_execution", timestamp=t),
            lambda s, t: s.add("escalation", {"escalation_reason": "message flagged as phishing",
                                              "escalation_target": "mailto:secops@example.com", "urgency": "high"},
                               outcome="escalated", phase="concurrent", timestamp=t),
            lambda s, t: s.add("lifecycle", {"event": "configuration_change",
                                             "config_hash": digest_of({"fixture": "A", "filter": "strict"})},
                               phase="concurrent", timestamp=t),
            lambda s, t: s.close(t),
        ],
        "B": [
            lambda s, t: s.genesis(t, trust="L2"),
            lambda s, t: s.add("tool_call", {"tool_name": "list_invoices", "parameters_hash": digest_of({"month": 9})},
                               phase="pre_execution", trust="L2", timestamp=t),
            lambda s, t: s.add("tool_response", {"tool_name": "list_invoices", "response_hash": digest_of([101, 102]),
                                                 "parent_call_id": s.records[1]["record_id"]},
                               phase="post_execution", trust="L2", timestamp=t),
            lambda s, t: s.add("decision", {"decision_type": "invoice_selection",
                                            "reasoning_hash": digest_of("oldest first")},
                               phase="pre_execution", trust="L2", timestamp=t),
            lambda s, t: s.add("tool_call", {"tool_name": "pay_invoice", "parameters_hash": digest_of({"id": 101})},
                               outcome="denied", phase="pre_execution", trust="L2", timestamp=t,
                               extra={"deny_reasons": ["INSUFFICIENT_TRUST_LEVEL"]}),
            lambda s, t: s.add("tool_call", {"tool_name": "notify_owner", "parameters_hash": digest_of({"id": 101})},
                               phase="pre_execution", trust="L2", timestamp=t),
            lambda s, t: s.add("tool_response", {"tool_name": "notify_owner", "response_hash": digest_of({"ok": True}),
                                                 "parent_call_id": s.records[5]["record_id"]},
                               phase="post_execution", trust="L2", timestamp=t),
            lambda s, t: s.close(t, trust="L2"),
        ],
    }
    lines = []
    for pos, which in enumerate(order):
        s = sessions[which]
        plans[which][len(s.records)](s, ts(3, 250 * pos))
        lines.append(compact_line(s.records[-1]))
    assert len(a.records) == 8 and len(b.records) == 8
    write_jsonl("ok--gen-two-sessions.jsonl", lines)


def gen_mldsa():
    s = Session("gen-mldsa", mode="mldsa")
    s.genesis(ts(4, 0), trust="L3")
    s.tool_pair("fetch_report", {"report": "q3"}, {"pages": 12}, ts(4, 1), ts(4, 2), trust="L3")
    s.add("escalation", {"escalation_reason": "report contains personal data",
                         "escalation_target": "urn:role:dpo", "urgency": "medium"},
          outcome="escalated", phase="concurrent", trust="L3", timestamp=ts(4, 3))
    s.close(ts(4, 4), trust="L3")
    assert len(s.records) == 5
    write_jsonl("ok--gen-mldsa.jsonl", [compact_line(r) for r in s.records])


def gen_hybrid():
    s = Session("gen-hybrid", mode="hybrid")
    s.genesis(ts(5, 0), trust="L3")
    s.tool_pair("rotate_credentials", {"service": "billing"}, {"rotated": True}, ts(5, 10), ts(5, 20), trust="L3")
    s.add("error", {"error_code": "AUDIT_SINK_SLOW", "error_message": "audit sink latency above 2 s",
                    "error_category": "external", "recoverable": True},
          outcome="failure", phase="post_execution", trust="L3", timestamp=ts(5, 30))
    s.close(ts(5, 40), trust="L3")
    assert len(s.records) == 5
    write_jsonl("ok--gen-hybrid.jsonl", [compact_line(r) for r in s.records])


def gen_unsigned():
    s = Session("gen-unsigned", mode="none")
    s.genesis(ts(6, 0), trust="L0")
    s.tool_pair("weather", {"city": "Kuwait"}, {"temp_c": 41}, ts(6, 100), ts(6, 200), trust="L0")
    s.tool_pair("weather", {"city": "Oslo"}, {"temp_c": 7}, ts(6, 300), ts(6, 400), trust="L0")
    s.close(ts(6, 500), trust="L0")
    assert len(s.records) == 6
    for r in s.records:
        assert not any(k in r for k in ("signature", "signature_classical", "sig_alg", "signer_kid"))
    write_jsonl("ok--gen-unsigned.jsonl", [compact_line(r) for r in s.records])


def gen_partial():
    s = Session("gen-partial")
    s.genesis(ts(7, 0))
    for k in range(1, 12, 2):
        if k + 1 < 12:
            s.tool_pair(f"step_{k}", {"k": k}, {"done": k}, ts(7, 1000 * k), ts(7, 1000 * (k + 1)))
        else:
            s.add("tool_call", {"tool_name": f"step_{k}", "parameters_hash": digest_of({"k": k})},
                  phase="pre_execution", timestamp=ts(7, 1000 * k))
    assert len(s.records) == 12
    assert all(r["action_detail"].get("event") != "session_end" for r in s.records)
    write_jsonl("ok--gen-partial.jsonl", [compact_line(r) for r in s.records[5:]])


def float_line(rec: dict) -> str:
    """Hand-shaped JSON text for ok--gen-float.jsonl: insertion order, ", " and ": " separators,
    1E-7 instead of 1e-7, an escaped solidus and one emoji written as a surrogate-pair escape.
    The parsed value is identical to rec; the bytes are deliberately not JCS."""
    line = json.dumps(rec, ensure_ascii=False, separators=(", ", ": "))
    line = line.replace('"risk_score": 1e-07', '"risk_score": 1E-7')
    line = line.replace("https://tools.example/caf", "https:\\/\\/tools.example\\/caf")
    line = line.replace('"note": "grinning 😀"', '"note": "grinning \\ud83d\\ude00"')
    return line


def gen_float():
    s = Session("gen-float")
    s.genesis(ts(8, 0))
    s.add("decision",
          {"decision_type": "route_selection", "confidence": 0.92, "policy_ref": "politique-é-v2",
           "ａ": "full-width a (U+FF41)", "😀": "grinning face (U+1F600)", "note": "grinning 😀"},
          phase="pre_execution", timestamp=ts(8, 1), extra={"risk_score": 1e-7})
    s.add("tool_call", {"tool_name": "café_lookup", "parameters_hash": digest_of({"q": "crème brûlée"}),
                        "tool_server": "https://tools.example/café"},
          phase="pre_execution", timestamp=ts(8, 2))
    s.close(ts(8, 3))
    assert len(s.records) == 4
    lines = []
    for r in s.records:
        line = float_line(r)
        parsed = json.loads(line)
        assert parsed == r and jcs(parsed) == jcs(r)
        assert line.encode() != jcs(r)
        lines.append(line)
    assert "1E-7" in lines[1] and "\\/" in lines[2] and "\\ud83d\\ude00" in lines[1]
    write_jsonl("ok--gen-float.jsonl", lines)


def gen_fail_der():
    # A producer that emits DER instead of P1363 for record 2. The chain is built over the
    # records as stored, so every link and the session_hash hold; only record 2's signature
    # encoding is wrong.
    s = Session("gen-der-signature", mode="es256-der", der_records={2})
    s.genesis(ts(9, 0))
    s.tool_pair("lookup_customer", {"id": 7}, {"tier": "gold"}, ts(9, 100), ts(9, 200))
    s.tool_pair("apply_discount", {"id": 7, "pct": 5}, {"ok": True}, ts(9, 300), ts(9, 400))
    s.close(ts(9, 500))
    write_jsonl("fail--gen-der-signature.jsonl", [compact_line(r) for r in s.records])


def gen_fail_alg_none():
    # A valid signed session; afterwards record 3 is relabelled "sig_alg":"none" (signature kept,
    # nothing recomputed). Record 4's prev_hash then no longer matches H(record 3).
    s = Session("gen-alg-none")
    s.genesis(ts(10, 0))
    s.tool_pair("export_table", {"table": "users"}, {"rows": 120}, ts(10, 100), ts(10, 200))
    s.tool_pair("upload_file", {"dest": "s3://bucket/x"}, {"etag": "abc"}, ts(10, 300), ts(10, 400))
    s.close(ts(10, 500))
    recs = [dict(r) for r in s.records]
    assert recs[3]["sig_alg"] == "ES256"
    recs[3]["sig_alg"] = "none"
    write_jsonl("fail--gen-alg-none.jsonl", [compact_line(r) for r in recs])


def gen_mcp_recorder():
    """Real aat-mcp 0.1.0 recorder with our fixed agent key; two sessions one after the other."""
    from aat.mcp import MCPRecorder

    def handler(name, args):
        if name == "flaky_tool":
            raise TimeoutError("upstream did not answer")
        return {"tool": name, "echo": args, "status": "ok"}

    def policy(name, args):
        return name != "delete_records"

    out = []
    # session A: calls, a denied call, a handler exception (error record), close
    ra = MCPRecorder(agent_id=AGENT_ID, agent_version=AGENT_VERSION, private_key=AGENT.priv,
                     trust_level="L2", session_id=fixed_uuid("gen-mcp-recorder:A:session"))
    assert ra.kid == AGENT.kid
    ra.open_session()
    wa = ra.wrap(handler, policy=policy)
    wa("lookup_order", {"order_id": "A-1001"})
    wa("refund_order", {"order_id": "A-1001", "amount_minor": 1999})
    try:
        wa("delete_records", {"table": "orders"})
    except PermissionError:
        pass
    try:
        wa("flaky_tool", {"x": 1})
    except TimeoutError:
        pass
    ra.close_session()
    ok, issues = ra.verify()
    assert ok, issues
    # session B: a second session with the same agent key
    rb = MCPRecorder(agent_id=AGENT_ID, agent_version=AGENT_VERSION, private_key=AGENT.priv,
                     trust_level="L2", session_id=fixed_uuid("gen-mcp-recorder:B:session"))
    rb.open_session()
    wb = rb.wrap(handler, policy=policy)
    wb("lookup_order", {"order_id": "B-2002"})
    wb("send_receipt", {"order_id": "B-2002", "channel": "email"})
    rb.close_session()
    ok, issues = rb.verify()
    assert ok, issues
    for rec in ra.records + rb.records:
        out.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    write_jsonl("ok--gen-mcp-recorder.jsonl", out)


# --------------------------------------------------------------------------------------------
# key files
# --------------------------------------------------------------------------------------------
def write_keys():
    TEST_ONLY_DIR.mkdir(parents=True, exist_ok=True)
    (TEST_ONLY_DIR / "agent-es256.pem").write_bytes(AGENT.pkcs8_pem())
    (TEST_ONLY_DIR / "other-es256.pem").write_bytes(OTHER.pkcs8_pem())
    (TEST_ONLY_DIR / "agent-mldsa65.seed").write_text(MLDSA.seed.hex() + "\n")
    (TEST_ONLY_DIR / "agent-mldsa65.pem").write_bytes(MLDSA.pkcs8_pem())

    write_json(KEYS_DIR / "gen.jwks.json", {"keys": [AGENT.jwk(), OTHER.jwk(), MLDSA.jwk(MLDSA.kid)]})
    write_json(KEYS_DIR / "gen-mldsa-akp.jwks.json", {"keys": [MLDSA.jwk(MLDSA.kid_akp)]})
    # the same public keys in the keystore shape read by aat-verify 0.1.0
    write_json(KEYS_DIR / "gen.keys.json", {
        AGENT.kid: {"alg": "ES256", "jwk_x_y": {"x": AGENT.x, "y": AGENT.y}},
        OTHER.kid: {"alg": "ES256", "jwk_x_y": {"x": OTHER.x, "y": OTHER.y}},
        MLDSA.kid: {"alg": "ML-DSA-65", "pk": MLDSA.pub},
    })
    (KEYS_DIR / "gen-agent.pub.pem").write_bytes(AGENT.spki_pem())
    (KEYS_DIR / "gen-mldsa65.pub.pem").write_bytes(MLDSA.spki_pem())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regen-mcp", action="store_true",
                    help="regenerate ok--gen-mcp-recorder.jsonl (not byte-deterministic)")
    ap.add_argument("--no-check", action="store_true", help="skip the self-check")
    args = ap.parse_args(argv)

    AAT_DIR.mkdir(parents=True, exist_ok=True)
    KEYS_DIR.mkdir(parents=True, exist_ok=True)
    write_keys()
    gen_es256_seq()
    gen_two_sessions()
    gen_mldsa()
    gen_hybrid()
    gen_unsigned()
    gen_partial()
    gen_float()
    gen_fail_der()
    gen_fail_alg_none()
    mcp = AAT_DIR / "ok--gen-mcp-recorder.jsonl"
    if args.regen_mcp or not mcp.exists():
        gen_mcp_recorder()
        print(f"wrote {mcp.name} (aat-mcp recorder; not byte-deterministic)")
    else:
        print(f"kept {mcp.name} (pass --regen-mcp to regenerate)")

    if args.no_check:
        return 0
    sys.dont_write_bytecode = True  # keep testdata/gen free of __pycache__
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import check_aat

    return check_aat.main([])


if __name__ == "__main__":
    sys.exit(main())
