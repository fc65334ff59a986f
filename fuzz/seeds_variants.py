#!/usr/bin/env python3
"""Structured seeds: the variants a byte-level mutator reaches slowly, written out.

profile_file: every profile (the built-ins and the documented example) followed by every export
of its format, one record per line (the records of a JSON document flattened to compact lines),
then
  - the profile with one setting changed: each other value of an enumerated setting, a boolean
    flipped, a table or an extension left out, an optional setting added. The known answers are
    dropped from these, as a changed hashing rule would refuse the profile at load;
  - with the first of its exports, the profile with two such one-line changes on different lines;
  - the export with one member of one record (first, second, last; top level and one level
    down) deleted, null, or of another type;
  - shapes, the profile alone: each setting given a value of each TOML type, each table given
    as a value of each type, and each table as an array of its values in declaration order
    (the sequence form a derived deserializer accepts), short of its fields, whole, and with one
    element more (each deserializer's wrong-type and wrong-length paths).
verify_run: the same member variants of every export, whole (byte 0 = 0: the container and
the profile detected), and, of a JSON document cut to fit, each top-level member beside its
records deleted or of each type and each optional bundle member (BUNDLE_MEMBERS) that is absent
added with a value of each type (an Audit Pack's signed projection and bundle checks).
key_dir: the fixture keys in two files of one directory, and key sets with an entry repeated,
its kid removed, changed or taken from another key, and its status and revocation time set to
each value, in one file or differing between two (the merging and de-duplication of a ring),
and entries that carry a key twice, as JWK members and as an asqav public_key.
keys: the same key sets in one JWKS file, and the entries that carry a key twice.

jsonl_record, checkpoint and cert: records, JSON checkpoints and a certificate's statement with
one member changed (the statement with --cert PATH, a certificate written by
`audit-verify verify --certificate`), and for cert the statement with its first subject, or each,
naming the harness's empty input.
jsonl_record and cert, shapes: records whose timestamp takes each form a date parser tells apart,
records with many members more (a long member list to sort), and a certificate's statement and
envelope with one object given as an array of its values (the sequence form a derived
deserializer accepts), the envelope with one member changed, and both with the keys of one
object escaped (matched only after unescaping) or one key written twice.
cert, syntax: the statement and the envelope cut after each `{`, `[`, `:` and `,`, spread with
whitespace around every token, with one element more of each type in an array, and with a
comma after the last element or member of an array or object (every deserializer's end-of-input,
whitespace, wrong-element and trailing-comma paths).

Deterministic. Writes into corpus/<target>/ (or OUT/<target>/ with an argument); run
`cargo fuzz cmin` afterwards, which keeps only the variants that add coverage.
"""
import base64
import hashlib
import json
import os
import re
import sys

import seeds
from seeds import HERE, MAX_INPUT, MAX_LEN, TD, arrays, cert_arg, read, shortened, with_array

ROOT = os.path.join(HERE, "..")

# Profile -> the testdata exports of its format.
PAIRS = [
    ("src/profile/builtin/aat.toml", "aat", r"\.jsonl$"),
    ("src/profile/builtin/asqav.toml", "asqav", r"\.jsonl?$"),
    ("src/profile/builtin/agt-filesink.toml", "agt", r"filesink.*\.jsonl$"),
    ("src/profile/builtin/agt-audit.toml", "agt", r"audit-export\.json$|merkle-proof"),
    ("src/profile/builtin/agt-cloudevents.toml", "agt", r"cloudevents\.json$"),
    ("src/profile/builtin/agt-mcp.toml", "agt", r"mcp-receipts\.json$"),
    ("docs/profiles/agent-receipts.toml", "agent-receipts", r"\.jsonl$"),
]

# The enumerated settings of a profile (docs/profiles.md): a value of one family is replaced by
# each other value of it.
FAMILIES = [
    ["jcs", "asqav-jcs", "asqav-legacy", "py-compact-utf8", "py-compact-ascii", "py-default"],
    ["hex", "sha256-hex", "base64url", "base64", "multibase"],
    ["null", "empty", "zeros"],
    ["rfc3339", "py-datetime", "epoch-seconds"],
    ["ES256", "Ed25519", "ML-DSA-65", "HMAC-SHA256"],
    ["canonical", "hash-text", "hash"],
    ["ring", "did-key"],
    ["fail", "segment"],
]
EXTENSIONS = [
    "asqav.keys", "asqav.payload_digest", "asqav.outer_copies", "asqav.flat_receipts",
    "asqav.audit_pack", "asqav.compliance_bundle", "asqav.structure", "asqav.counterparty",
    "agt.export", "agt.proof",
]
# Optional settings, added to their table when it is there and they are not.
ADDITIONS = {
    "chain": ['restart = "segment"', 'restart = "fail"', 'id = ["chain_id", "session_id"]'],
    "record_id": ["unique = false", "unique = true"],
    "signature": ["lenient_base64 = true", 'kid = "kid"', 'kid_match = "did-key"',
                  'algorithm_field = "alg"', 'embedded_key = "public_key"',
                  'expect = { "proof.type" = "Ed25519Signature2020" }'],
    "sequence": ["optional = true", "start = 1"],
    "hash": ["drop_null = true", 'render = { timestamp = "py-isoformat" }', 'view = "agt-cloudevent"'],
}
TYPES = [None, 1, -1.5, "", "x", True, [], {}]
# The optional top-level members of an asqav Audit Pack or ComplianceBundle that the verifier reads
# (shared/formats/asqav.md: the signed projection's members and the bundle fields).
BUNDLE_MEMBERS = [
    "organization_id", "start", "end", "agent_id", "only_compliance", "algorithm_registry_version",
    "receipt_count", "revocation_manifest", "regime_mapping", "content_disclosure",
    "regime_mapping_disclaimer", "regime_provenance", "jwks", "exit_manifest", "tsa_trust",
    "attested_framework_coverage", "bundle_digest", "bundle_signature", "bundle_public_key",
    "bundle_signature_algorithm", "receipt_hashes", "merkle_root",
]
# A value of each TOML type, for the shape variants of a profile.
TOML_TYPES = ['"x"', '""', "0", "-1", "1.5", "true", "1979-05-27T07:32:00Z", "[]", '["x"]', "[1]",
              "[[]]", "[{}]", "{}", "{ x = 1 }"]
# The fields of each table of a profile in declaration order (src/profile/spec.rs), with a value
# for those the profile does not set: the sequence form of a table lists them all.
FIELDS = {
    "detect": [("require", "[]"), ("forbid", "[]"), ("or_require", "[]")],
    "chain": [("id", "[]"), ("name", '"chain"'), ("restart", '"fail"')],
    "record_id": [("field", '"id"'), ("unique", "false")],
    "hash": [("dialect", '"jcs"'), ("member", '"payload"'), ("members", '["a"]'), ("omit_null", "[]"),
             ("exclude", "[]"), ("drop_null", "false"), ("keep_null", "[]"),
             ("view", '"agt-cloudevent"'), ("render", "{}"), ("encoding", '"hex"'),
             ("claimed", '"hash"')],
    "link": [("field", '"prev"'), ("genesis", '"null"'), ("encoding", '"hex"')],
    "sequence": [("field", '"seq"'), ("start", "0"), ("optional", "false")],
    "time": [("field", '"ts"'), ("format", '"rfc3339"')],
    "signature": [("value", '"sig"'), ("encoding", '"base64"'), ("lenient_base64", "false"),
                  ("algorithm", '"ES256"'), ("algorithm_field", '"alg"'), ("signs", '"canonical"'),
                  ("kid", '"kid"'), ("kid_match", '"ring"'), ("embedded_key", '"pk"'),
                  ("expect", "{}")],
    "terminal": [("field", '"end"'), ("equals", "true")],
    "known_answer": [("name", '"n"'), ("record", '"{}"'), ("canonical", '"{}"'), ("hash", '"00"')],
}


def put(target, data):
    """seeds.put, for inputs that fit the corpora's largest input: a merge with -max_len would
    cut longer ones, mid-token."""
    if len(data) <= MAX_LEN:
        seeds.put(target, data)


def parsed_lines(raw):
    out = []
    for l in raw.decode("utf-8", "replace").split("\n"):
        try:
            v = json.loads(l)
        except ValueError:
            continue
        if isinstance(v, dict):
            out.append(v)
    return out


def record_array(doc):
    """The path and elements of a JSON document's longest array of objects, or None."""
    return max(arrays(doc), key=lambda pv: len(pv[1]), default=None)


def records(rel):
    """The export's records: its lines, or the longest array of objects of a JSON document, or
    the document itself when it is one object."""
    raw = read(rel)
    try:
        doc = json.loads(raw)
    except ValueError:
        return parsed_lines(raw)
    found = record_array(doc)
    if found:
        return found[1]
    return [doc] if isinstance(doc, dict) else []


def line(rec):
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":"))


def profile_input(profile, recs):
    """A profile_file input: the profile text, then as many whole records as fit, one per line."""
    out = profile.encode() + b"\n%%\n"
    for i, r in enumerate(recs):
        text = (b"\n" if i else b"") + line(r).encode()
        if len(out) + len(text) > MAX_INPUT:
            break
        out += text
    return out


def without_known_answers(text):
    kept, skipping = [], False
    for l in text.split("\n"):
        if l.startswith("[[known_answer]]"):
            skipping = True
            continue
        if l.startswith("[") and not l.startswith("[[known_answer]]"):
            skipping = False
        if not skipping:
            kept.append(l)
    return "\n".join(kept)


def profile_edits(ls):
    """The one-setting changes of a profile's lines, each as (start, end, lines): ls[start:end]
    replaced by lines."""
    for i, l in enumerate(ls):
        m = re.match(r'^(\s*\w+\s*=\s*)"([^"]*)"(.*)$', l)
        if m:
            for fam in FAMILIES:
                if m.group(2) in fam:
                    for other in fam:
                        if other != m.group(2):
                            yield i, i + 1, [m.group(1) + '"' + other + '"' + m.group(3)]
        for a, b in (("true", "false"), ("false", "true")):
            if re.search(r"=\s*" + a + r"\b", l):
                yield i, i + 1, [l.replace(a, b, 1)]
        if l.startswith("extensions"):
            names = re.findall(r'"([^"]+)"', l)
            for n in names:
                rest = [x for x in names if x != n]
                yield i, i + 1, ["extensions = [" + ", ".join('"%s"' % x for x in rest) + "]"]
        if re.match(r"^\[\w+\]$", l):
            table = l[1:-1]
            end = next((j for j in range(i + 1, len(ls)) if ls[j].startswith("[")), len(ls))
            yield i, end, []
            for add in ADDITIONS.get(table, []):
                key = add.split("=")[0].strip()
                if not any(x.split("=")[0].strip() == key for x in ls[i + 1:end]):
                    yield i + 1, i + 1, [add]
    if not any(l.startswith("extensions") for l in ls):
        at = next(i for i, l in enumerate(ls) if l.startswith("["))
        for e in EXTENSIONS:
            yield at, at, ['extensions = ["%s"]' % e]


def edited(ls, *edits):
    """The profile text with edits that touch disjoint lines applied (the last one first)."""
    out = list(ls)
    for start, end, lines in sorted(edits, reverse=True):
        out[start:end] = lines
    return "\n".join(out)


def profile_variants(text):
    """The profile without its known answers, then with each one-setting change."""
    ls = without_known_answers(text).split("\n")
    yield "\n".join(ls)
    for e in profile_edits(ls):
        yield edited(ls, e)


def profile_pairs(text):
    """The profile with two one-line changes on different lines (a table left out is not one)."""
    ls = without_known_answers(text).split("\n")
    edits = [e for e in profile_edits(ls) if e[1] - e[0] <= 1 and e[2]]
    for n, a in enumerate(edits):
        for b in edits[n + 1:]:
            first, second = sorted((a, b))
            if first[1] <= second[0] and first[0] != second[0]:
                yield edited(ls, a, b)


def settings(ls):
    """The settings of a profile's lines, each as (start, end, key, value): a value that opens an
    array runs to the line that closes it."""
    i = 0
    while i < len(ls):
        m = re.match(r"^\s*(\w+)\s*=\s*(.*)$", ls[i])
        if not m:
            i += 1
            continue
        end, depth = i, 0
        while True:
            code = re.sub(r"\"[^\"]*\"|'[^']*'|#.*$", "", ls[end])
            depth += code.count("[") - code.count("]")
            if depth <= 0 or end + 1 == len(ls):
                break
            end += 1
        yield i, end + 1, m.group(1), "\n".join([m.group(2)] + ls[i + 1:end + 1])
        i = end + 1


def tables(ls):
    """The tables of a profile's lines, each as (start, end, name)."""
    for i, l in enumerate(ls):
        m = re.match(r"^\[\[?(\w+)\]\]?$", l)
        if m:
            end = next((j for j in range(i + 1, len(ls)) if ls[j].startswith("[")), len(ls))
            yield i, end, m.group(1)


def uncommented(line):
    """A TOML line without its comment (a `#` in a string stays)."""
    return re.sub(r"(\"[^\"]*\"|'[^']*')|\s*#.*$", lambda m: m.group(1) or "", line)


def sequence_forms(name, lines):
    """A table's sequence forms: its values in declaration order, short of its fields, whole,
    and with one element more."""
    given = {key: " ".join(uncommented(l) for l in value.split("\n"))
             for _, _, key, value in settings(lines)}
    values = [given.get(key, default) for key, default in FIELDS.get(name, [])]
    for n in range(len(values) + 2):
        yield "[" + ", ".join((values + ['"more"'])[:n]) + "]"


def profile_shapes(text):
    """The profile (without its known answers) with one setting given a value of each TOML type,
    with one table given as a value of each type or in its sequence forms, and with the known
    answers (an array of tables) given as a value of each type or as one answer's sequence
    forms."""
    full = text.split("\n")
    ls = without_known_answers(text).split("\n")
    for start, end, key, _ in settings(ls):
        prefix = re.match(r"^\s*", ls[start]).group(0)
        for v in TOML_TYPES:
            yield edited(ls, (start, end, [prefix + key + " = " + v]))
    first = next(i for i, l in enumerate(ls) if l.startswith("["))
    for start, end, name in tables(ls):
        rest = ls[:start] + ls[end:]
        for v in TOML_TYPES + list(sequence_forms(name, ls[start + 1:end])):
            yield "\n".join(rest[:first] + [name + " = " + v] + rest[first:])
    answer = next(((s, e) for s, e, n in tables(full) if n == "known_answer"), None)
    if answer:
        forms = ["[" + f + "]" for f in sequence_forms("known_answer", full[answer[0] + 1:answer[1]])]
        for v in TOML_TYPES + forms:
            yield "\n".join(ls[:first] + ["known_answer = " + v] + ls[first:])


def node_paths(v, depth, kinds, every_element, prefix=()):
    """The paths of the values of the given types (v itself, object members, array elements: the
    first only unless every_element) down to depth."""
    if isinstance(v, kinds):
        yield prefix
    if depth == 0:
        return
    if isinstance(v, dict):
        for k, e in v.items():
            yield from node_paths(e, depth - 1, kinds, every_element, prefix + (k,))
    elif isinstance(v, list):
        for i, e in enumerate(v if every_element else v[:1]):
            yield from node_paths(e, depth - 1, kinds, every_element, prefix + (i,))


def paths_of(v, depth):
    """The paths of the members (object keys, and the first element of arrays) down to depth."""
    return (p for p in node_paths(v, depth, object, False) if p)


def at(doc, path):
    """The value of doc at path (keys and indexes)."""
    for p in path:
        doc = doc[p]
    return doc


def changed(doc, path, change):
    """A copy of doc with the value at path deleted or replaced, or None when it is unchanged."""
    copy = json.loads(json.dumps(doc))
    holder = at(copy, path[:-1])
    if change == "delete":
        del holder[path[-1]]
    elif holder[path[-1]] == change and type(holder[path[-1]]) is type(change):
        return None
    else:
        holder[path[-1]] = change
    return copy


def value_variants(doc, depth):
    for path in paths_of(doc, depth):
        for change in ["delete"] + TYPES:
            out = changed(doc, path, change)
            if out is not None:
                yield out


def member_variants(recs):
    """Copies of the records with one member of one record (the first, second and last; top
    level and one level down) changed."""
    for i in sorted({0, 1, len(recs) - 1} & set(range(len(recs)))):
        for rec in value_variants(recs[i], 2):
            yield recs[:i] + [rec] + recs[i + 1:]


def bundle_variants(doc, records_path):
    """Copies of a JSON document with one top-level member beside its records (at records_path)
    deleted or given each type, and with each absent BUNDLE_MEMBERS member added as each type."""
    if not isinstance(doc, dict):
        return
    for name in doc:
        if records_path[:1] != (name,):
            for change in ["delete"] + TYPES:
                out = changed(doc, (name,), change)
                if out is not None:
                    yield out
    for name in BUNDLE_MEMBERS:
        if name not in doc:
            for value in TYPES:
                yield dict(doc, **{name: value})


def key_dir_variants():
    """Directories (key_dir's parts: a.pem, b.jwks.json, .hidden.pem, README.md, c.key, d.json,
    e.hex, f) that exercise how a ring merges the same key met twice."""
    def k(rel):
        return read("keys/" + rel).decode()

    def jwks(*entries):
        return json.dumps({"keys": list(entries)}, indent=1)

    def dirs(*files):
        # The files go to a.pem, b.jwks.json, c.key, d.json, e.hex (the content decides the
        # format); .hidden.pem and README.md, skipped by the loader, stay empty. The first byte
        # is a newline: its low bit clear, so no dangling link is made and the directory loads.
        places = (0, 1, 4, 5, 6)[:len(files)]
        slots = [""] * (places[-1] + 1)
        for at, text in zip(places, files):
            slots[at] = text
        return ("\n" + "\n%%\n".join(slots)).encode()

    entries = json.loads(k("mcp10.jwks.json"))["keys"] + json.loads(k("spec.jwks.json"))["keys"]
    entries += json.loads(k("asqav-demo.jwks.json"))["keys"]
    entries += [e for e in json.loads(k("asqav-gen.jwks.json"))["keys"] if len(json.dumps(e)) < 600]
    pems = [k(f) for f in ("mcp10.pub.pem", "gen-agent.pub.pem", "agent-receipts-demo.pub.pem")]
    hexes = [k(f) for f in ("agt-mcp-gen.pub.hex", "agt-mcp-signer.pub.hex")]
    statuses = [("active", None), ("revoked", "2026-11-10T10:05:30Z"), ("revoked", None),
                ("suspended", "2026-01-01T00:00:00Z"), ("compromised", None),
                ("decommissioned", None), ("unknown", None), ("bogus", None),
                (None, "2026-11-10T10:05:30Z"), ("revoked", "not a time"), ("revoked", 5)]

    def with_status(e, status, at):
        e = dict(e)
        e.pop("status", None)
        e.pop("revoked_at", None)
        if status is not None:
            e["status"] = status
        if at is not None:
            e["revoked_at"] = at
        return e

    for pem in pems:
        put("key_dir", dirs(pem, pem, k("mcp10.keys.json")))
        for e in entries[:3]:
            put("key_dir", dirs(pem, jwks(e)))
    for h in hexes:
        put("key_dir", dirs(jwks(*entries[:2]), h, h))
    for e in twice_given(entries):
        put("key_dir", dirs(jwks(e)))
        put("key_dir", dirs(jwks(e), pems[0]))
    for i, e in enumerate(entries):
        other = entries[(i + 1) % len(entries)]
        no_kid = {x: v for x, v in e.items() if x != "kid"}
        put("key_dir", dirs(jwks(e, e)))
        put("key_dir", dirs(jwks(e, dict(e, kid="another"))))
        put("key_dir", dirs(jwks(e, dict(other, kid=e.get("kid", "k")))))
        put("key_dir", dirs(jwks(no_kid), jwks(e)))
        put("key_dir", dirs(jwks(e), jwks(no_kid)))
        put("key_dir", dirs(jwks(dict(e, kid=other.get("kid", "k"))), jwks(other)))
        for status, at in statuses:
            put("key_dir", dirs(jwks(with_status(e, status, at))))
            put("key_dir", dirs(jwks(e), jwks(with_status(e, status, at))))
            put("key_dir", dirs(jwks(with_status(e, status, at)), jwks(with_status(e, "revoked", "2025-01-01T00:00:00Z"))))


def twice_given(entries):
    """Entries that give their key both as JWK members and as an asqav public_key: the same key,
    then another."""
    def b64u(text):
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    out = []
    p256 = [e for e in entries if e.get("kty") == "EC"]
    for i, e in enumerate(p256):
        other = p256[(i + 1) % len(p256)]
        for src in (e, other):
            raw = b"\x04" + b64u(src["x"]) + b64u(src["y"])
            out.append(dict(e, public_key=base64.b64encode(raw).decode(), alg="ES256"))
    for e in [e for e in entries if "public_key" in e and e.get("alg") == "Ed25519"]:
        x = base64.urlsafe_b64encode(base64.b64decode(e["public_key"])).decode().rstrip("=")
        out.append(dict(e, kty="OKP", crv="Ed25519", x=x))
        out.append(dict(e, kty="OKP", crv="Ed25519", x=x[::-1]))
    return out


def keys_variants():
    """One JWKS file: an entry repeated, its kid removed, changed or taken from another key, its
    status set to each value, and a key given both as JWK members and as an asqav public_key."""
    def k(rel):
        return json.loads(read("keys/" + rel))["keys"]

    def jwks(*entries):
        return json.dumps({"keys": list(entries)}, indent=1).encode()

    entries = k("mcp10.jwks.json") + k("spec.jwks.json") + k("asqav-demo.jwks.json")
    entries += [e for e in k("asqav-gen.jwks.json") if len(json.dumps(e)) < 600]
    statuses = [("active", None), ("revoked", "2026-11-10T10:05:30Z"), ("revoked", None),
                ("compromised", None), ("bogus", None), (None, "2026-11-10T10:05:30Z"),
                ("revoked", "not a time"), ("revoked", 5)]
    for i, e in enumerate(entries):
        other = entries[(i + 1) % len(entries)]
        no_kid = {x: v for x, v in e.items() if x != "kid"}
        put("keys", jwks(e, e))
        put("keys", jwks(no_kid, e))
        put("keys", jwks(e, no_kid))
        put("keys", jwks(e, dict(e, kid="another")))
        put("keys", jwks(e, dict(other, kid=e.get("kid", "k"))))
        for status, at in statuses:
            changed = {x: v for x, v in e.items() if x not in ("status", "revoked_at")}
            if status is not None:
                changed["status"] = status
            if at is not None:
                changed["revoked_at"] = at
            put("keys", jwks(changed))
            put("keys", jwks(e, changed))
        for member in ("issuer_id", "org_id", "agent_id", "revocation_reason", "use"):
            put("keys", jwks(dict(e, **{member: 5})))
    for e in twice_given(entries):
        put("keys", jwks(e))


def other_variants(cert):
    """jsonl_record: the JSON Lines exports' records with one member changed; checkpoint: the
    JSON checkpoints with one member changed; cert: a certificate's statement with one member
    changed (byte 1: the harness signs it), and with its subjects naming the harness's empty input
(byte 3)."""
    for d in ("aat", "agent-receipts", "asqav", "agt"):
        for f in sorted(os.listdir(os.path.join(TD, d))):
            if f.endswith(".jsonl"):
                recs = parsed_lines(read(d + "/" + f))[:4]
                for c in member_variants(recs):
                    put("jsonl_record", "\n".join(line(r) for r in c).encode() + b"\n")
    for f in sorted(os.listdir(os.path.join(TD, "checkpoints"))):
        if f.endswith(".json"):
            for c in value_variants(json.loads(read("checkpoints/" + f)), 3):
                put("checkpoint", json.dumps(c, indent=1).encode())
    if cert:
        statement = json.loads(base64.b64decode(json.loads(cert)["payload"]))
        for c in value_variants(statement, 4):
            put("cert", b"\x01" + json.dumps(c, separators=(",", ":")).encode())
        # Byte 3: the harness also re-checks an empty input and the certificate file against the
        # subjects; one subject names the empty input by its digest, or each does.
        empty = hashlib.sha256(b"").hexdigest()
        for first_only in (True, False):
            c = json.loads(json.dumps(statement))
            for subject in c.get("subject", [])[:1] if first_only else c.get("subject", []):
                subject["digest"] = {"sha256": empty}
            put("cert", b"\x03" + json.dumps(c, separators=(",", ":")).encode())


# Timestamps in the forms a date parser tells apart: signed and extended years, offsets other
# than Z, RFC 9557 annotations (a time zone, a critical one, a calendar), a space or lower case
# for T and Z, a comma fraction, no seconds, the basic format.
TIMES = ["+002026-10-02T09:00:00Z", "-000001-01-01T00:00:00Z", "2026-10-02T09:00:00+05:30",
         "2026-10-02T09:00:00-00:00", "2026-10-02T09:00:00Z[Europe/Paris]",
         "2026-10-02T09:00:00+01:00[!Europe/Paris]", "2026-10-02T09:00:00Z[u-ca=iso8601]",
         "2026-10-02T09:00:00+01:00[+01:00]", "2026-10-02 09:00:00Z",
         "2026-10-02t09:00:00.123456789z", "2026-10-02T09:00:00,5Z", "2026-10-02T09:00Z",
         "20261002T090000Z"]


def object_paths(v, depth):
    """The paths of the objects (v itself, object members, first array elements) down to depth."""
    return node_paths(v, depth, dict, False)


def as_array(doc, path):
    """A copy of doc with the object at path given as the array of its values, in order: the
    form a derived deserializer also accepts for a struct."""
    copy = json.loads(json.dumps(doc))
    if not path:
        return list(copy.values())
    holder = at(copy, path[:-1])
    holder[path[-1]] = list(holder[path[-1]].values())
    return copy


def dump(v, target, how, here=()):
    """Compact JSON of v in which the object at path target has its keys written with the first
    character escaped (how == "escape", a key the parser must unescape before matching it), or one
    key written twice (how == ("twice", key))."""
    if isinstance(v, dict):
        members = []
        for k, e in v.items():
            key = json.dumps(k)
            if here == target and how == "escape" and k:
                key = '"\\u%04x' % ord(k[0]) + key[2:]
            member = key + ":" + dump(e, target, how, here + (k,))
            members.append(member)
            if here == target and how == ("twice", k):
                members.append(member)
        return "{" + ",".join(members) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dump(e, target, how, here + (i,)) for i, e in enumerate(v)) + "]"
    return json.dumps(v)


def key_forms(doc, depth):
    """doc written with the keys of one object escaped, or one key of it written twice."""
    for path in object_paths(doc, depth):
        yield dump(doc, path, "escape")
        for k in at(doc, path):
            yield dump(doc, path, ("twice", k))


def syntax_forms(doc, depth):
    """doc's compact text cut after each `{`, `[`, `:` and `,` (the end of input met in every
    deserializer's every state), doc spread with whitespace around every token, and each array
    given one element more of each type of TYPES, or a comma after its last element, and each
    object a comma after its last member."""
    text = json.dumps(doc, separators=(",", ":"))
    in_string = escaped = False
    for i, c in enumerate(text):
        if in_string:
            in_string = not (c == '"' and not escaped)
            escaped = c == "\\" and not escaped
        elif c == '"':
            in_string = True
        elif c in "{[:,":
            yield text[:i + 1]
    yield json.dumps(doc, indent="\t", separators=(" ,", " : ")).replace("\n", "\r\n ")
    for path in node_paths(doc, depth, (dict, list), True):
        holder = at(doc, path)
        if isinstance(holder, list):
            for t in TYPES:
                copy = json.loads(json.dumps(doc))
                at(copy, path).append(t)
                yield json.dumps(copy, separators=(",", ":"))
        if holder:
            copy = json.loads(json.dumps(doc))
            mark = "\u0000trailing\u0000"
            if isinstance(holder, list):
                at(copy, path).append(mark)
            else:
                at(copy, path)[mark] = 0
            marked = json.dumps(mark)
            yield json.dumps(copy, separators=(",", ":")).replace(
                "," + marked + ":0", ",").replace("," + marked, ",")


def shape_variants(cert):
    """jsonl_record: records whose timestamp takes each form of TIMES, and records with 24
    members more, in descending order (at the top level and in action_detail), so that
    canonicalization sorts a long member list; cert: the statement and the envelope with each
    object given as an array, the envelope with one member changed (byte 0: read as is), and both
    with the keys of one object escaped or one key of it written twice."""
    for f in sorted(os.listdir(os.path.join(TD, "aat"))):
        if not f.endswith(".jsonl"):
            continue
        recs = parsed_lines(read("aat/" + f))[:2]
        for t in TIMES:
            put("jsonl_record", "\n".join(line(dict(r, timestamp=t)) for r in recs).encode() + b"\n")
        extra = {"z%02d" % i: i for i in range(23, -1, -1)}
        put("jsonl_record", (line(dict(recs[0], **extra)) + "\n").encode())
        detail = dict(recs[0].get("action_detail") or {}, **extra)
        put("jsonl_record", (line(dict(recs[0], action_detail=detail)) + "\n").encode())
    if not cert:
        return
    envelope = json.loads(cert)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    for path in object_paths(statement, 4):
        put("cert", b"\x01" + json.dumps(as_array(statement, path), separators=(",", ":")).encode())
    for path in object_paths(envelope, 3):
        put("cert", b"\x00" + json.dumps(as_array(envelope, path)).encode())
    for c in value_variants(envelope, 3):
        put("cert", b"\x00" + json.dumps(c).encode())
    for text in key_forms(statement, 4):
        put("cert", b"\x01" + text.encode())
    for text in key_forms(envelope, 3):
        put("cert", b"\x00" + text.encode())
    for text in syntax_forms(statement, 4):
        put("cert", b"\x01" + text.encode())
    for text in syntax_forms(envelope, 3):
        put("cert", b"\x00" + text.encode())


def main():
    args = [a for i, a in enumerate(sys.argv[1:]) if a != "--cert" and sys.argv[i] != "--cert"]
    if args:
        seeds.CORPUS = args[0]
    key_dir_variants()
    keys_variants()
    for prof, d, pattern in PAIRS:
        with open(os.path.join(ROOT, prof), encoding="utf-8") as f:
            text = f.read()
        exports = [d + "/" + f for f in sorted(os.listdir(os.path.join(TD, d))) if re.search(pattern, f)]
        variants = list(profile_variants(text))
        for shape in profile_shapes(text):
            put("profile_file", shape.encode())
        pairs = list(profile_pairs(text))
        with_pairs = True
        for rel in exports:
            recs = records(rel)
            if not recs:
                continue
            for profile in [text] + variants + (pairs if with_pairs else []):
                put("profile_file", profile_input(profile, recs))
            with_pairs = False
            for variant in member_variants(recs[:6]):
                put("profile_file", profile_input(text, variant))

    for d in ("aat", "agt", "asqav", "agent-receipts"):
        for f in sorted(os.listdir(os.path.join(TD, d))):
            if not f.endswith((".json", ".jsonl")):
                continue
            raw = shortened(read(d + "/" + f))
            if not raw:
                continue
            try:
                doc = json.loads(raw)
            except ValueError:
                recs = parsed_lines(raw)
                for variant in member_variants(recs[:4]):
                    put("verify_run", b"\x00" + "\n".join(line(r) for r in variant).encode() + b"\n")
                continue
            # A JSON document: vary the members of its record array in place.
            found = record_array(doc)
            if not found:
                continue
            path, recs = found
            for variant in member_variants(recs):
                out = with_array(doc, path, variant)
                put("verify_run", b"\x00" + json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode())
            for out in bundle_variants(doc, path):
                put("verify_run", b"\x00" + json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode())

    other_variants(cert_arg())
    shape_variants(cert_arg())


if __name__ == "__main__":
    main()
