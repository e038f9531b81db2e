#!/usr/bin/env python3
"""Extract real three-way merge inputs from merge commits of git repositories.

usage: extract_merge_corpus.py OUTDIR NAME=OWNER/REPO=GIT_DIR [...] [--per-repo N]
                               [--max-bytes B] [--ext md,rs,js,...]

For each two-parent merge commit M (newest first) with parents P1, P2 and a single
merge base B, every path modified (not added or deleted) on both sides, B..P1 and
B..P2, gives a triple OUTDIR/NAME-NNNN/{base,ours,theirs} = contents at B, P1, P2.
Only small text files with a listed extension are kept; identical triples are kept
once. OUTDIR/MANIFEST.tsv records, per triple, the repository, merge commit, parents,
base commit and path, so every test case can be traced back to its source.
"""
import argparse
import hashlib
import os
import subprocess
import sys


def git(gd, *args, binary=False):
    out = subprocess.run(["git", "--git-dir", gd, *args], capture_output=True, check=False)
    if out.returncode != 0:
        return None
    return out.stdout if binary else out.stdout.decode("utf-8", "replace")


def changed(gd, a, b):
    out = git(gd, "diff", "--no-renames", "--name-status", a, b)
    if out is None:
        return set()
    return {line.split("\t", 1)[1] for line in out.splitlines() if line.startswith("M\t")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("repos", nargs="+", help="NAME=OWNER/REPO=GIT_DIR")
    ap.add_argument("--per-repo", type=int, default=150)
    ap.add_argument("--max-bytes", type=int, default=24000)
    ap.add_argument("--ext", default="md,markdown,txt,rst,rs,js,ts,json,toml,yml,yaml,html,css,py,c,h,go")
    a = ap.parse_args()
    exts = {"." + e for e in a.ext.split(",")}
    os.makedirs(a.outdir, exist_ok=True)
    seen = set()
    manifest = ["case\trepository\tmerge\tparent1\tparent2\tbase\tpath"]
    for spec in a.repos:
        name, origin, gd = spec.split("=", 2)
        kept = 0
        merges = git(gd, "rev-list", "--merges", "HEAD") or ""
        for m in merges.split():
            if kept >= a.per_repo:
                break
            parents = (git(gd, "rev-list", "--parents", "-n1", m) or "").split()[1:]
            if len(parents) != 2:
                continue
            p1, p2 = parents
            bases = (git(gd, "merge-base", "--all", p1, p2) or "").split()
            if len(bases) != 1:
                continue
            b = bases[0]
            for path in sorted(changed(gd, b, p1) & changed(gd, b, p2)):
                if os.path.splitext(path)[1].lower() not in exts:
                    continue
                blobs = [git(gd, "show", f"{c}:{path}", binary=True) for c in (b, p1, p2)]
                if any(x is None or len(x) > a.max_bytes or b"\0" in x for x in blobs):
                    continue
                key = hashlib.sha256(b"\0\1".join(blobs)).hexdigest()
                if key in seen:
                    continue
                seen.add(key)
                case = f"{name}-{kept:04d}"
                d = os.path.join(a.outdir, case)
                os.makedirs(d, exist_ok=True)
                for fname, data in zip(("base", "ours", "theirs"), blobs):
                    with open(os.path.join(d, fname), "wb") as fh:
                        fh.write(data)
                manifest.append(f"{case}\t{origin}\t{m}\t{p1}\t{p2}\t{b}\t{path}")
                kept += 1
                if kept >= a.per_repo:
                    break
        print(f"{name}: {kept} triples", file=sys.stderr)
    with open(os.path.join(a.outdir, "MANIFEST.tsv"), "w") as fh:
        fh.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main()
