#!/usr/bin/env python3
"""Fail CI when design tokens exported from the design tool drift from the ones in code.

    python examples/python/check_drift.py DESIGN_DIR CODE_DIR [--ignore /updatedAt ...]

Hashes every JSON file on both sides canonically (formatting, key order and the ignored
volatile fields never count as drift), compares them with twinsync's three-way drift
detection (no base: the first run treats both sides as new), prints the differences and
exits 1 when any file differs, so the CI job fails until someone syncs.
"""

import argparse
import pathlib
import sys

import twinsync


def digests(root: pathlib.Path, ignore: list) -> dict:
    out = {}
    for path in sorted(root.rglob("*.json")):
        key = path.relative_to(root).as_posix()
        try:
            out[key] = twinsync.canonical_hash_json(path.read_bytes(), ignore=ignore)
        except twinsync.InvalidInput as e:
            sys.exit(f"{path}: {e}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("design", type=pathlib.Path)
    ap.add_argument("code", type=pathlib.Path)
    ap.add_argument("--ignore", action="append", default=["/updatedAt", "/**/figmaNodeId"])
    args = ap.parse_args()
    left, right = digests(args.design, args.ignore), digests(args.code, args.ignore)
    # The last agreed state is whatever both sides still share.
    base = {k: d for k, d in left.items() if right.get(k) == d}
    drift = twinsync.detect_drift(base, left, right)
    for item in drift["items"]:
        where = {"added_left": "only in design", "added_right": "only in code"}.get(item["class"], "differs")
        print(f"{where:<15} {item['key']}")
    print(f"{len(drift['items'])} drifted, {drift['in_sync']} in sync "
          f"(design tree {twinsync.tree_digest(left)[:19]}, code tree {twinsync.tree_digest(right)[:19]})")
    return 1 if drift["items"] else 0


if __name__ == "__main__":
    sys.exit(main())
