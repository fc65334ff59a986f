#!/usr/bin/env python3
"""Attributes the edge coverage of a corpus to the code it is in: this crate's files, its
dependencies, the standard library.

Reads what libFuzzer prints with -print_coverage=1 (COVERED_FUNC lines: edges covered of each
function, with its source file), which needs a build with a sanitizer runtime to symbolize
(coverage.sh uses the AddressSanitizer build). With one file: the edges covered in this crate,
per file. With two (an earlier corpus, then a later one): the edges gained between them, per
origin and per function of this crate, which tells whether a run that still finds edges finds
them in our parsers or only in a dependency's. With --gaps and one file: this crate's functions
that the corpus reaches but does not cover wholly, by uncovered edges, which is where new seeds
help most; with a name as well (--gaps COVERAGE.txt NAME), the source lines of the functions whose
name contains it that hold uncovered edges.

A replay need not cover the same edges twice: where a harness or a dependency draws on randomness
(the standard library's hash tables in serde_json's maps, a signature's random nonce), the same
input can take a different path in each process. Either file of a comparison may therefore be a
comma-separated list of replays of one corpus: an edge counts as gained only when every replay of
the later corpus covers it and no replay of the earlier one does (per function: the fewest edges
covered in the later replays less the most in the earlier ones), and the functions whose count
differs between replays of one corpus are listed as noise. With --noise and two or more replays of
one corpus: only that list.
"""
import collections
import os
import re
import sys

SRC = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")) + "/"
FUNC = re.compile(r"^(?:UN)?COVERED_FUNC: hits: \d+ edges: (\d+)/(\d+) (.*) (\S+):\d+$")


def load(path):
    """Edges covered and edges, per function. Functions that print alike (instances of one generic
    function) are told apart by their order in the file, which one binary keeps."""
    funcs = {}
    seen = collections.Counter()
    with open(path, errors="replace") as f:
        for line in f:
            m = FUNC.match(line.rstrip("\n"))
            if m:
                name = (m.group(3), m.group(4))
                funcs[name + (seen[name],)] = (int(m.group(1)), int(m.group(2)))
                seen[name] += 1
    return funcs


def load_replays(paths):
    """Replays of one corpus: per function, the fewest and the most edges covered."""
    runs = [load(p) for p in paths.split(",")]
    keys = set().union(*runs)
    return {k: (min(r.get(k, (0, 0))[0] for r in runs), max(r.get(k, (0, 0))[0] for r in runs),
                max(r.get(k, (0, 0))[1] for r in runs)) for k in keys}


def group(path):
    """The origin of a function's file, with this crate's files taken as one."""
    o = origin(path)
    return "crate" if o.startswith("crate:") else o


def listed(counter):
    return ", ".join("%s %d" % kv for kv in counter.most_common()) or "none"


def noise(replays):
    """Functions whose edges covered differ between replays of one corpus."""
    varied = sorted(((hi - lo, k) for k, (lo, hi, _) in replays.items() if hi != lo), reverse=True)
    by_origin = collections.Counter()
    for d, k in varied:
        by_origin[group(k[1])] += d
    return varied, by_origin


def origin(path):
    if path.startswith(SRC):
        return "crate:" + path[len(SRC):]
    if path.startswith("/rustc/"):
        return "std"
    m = re.search(r"registry/src/[^/]+/([^/]+)/", path)
    if m:
        return "dep:" + re.sub(r"-\d[^-]*$", "", m.group(1))
    return "other"


def uncovered_lines(path, pattern):
    """Per function of this crate whose name contains pattern: its uncovered edges' lines."""
    lines = collections.defaultdict(collections.Counter)
    current = None
    with open(path, errors="replace") as f:
        for line in f:
            m = FUNC.match(line.rstrip("\n"))
            if m:
                current = m.group(3) if m.group(4).startswith(SRC) and pattern in m.group(3) else None
            elif current and "UNCOVERED_PC: " in line:
                loc = line.split("UNCOVERED_PC: ", 1)[1].strip()
                if loc.startswith(SRC) and not loc.endswith(":0"):
                    lines[current][loc[len(SRC):]] += 1
    for name, where in sorted(lines.items(), key=lambda kv: -sum(kv[1].values())):
        print("%s (%d uncovered edges with a line)" % (name[:100], sum(where.values())))
        order = sorted(where, key=lambda l: (l.rsplit(":", 1)[0], int(l.rsplit(":", 1)[1])))
        print("   " + " ".join(order))


def gaps(path, limit=60):
    per_file = collections.defaultdict(lambda: [0, 0])
    partial = []
    for (name, src, _), (covered, total) in load(path).items():
        if not src.startswith(SRC):
            continue
        rel = src[len(SRC):]
        if covered:
            per_file[rel][0] += covered
            per_file[rel][1] += total
            if covered < total:
                partial.append((total - covered, covered, total, rel, name))
    print("files reached (edges covered / edges of the functions reached):")
    for rel, (c, t) in sorted(per_file.items(), key=lambda kv: kv[1][0] - kv[1][1]):
        print("  %5d / %-5d %s" % (c, t, rel))
    print("functions reached but not covered wholly, by uncovered edges:")
    for missing, c, t, rel, name in sorted(partial, reverse=True)[:limit]:
        print("  -%-4d %4d/%-4d %s  %s" % (missing, c, t, rel, name[:90]))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--gaps":
        return gaps(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "--gaps":
        return uncovered_lines(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "--noise":
        varied, origins = noise(load_replays(sys.argv[2]))
        print("edges varying between replays, by origin: " + listed(origins))
        for d, (name, path, _) in varied:
            print("  %-3d %s  %s" % (d, origin(path), name[:100]))
        return
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: coverage.py COVERAGE.txt[,REPLAY...] [LATER.txt[,REPLAY...]] | "
                 "coverage.py --gaps COVERAGE.txt [NAME] | coverage.py --noise REPLAY,REPLAY[,...]")
    if len(sys.argv) == 2:
        first = load(sys.argv[1])
        per_file = collections.Counter()
        for (_, path, _), (covered, _) in first.items():
            if path.startswith(SRC):
                per_file[path[len(SRC):]] += covered
        print("edges covered in this crate: %d" % sum(per_file.values()))
        for name, n in sorted(per_file.items()):
            print("  %6d  %s" % (n, name))
        return
    earlier = load_replays(sys.argv[1])
    later = load_replays(sys.argv[2])
    by_origin = collections.Counter()
    crate_funcs = []
    for key, (fewest, _, _) in later.items():
        gained = fewest - earlier.get(key, (0, 0, 0))[1]
        if gained > 0:
            by_origin[group(key[1])] += gained
            if key[1].startswith(SRC):
                crate_funcs.append((gained, key[1][len(SRC):], key[0]))
    crate = lambda d, i: sum(v[i] for k, v in d.items() if k[1].startswith(SRC))
    print("edges covered in this crate: %d -> %d" % (crate(earlier, 1), crate(later, 0)))
    print("edges gained, by origin: " + listed(by_origin))
    for gained, path, name in sorted(crate_funcs, reverse=True):
        print("  +%-4d %s  %s" % (gained, path, name[:100]))
    for label, replays in (("earlier", earlier), ("later", later)):
        varied, origins = noise(replays)
        if varied:
            print("varying between replays of the %s corpus (edges, by origin): %s" % (
                label, listed(origins)))


if __name__ == "__main__":
    main()
