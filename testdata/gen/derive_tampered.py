"""Derives tampered copies of the genuine samples for the README and the fixture suite.

Each derivation is one named edit of a byte-exact copy of a genuine export; nothing is re-signed
or re-linked, so the tampering is what an editor without the producer's key could do.
Run from the repository root: python3 testdata/gen/derive_tampered.py (standard library only).
"""
import json
from pathlib import Path

AAT = Path("testdata/aat")


def edit_tool_name(lines):
    # Record 4 (line 5) of spec10: a tool call's tool_name changed after the fact.
    record = json.loads(lines[4])
    record["action_detail"]["tool_name"] = "delete_all_bookings"
    lines[4] = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    return lines


def main():
    src = (AAT / "ok--spec10.jsonl").read_text(encoding="utf-8").splitlines()
    out = edit_tool_name(list(src))
    (AAT / "fail--spec10-edited-record-4.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
