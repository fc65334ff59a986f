#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into corpus/<target>/ from testdata/.

Deterministic: the same testdata gives the same seeds. The certificate seeds need a certificate
(pass --cert PATH, e.g. one written by `audit-verify verify ... --certificate`); without it the
cert corpus gets only hand-written statements. Run `cargo fuzz cmin` afterwards to shrink.
"""
import base64, gzip, hashlib, json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
TD = os.path.join(HERE, "..", "testdata")


def read(rel):
    with open(os.path.join(TD, rel), "rb") as f:
        return f.read()


CORPUS = os.path.join(HERE, "corpus")  # where put writes; seeds_variants.py may point it elsewhere


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def lines(rel):
    return [l for l in read(rel).decode().split("\n") if l.strip()]


def syslog(ls, style):
    out = []
    for i, l in enumerate(ls):
        ts = "2026-10-01T12:00:%02d.000Z" % (i % 60)
        if style == "msg":
            out.append("<14>1 %s agent-host aat-recorder 4242 AUDIT - %s" % (ts, l))
        elif style == "bom":
            out.append('<14>1 %s agent-host aat-recorder - - [meta@32473 seq="%d"] \ufeff%s' % (ts, i, l))
        elif style == "sd":
            e = l.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")
            out.append('<14>1 %s agent-host aat-recorder - AUDIT [aat@32473 record="%s"]' % (ts, e))
        elif style == "3164":
            out.append("<14>Oct  1 12:00:%02d agent-host aat: %s" % (i % 60, l))
    return out


def csv_text(ls):
    recs = [json.loads(l) for l in ls]
    cols = []
    for r in recs:
        for k in r:
            if k not in cols:
                cols.append(k)
    def cell(v):
        if v is None:
            return ""
        s = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), ensure_ascii=False)
        if any(c in s for c in ',"\n\r'):
            s = '"' + s.replace('"', '""') + '"'
        return s
    rows = [",".join(cols)] + [",".join(cell(r.get(c)) for c in cols) for r in recs]
    return "\n".join(rows) + "\n"


MAX_LEN = 8192  # the largest input the corpora keep (their -max_len)
MAX_INPUT = 8000  # an export cut to fit an input, with room for byte 0 and a little more


def arrays(v, path=()):
    """Every non-empty array of objects in a JSON value, with its path."""
    if isinstance(v, list) and v and all(isinstance(e, dict) for e in v):
        yield path, v
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
    for k, e in items:
        yield from arrays(e, path + (k,))


def with_array(doc, path, arr):
    """A copy of doc with the array at path replaced by arr."""
    if not path:
        return arr
    copy = json.loads(json.dumps(doc))
    holder = copy
    for k in path[:-1]:
        holder = holder[k]
    holder[path[-1]] = arr
    return copy


def shortened(raw):
    """The export cut to fit one input, still well formed: whole lines of JSON Lines; in a JSON
    document, its longest array of objects cut to the elements that fit (bundle-level digests
    and counts then disagree, which the verifier reports)."""
    if len(raw) <= MAX_INPUT:
        return raw
    try:
        doc = json.loads(raw)
    except ValueError:
        out = b""
        for l in raw.split(b"\n"):
            if len(out) + len(l) + 1 > MAX_INPUT:
                break
            out += l + b"\n"
        return out or None

    found = sorted(arrays(doc), key=lambda pv: -len(json.dumps(pv[1])))
    if not found:
        return None
    path, arr = found[0]
    for n in range(len(arr) - 1, 0, -1):
        cut = with_array(doc, path, arr[:n])
        out = json.dumps(cut, ensure_ascii=False, separators=(",", ":")).encode()
        if len(out) <= MAX_INPUT:
            return out
    return None


def other_formats():
    """Every export of the other formats (AGT, asqav, Agent Receipts) for the whole run, with
    the container detected (byte 0 = 0), as only the AAT exports are expanded above."""
    for d in ("agt", "asqav", "agent-receipts"):
        for f in sorted(os.listdir(os.path.join(TD, d))):
            if f.endswith((".json", ".jsonl")):
                cut = shortened(read(d + "/" + f))
                if cut:
                    put("verify_run", b"\x00" + cut)


def cert_arg():
    """The certificate named by --cert PATH, or None without the option."""
    if "--cert" not in sys.argv:
        return None
    with open(sys.argv[sys.argv.index("--cert") + 1], "rb") as f:
        return f.read()


def main():
    cert = cert_arg()
    exports = sorted(f for f in os.listdir(os.path.join(TD, "aat")) if f.endswith(".jsonl"))
    for f in exports:
        raw = read("aat/" + f)
        ls = lines("aat/" + f)
        put("jsonl_record", raw)
        put("verify_run", b"\x00" + raw)
        for l in ls[:3]:
            put("canon_jcs", l.encode())
        if f in ("ok--gen-es256-seq.jsonl", "ok--spec10-merkle.jsonl", "ok--gen-hybrid.jsonl"):
            arr = ("[\n" + ",\n".join(ls) + "\n]\n").encode()
            bundle = ('{\n"export": {"producer": "test"},\n"records": [\n' + ",\n".join(ls) + "\n]\n}\n").encode()
            put("json_array", arr)
            put("json_array", bundle)
            put("verify_run", b"\x00" + arr)
            put("verify_run", b"\x02" + bundle)
            put("verify_run", b"\x80" + raw)
            put("verify_run", b"\x38" + raw)
            put("verify_run", b"\x40" + raw)
            for style in ("msg", "bom", "sd", "3164"):
                text = ("\n".join(syslog(ls, style)) + "\n").encode()
                put("syslog", text)
                put("verify_run", b"\x03" + text)
            octets = "".join("%d %s\n" % (len(m.encode()), m) for m in syslog(ls, "msg")).encode()
            put("syslog", octets)
            put("verify_run", b"\x00" + octets)
            c = csv_text(ls).encode()
            put("csv", c)
            put("verify_run", b"\x04" + c)
    put("csv", b"record_id,timestamp,session_id,prev_hash,action_detail,sequence_number\nr1,2026-10-01T12:00:00Z,s,,\"{\"\"event\"\":\"\"x\"\"}\",0\n")
    for m in syslog(lines("aat/ok--gen-es256-seq.jsonl")[:2], "sd"):
        put("syslog", m.encode())

    for tok in ["0", "-0", "1", "-1.5e-7", "1e21", "1e-7", "123456789012345678", "9007199254740991",
                "9007199254740992", "1E400", "5e-324", "1.7976931348623157e308", "0.1", "100", "-0.0"]:
        put("jcs_number", tok.encode())
    for v in [0.0, -0.0, 1e21, 1e-7, 5e-324, 2.0 ** 53, 1 / 3]:
        put("jcs_number", struct.pack("<d", v))
    for doc in [b'{"b":[1,true,null,"\\u00e9\\ud83d\\ude02"],"a":{"\\u0061":-0}}', b'[1e400]',
                b'{"a":1,"a":2}', b'"\\ud800"', b'[' * 130 + b']' * 130, b'{"\xe2\x82\xac":"\x7f","\\n":[]}']:
        put("canon_jcs", doc)

    keydir = []
    for f in sorted(os.listdir(os.path.join(TD, "keys"))):
        p = os.path.join("keys", f)
        if os.path.isfile(os.path.join(TD, p)):
            put("keys", read(p))
            keydir.append(read(p))
    put("keys", read("keys/test-only/agent-es256.pem"))
    put("keys", (read("keys/gen-agent.pub.pem") + read("keys/gen-mldsa65.pub.pem")))
    put("keys", b"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".hex().encode()[:64])
    put("key_dir", b"\n%%\n".join(keydir[:4]))
    put("key_dir", b"\x01" + b"\n%%\n".join(keydir[4:8]))

    for f in sorted(os.listdir(os.path.join(TD, "checkpoints"))):
        data = read("checkpoints/" + f)
        put("checkpoint", data)

    for _ in range(1):
        put("merkle", bytes(range(256)))
        put("merkle", b"\x05" + b"\x00" * 7 + b"\x0c" + b"\x00" * 7 + bytes(range(200)))

    # Profile files: each built-in and the documented example, followed by an export it reads.
    root = os.path.join(HERE, "..")
    def text(rel):
        with open(os.path.join(root, rel), "rb") as f:
            return f.read()
    for prof, export in [("src/profile/builtin/asqav.toml", "asqav/ok--gen-receipts.jsonl"),
                         ("src/profile/builtin/agt-filesink.toml", "agt/ok--gen-filesink-rotated.jsonl"),
                         ("src/profile/builtin/agt-audit.toml", "agt/ok--gen-audit-export.json"),
                         ("src/profile/builtin/agt-cloudevents.toml", "agt/ok--interop-audit-cloudevents.json"),
                         ("src/profile/builtin/agt-mcp.toml", "agt/ok--gen-mcp-receipts.json"),
                         ("src/profile/builtin/aat.toml", "aat/ok--gen-es256-seq.jsonl"),
                         ("docs/profiles/agent-receipts.toml", "agent-receipts/ok--sdk-chain.jsonl")]:
        body = b"\n".join(read(export).split(b"\n")[:6])
        put("profile_file", text(prof) + b"\n%%\n" + body)

    other_formats()

    if cert:
        put("cert", b"\x00" + cert)
        payload = base64.b64decode(json.loads(cert)["payload"])
        put("cert", b"\x01" + payload)
    put("cert", b'\x01{"_type":"https://in-toto.io/Statement/v1","predicateType":"urn:audit-verify:predicate:verification:v1","subject":[],"predicate":{}}')


if __name__ == "__main__":
    main()
