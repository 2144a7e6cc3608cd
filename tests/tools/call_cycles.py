#!/usr/bin/env python3
"""call_cycles.py -- no part calls back into its caller.

Reads the object files of a build (nm: which file defines and which uses
each global function) and checks that
  * the files call each other without a cycle (a lower file reports to a
    higher one through a callback or an event it owns, never by calling a
    function of the higher file), and
  * no file in trust/ or discovery/ uses a symbol defined in stub/ outside
    the shared lower layer (stub/base, stub/dns).
Prints every cycle and every upward call; exits 1 if there is one.

usage: call_cycles.py BUILD_DIR [--open-cycle FILE,FILE,...]...

--open-cycle names a cycle that is known and not yet broken: it is
printed as OPEN, not counted, and it must still exist (a stale exception
fails the check too).
"""
import os
import subprocess
import sys

LOWER = ("stub/base/", "stub/dns/")


def objects(build):
    """(object file, source file) of every compiled C file (meson's
    compile_commands.json)."""
    import json
    with open(os.path.join(build, "compile_commands.json")) as f:
        for e in json.load(f):
            if e["file"].endswith(".c"):
                yield (os.path.join(e["directory"], e["output"]),
                       os.path.normpath(os.path.join(e["directory"], e["file"])))


def symbols(obj):
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if kind == "U":
            used.add(name)
        elif kind in "TDBR":
            defined.add(name)
    return defined, used


def main():
    build = sys.argv[1]
    open_cycles = []
    args = sys.argv[2:]
    while args:
        if args[0] != "--open-cycle" or len(args) < 2:
            print(__doc__)
            return 2
        open_cycles.append(sorted(args[1].split(",")))
        args = args[2:]
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    defs, uses = {}, {}
    for obj, src in objects(build):
        rel = os.path.relpath(os.path.realpath(src), root)
        if rel.startswith(("..", "tests/", "bench/")) or not os.path.exists(obj):
            continue
        d, u = symbols(obj)
        defs.setdefault(rel, set()).update(d)
        uses.setdefault(rel, set()).update(u)
    owner = {}
    for f, ds in defs.items():
        for s in ds:
            owner[s] = f
    graph = {f: set() for f in defs}
    calls = {}
    for f, us in uses.items():
        for s in us:
            g = owner.get(s)
            if g and g != f:
                graph[f].add(g)
                calls.setdefault((f, g), []).append(s)
    bad = 0
    # upward calls from trust/ and discovery/ into the daemon's folders
    for (f, g), syms in sorted(calls.items()):
        if f.startswith(("trust/", "discovery/")) and g.startswith("stub/") and \
                not g.startswith(LOWER):
            print("upward call: %s -> %s (%s)" % (f, g, ", ".join(sorted(syms))))
            bad += 1
    # cycles (Tarjan's strongly connected components)
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    for want in open_cycles:
        if want not in sccs:
            print("stale --open-cycle (no such cycle any more): " + ",".join(want))
            bad += 1
    for comp in sccs:
        if comp in open_cycles:
            print("OPEN cycle (known, not yet broken): " + " <-> ".join(comp))
            continue
        bad += 1
        print("cycle: " + " <-> ".join(comp))
        for f in comp:
            for g in comp:
                if (f, g) in calls:
                    print("    %s -> %s: %s" % (f, g, ", ".join(sorted(calls[(f, g)]))))
    nfiles = len(graph)
    nedges = sum(len(v) for v in graph.values())
    if nfiles < 40:  # a check that saw nothing checked nothing
        print("only %d source files found in %s: is it built?" % (nfiles, build))
        bad += 1
    print("%d files, %d file-to-file call edges, %d problem(s)" % (nfiles, nedges, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
