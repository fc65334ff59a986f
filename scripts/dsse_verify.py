#!/usr/bin/env python3
"""Verify an audit-verify certificate with standard tooling, independently of audit-verify.

A certificate is a DSSE v1 envelope around an in-toto Statement v1. This script checks it with
the Python `cryptography` package only: it rebuilds the DSSE pre-authentication encoding (PAE),
verifies the signature with the auditor's SPKI PEM public key (ECDSA P-256/SHA-256, DER or raw
r||s; or ML-DSA-65 with an empty context), and prints the statement.

    python3 scripts/dsse_verify.py CERT PUBLIC_KEY_PEM [--statement]

Exit 0 when a signature verifies, 1 when none does or the envelope is malformed.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def keyid(key) -> str:
    """RFC 7638 thumbprint (P-256) or the thumbprint of the AKP JWK (ML-DSA-65)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        n = key.public_numbers()
        jwk = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (
            b64url(n.x.to_bytes(32, "big")),
            b64url(n.y.to_bytes(32, "big")),
        )
    else:
        jwk = '{"alg":"ML-DSA-65","kty":"AKP","pub":"%s"}' % b64url(key.public_bytes_raw())
    return b64url(hashlib.sha256(jwk.encode()).digest())


def b64(s: str) -> bytes:
    raw = base64.b64decode(s, validate=True)
    if base64.b64encode(raw).decode() != s:
        raise ValueError("non-canonical base64")
    return raw


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], "rb") as f:
            env = json.loads(f.read(), object_pairs_hook=_no_duplicates)
        with open(sys.argv[2], "rb") as f:
            key = serialization.load_pem_public_key(f.read())
        if set(env) != {"payloadType", "payload", "signatures"}:
            raise ValueError("unexpected envelope members")
        if env["payloadType"] != "application/vnd.in-toto+json":
            raise ValueError("wrong payloadType")
        payload = b64(env["payload"])
        message = pae(env["payloadType"], payload)
        ok = False
        expected_keyid = keyid(key)
        for s in env["signatures"]:
            if set(s) - {"keyid", "sig"}:
                raise ValueError("unexpected signature members")
            if s.get("keyid", expected_keyid) != expected_keyid:
                continue  # a signature by another key
            sig = b64(s["sig"])
            try:
                if isinstance(key, ec.EllipticCurvePublicKey):
                    if len(sig) == 64:
                        sig = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
                    key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
                else:
                    key.verify(sig, message)  # ML-DSA-65, empty context
                ok = True
            except InvalidSignature:
                print("a signature does not verify", file=sys.stderr)
                return 1
        if not ok:
            return 1
        statement = json.loads(payload, object_pairs_hook=_no_duplicates)
        if statement.get("_type") != "https://in-toto.io/Statement/v1":
            raise ValueError("not an in-toto Statement v1")
    except (ValueError, KeyError, TypeError) as e:
        print(f"malformed certificate: {e}", file=sys.stderr)
        return 1
    print("OK: DSSE signature verifies; statement", statement["predicateType"])
    if "--statement" in sys.argv:
        print(json.dumps(statement, indent=2))
    return 0


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate member")
    return dict(pairs)


if __name__ == "__main__":
    sys.exit(main())
