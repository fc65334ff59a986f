"""Generates testdata/agent-receipts/ok--sdk-chain.jsonl with the Agent Receipts Python SDK.

Package: agent-receipts 0.12.0 (PyPI, Apache-2.0), used as a library; protocol v0.5.0.
A 4-receipt chain signed with a test-only Ed25519 key from the fixed seed 0x33 * 32, the issuer
and verificationMethod being that key's did:key; the last receipt is terminal. The SDK fills
receipt ids, action ids and issuanceDate from uuid4 and the clock, so the bytes differ on every
run (the verdict does not); the committed file is kept unless --regen is given.

Run from the repository root: /work/venv/bin/python testdata/gen/gen_agent_receipts.py --regen
"""

import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding, NoEncryption, PrivateFormat, PublicFormat)

from agent_receipts import (ActionInput, CreateReceiptInput, create_receipt, hash_receipt,
                            sign_receipt, verify_chain)
from agent_receipts.receipt.types import Chain, Issuer, Outcome, Principal

OUT = Path("testdata/agent-receipts/ok--sdk-chain.jsonl")
PUB = Path("testdata/keys/agent-receipts-demo.pub.pem")

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def did_key(raw: bytes) -> str:
    data = b"\xed\x01" + raw
    n = int.from_bytes(data, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "did:key:z" + s


def main() -> None:
    if OUT.exists() and "--regen" not in sys.argv:
        print(f"{OUT} exists; pass --regen to remake it")
        return
    sk = Ed25519PrivateKey.from_private_bytes(bytes([0x33]) * 32)
    raw = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    did = did_key(raw)
    vm = f"{did}#{did.removeprefix('did:key:')}"
    priv_pem = sk.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    PUB.write_bytes(sk.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    receipts = []
    prev = None
    for i in range(4):
        unsigned = create_receipt(CreateReceiptInput(
            issuer=Issuer(id=did, name="demo agent"),
            principal=Principal(id="did:example:auditor"),
            action=ActionInput(type="filesystem.file.read", risk_level="low"),
            outcome=Outcome(status="success"),
            chain=Chain(sequence=i + 1, previous_receipt_hash=prev, chain_id="chain-demo-1",
                        terminal=True if i == 3 else None),
            action_timestamp=f"2026-11-01T12:00:0{i}.000Z",
            terminal=(i == 3),
        ))
        signed = sign_receipt(unsigned, priv_pem, vm)
        receipts.append(signed)
        prev = hash_receipt(signed)
    pub_pem = sk.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    result = verify_chain(receipts, pub_pem)
    assert result.valid, result
    # One receipt per line as the SDK's write-ahead log writes them (model_dump_json(by_alias=True):
    # optional members present as null, which the canonical form drops).
    OUT.write_text("".join(r.model_dump_json(by_alias=True) + "\n" for r in receipts))
    print(f"wrote {OUT} ({len(receipts)} receipts), SDK verify_chain: valid")


if __name__ == "__main__":
    main()
