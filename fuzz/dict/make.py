#!/usr/bin/env python3
"""Writes fuzz/dict/common.dict, the libFuzzer dictionary fuzz/run.sh passes to every target.

Numbers at the edges of u64, i64, f64 and the RFC 8785 integer range; JSON escapes and
encodings; JSON tokens; the member names and string values of the built-in formats, taken from
the string literals of src/ (quoted as JSON member names and bare); key, syslog and note tokens.
Run from anywhere: python3 fuzz/dict/make.py
"""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = [
    "src/profile/aat.rs", "src/sig.rs", "src/epoch.rs", "src/chain.rs", "src/profile/asqav.rs",
    "src/profile/agt.rs", "src/cert.rs", "src/keys.rs", "src/keys/json.rs",
    "src/checkpoint/json.rs", "src/checkpoint/note.rs",
] + sorted(glob.glob("src/profile/asqav/*.rs", root_dir=ROOT)) + sorted(
    glob.glob("src/profile/builtin/*", root_dir=ROOT))

EDGES = [
    "0", "-0", "1", "-1", "0.0", "1e400", "-1e400", "1E-400", "4294967295", "4294967296",
    "9007199254740991", "9007199254740992", "9007199254740993", "-9007199254740992",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "340282366920938463463374607431768211456",
    "5e-324", "1.7976931348623157e308", "NaN", "Infinity", "-Infinity",
]
# Written as libFuzzer escapes: \\ is a backslash, \" a quote, \xNN a byte.
ESCAPES = [
    r"\\u0000", r"\\ud800", r"\\udc00", r"\\ud83d\\ude00", r"\\\"", r"\\\\", r"\\/", r"\\n",
    r"\\u00e9", r"\xef\xbb\xbf", r"\xc3\xa9", r"\xed\xa0\x80", r"\xff", r"\x00", r"\x0d\x0a", r"\x0d",
]
TOKENS = ["{", "}", "[", "]", ":", ",", "true", "false", "null", r"\"\"", "{}", "[]"]
EXTRA = [
    "-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----",
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", "MCowBQYDK2VwAyEA", "<13>1 ", "<14>", " - - - ",
    r"\xe2\x80\x94 ", "lifecycle", "session_end", "session_start", "ES256", "ML-DSA-65",
    "Ed25519", "EdDSA", "none", "P-256", "P-384", "secp256k1", "OKP", "EC", "AKP", "RSA",
    "sha256:", "hmac-sha256",
]


def main():
    names = set()
    for rel in SOURCES:
        path = os.path.join(ROOT, rel)
        if not os.path.isfile(path):
            continue
        text = open(path, encoding="utf-8").read()
        for m in re.findall(r'"([a-zA-Z_][a-zA-Z0-9_.:-]{1,40})"', text):
            if not m.startswith(("AUDIT_", "CARGO_")) and not m.endswith(".json"):
                names.add(m)
    entries = EDGES + ESCAPES + TOKENS
    for n in sorted(names):
        entries += [r"\"" + n + r"\"", n]
    entries += EXTRA
    lines = [
        "# libFuzzer dictionary for every target, written by fuzz/dict/make.py (do not edit).",
    ]
    seen = set()
    for e in entries:
        if e not in seen:
            seen.add(e)
            lines.append('"' + e + '"')
    with open(os.path.join(ROOT, "fuzz/dict/common.dict"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(seen)} entries")


if __name__ == "__main__":
    main()
