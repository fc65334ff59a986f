"""Generates the Microsoft AGT fixtures under testdata/agt/ (ok--gen-*) with the toolkit's own
packages as libraries, and checks them with the toolkit's own verifiers.

Packages: agent-governance-toolkit-core 5.0.0 (`agentmesh.governance.audit.AuditLog`,
`agentmesh.governance.audit_backends.FileAuditSink` / `HashChainVerifier`) and
agent-governance-toolkit-protocols 5.0.0 (`mcp_receipt_governed.McpReceiptAdapter`,
`verify_receipt_chain`), PyPI, MIT.

* ok--gen-audit-export.json: `AuditLog.export()` of 64 entries (several agents and event types,
  all four outcomes, non-ASCII and float data, entries with trace ids, spec 4.3.1 fields),
  written as the interop sample is: `json.dump(export, indent=1, default=str)`.
* ok--gen-filesink-rotated.jsonl: the same AuditLog's `FileAuditSink` (HMAC-SHA256 under
  keys/agt-gen-hmac-key.txt, `max_file_size=12000`): the sink rotates three times, renaming the
  full file to `<stem>.<UTC YYYYmmddHHMMSS>.jsonl` and restarting its chain at "". The fixture
  is the rotated segments and the live file concatenated in the order they were written
  (every line byte-exact as the sink wrote it).
* ok--gen-mcp-receipts.json: `ReceiptStore.export()` of 30 MCP receipts from two
  `McpReceiptAdapter`s (two sessions) sharing one store, Ed25519 under the TEST-ONLY seed
  0x22 * 32 (public key keys/agt-mcp-gen.pub.hex); one tool raises inside
  `govern_and_execute`, so its receipt carries an `error` (set after signing, outside the
  signature). Written with `json.dump(..., indent=2)`.

AGT takes entry ids, receipt ids and times from uuid4 and the clock, so the bytes differ on every
run (the verdicts do not); the committed files are kept unless --regen is given. The sink
rotates on a one-second clock: the script waits for the next second before a write that rotates
(two rotations within one second overwrite the earlier segment, see docs/formats.md).

Run from the repository root: /work/venv/bin/python testdata/gen/gen_agt.py --regen
"""

import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from agentmesh.governance.audit import AuditLog
from agentmesh.governance.audit_backends import FileAuditSink, HashChainVerifier
from mcp_receipt_governed import McpReceiptAdapter
from mcp_receipt_governed.receipt import GovernanceReceipt, ReceiptStore, verify_receipt_chain

OUT = Path("testdata/agt")
HMAC_KEY = Path("testdata/keys/agt-gen-hmac-key.txt")
MCP_PUB = Path("testdata/keys/agt-mcp-gen.pub.hex")
SECRET = b"agt-fixture-hmac-secret-TEST-ONLY-0042"
MCP_SEED = "22" * 32
MAX_FILE = 12000

EVENTS = [
    ("tool_invocation", "tool_call"),
    ("policy_evaluation", "evaluate"),
    ("tool_blocked", "tool_call"),
    ("trust_handshake", "handshake"),
    ("agent_verified", "verify"),
    ("policy_violation", "tool_call"),
]
OUTCOMES = ["success", "success", "denied", "success", "failure", "success", "error", "success"]


def audit(tmp: Path) -> tuple[dict, list[Path]]:
    for k in ("SANDBOX_ID", "OPENSHELL_SANDBOX_ID", "AGT_ENVIRONMENT", "OPENSHELL_COMPUTE_DRIVER"):
        os.environ.pop(k, None)
    live = tmp / "audit.jsonl"
    sink = FileAuditSink(live, secret_key=SECRET, max_file_size=MAX_FILE)
    log = AuditLog(sink=sink)
    for i in range(64):
        event, action = EVENTS[i % len(EVENTS)]
        outcome = OUTCOMES[i % len(OUTCOMES)]
        data = {"i": i, "query": f"q{i}", "note": "café ünïcode ✓", "score": round(0.1 * i, 3)}
        if i % 9 == 4:
            data["nested"] = {"path": ["a", "b", i], "ok": i % 2 == 0, "none": None}
        if i % 16 == 5:
            data["emoji"] = "\U0001F512 lock"
        kwargs = {}
        if i % 10 == 3:
            kwargs = {"policy_version": "v3.1", "arguments_hash": f"sha256:{i:064x}",
                      "approver_did": "did:mesh:approver-1"}
        if live.exists() and live.stat().st_size >= MAX_FILE:
            # The sink names rotated files by the second: wait for a new one.
            time.sleep(1.05 - (time.time() % 1.0))
        log.log(
            event_type=event,
            agent_did=f"did:mesh:agent-{i % 3 + 1}",
            action=action,
            resource=f"resource:{i}",
            data=data,
            outcome=outcome,
            policy_decision="deny" if outcome == "denied" else "allow",
            trace_id=f"trace-{i // 8}",
            **kwargs,
        )
    segments = sorted(p for p in tmp.glob("audit.*.jsonl")) + [live]
    print("AuditLog verify_integrity:", log.verify_integrity())
    return log.export(), segments


def mcp() -> list[dict]:
    policy = '''
permit(principal, action == Action::"ReadData", resource);
permit(principal, action == Action::"SearchIndex", resource);
permit(principal, action == Action::"Summarise", resource);
forbid(principal, action == Action::"DeleteFile", resource);
'''
    store = ReceiptStore()
    a = McpReceiptAdapter(cedar_policy=policy, cedar_policy_id="policy:mcp-fixture:v2",
                          signing_key_hex=MCP_SEED, store=store, session_id="sess-fixture-a")
    b = McpReceiptAdapter(cedar_policy=policy, cedar_policy_id="policy:mcp-fixture:v2",
                          signing_key_hex=MCP_SEED, store=store, session_id="sess-fixture-b")

    def failing_tool(**_kw):
        raise RuntimeError("disk quota exceeded")

    for i in range(30):
        adapter = a if i < 18 else b
        tool = ["ReadData", "SearchIndex", "DeleteFile", "Summarise", "ReadData"][i % 5]
        args = {"path": f"/data/{i}.csv", "query": f"prix {i} €"} if i % 4 else {}
        if i == 11:
            adapter.govern_and_execute("did:mesh:agent-2", "ReadData", failing_tool, args)
        else:
            adapter.govern_tool_call(f"did:mesh:agent-{1 + i % 2}", tool, args)
    errors = verify_receipt_chain(store.query(), trusted_keys=[public_hex()])
    print("mcp verify_receipt_chain:", errors or "ok")
    return store.export()


def public_hex() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    sk = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(MCP_SEED))
    return sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def main() -> None:
    targets = [OUT / "ok--gen-audit-export.json", OUT / "ok--gen-filesink-rotated.jsonl",
               OUT / "ok--gen-mcp-receipts.json"]
    if all(t.exists() for t in targets) and "--regen" not in sys.argv:
        print("the AGT fixtures exist; pass --regen to remake them")
        return
    HMAC_KEY.write_bytes(SECRET)
    MCP_PUB.write_text(public_hex())
    with tempfile.TemporaryDirectory() as d:
        export, segments = audit(Path(d))
        with open(targets[0], "w", encoding="utf-8") as f:
            json.dump(export, f, indent=1, default=str)
        for seg in segments:
            ok, errs = HashChainVerifier().verify_file(seg, SECRET)
            print(f"HashChainVerifier {seg.name}: {ok} {errs}")
        targets[1].write_bytes(b"".join(s.read_bytes() for s in segments))
        print(f"segments: {[sum(1 for _ in open(s)) for s in segments]}")
    with open(targets[2], "w", encoding="utf-8") as f:
        json.dump(mcp(), f, indent=2)
    print(f"exported {export['entry_count']} entries, merkle_root {export['merkle_root']}")


if __name__ == "__main__":
    main()
