#!/usr/bin/env python3
"""Deterministic large synthetic merge triples with scattered, non-overlapping edits.

usage: gen_merge_triple.py OUTDIR NLINES [--seed S] [--density D]
Writes OUTDIR/{base,ours,theirs,expected}.  `expected` is the exact clean
merge (both edit sets applied), so every tool can be checked, not only timed.

Base text mixes markdown-ish and code-ish lines, including many repeated
lines (blank lines, '}', '```', '- [ ] todo'), so that the diff is not trivial.
Edit sites: every ~1/density lines a site is drawn; sites alternate randomly
between ours and theirs; each site touches 1-3 base lines (replace / insert
after / delete) and consecutive sites are separated by >= 4 untouched base
lines, so no two edits are adjacent and git merges cleanly.
"""
import argparse, os, random

WORDS = ("alpha beta gamma delta merge base ours theirs conflict hunk line diff "
         "patch render parse token buffer index value return struct impl trait "
         "config option error result vector string markdown header list table").split()

def base_lines(n, rng):
    out = []
    i = 0
    while len(out) < n:
        k = rng.random()
        if k < 0.06:
            out.append(f"## Section {i}: {rng.choice(WORDS)} {rng.choice(WORDS)}\n"); out.append("\n")
        elif k < 0.10:
            out.append("```rust\n")
            out.append(f"fn f_{i}(x: u32) -> u32 {{\n")
            out.append(f"    let {rng.choice(WORDS)}_{i} = x * {rng.randrange(100)};\n")
            out.append(f"    {rng.choice(WORDS)}_{i}\n")
            out.append("}\n"); out.append("```\n"); out.append("\n")
        elif k < 0.14:
            out.append("- [ ] todo\n")
        elif k < 0.20:
            out.append("\n")
        else:
            w = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 10)))
            out.append(f"{w} ({i}).\n")
        i += 1
    return out[:n]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir"); ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--density", type=float, default=0.01, help="edit sites per base line, per both sides together x2")
    a = ap.parse_args()
    rng = random.Random(a.seed * 1000003 + a.n)
    base = base_lines(a.n, rng)
    # choose edit sites: walk the file with random gaps >= 4
    sites = []  # (start, length, kind, side)
    pos = rng.randrange(1, 20)
    mean_gap = max(5, int(1 / (2 * a.density)))
    while True:
        ln = rng.randrange(1, 4)
        if pos + ln + 4 >= a.n: break
        kind = rng.choice(("replace", "replace", "insert", "delete"))
        side = rng.choice(("ours", "theirs"))
        sites.append((pos, ln, kind, side))
        pos += ln + 4 + rng.randrange(0, 2 * mean_gap)
    def apply(which):
        out = []; i = 0; s = 0
        for (p, ln, kind, side) in sites:
            out.extend(base[i:p]); i = p
            if side not in which:
                continue
            tag = f"{side}-{p}"
            if kind == "replace":
                out.extend(f"edited by {tag} #{j}: {rng_local(p, j)}\n" for j in range(ln)); i = p + ln
            elif kind == "insert":
                out.extend(base[p:p + ln]); i = p + ln
                out.extend(f"inserted by {tag} #{j}\n" for j in range(ln))
            else:
                i = p + ln
        out.extend(base[i:])
        return out
    def rng_local(p, j):
        return WORDS[(p * 7 + j) % len(WORDS)]
    os.makedirs(a.outdir, exist_ok=True)
    for name, lines in (("base", base), ("ours", apply({"ours"})),
                        ("theirs", apply({"theirs"})), ("expected", apply({"ours", "theirs"}))):
        with open(os.path.join(a.outdir, name), "w") as f:
            f.writelines(lines)
    print(f"{a.outdir}: base {len(base)} lines, {sum(1 for s in sites if s[3]=='ours')} ours edits, "
          f"{sum(1 for s in sites if s[3]=='theirs')} theirs edits")

main()
