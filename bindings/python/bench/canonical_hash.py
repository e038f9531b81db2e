"""canonical_hash against the usual Python peer, rfc8785 + hashlib SHA-256, in one process:
10,000 ~0.9 KB objects and one ~20 MB document, first as Python objects (canonical_hash),
then as JSON text already in a str (canonical_hash_json, against json.loads + rfc8785 +
hashlib). Digests are checked equal before any timing. Prints medians and the median pair
ratios (issue 22's goals: >= 10x for both).

Run in an environment with the twinsync wheel and ``rfc8785`` installed:
``python bench/canonical_hash.py`` (REPS=n to change the repetitions).
"""

import hashlib
import json
import os
import statistics
import sys
import time

import rfc8785

import twinsync

seed = 42


def rnd() -> float:
    global seed
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648


def word() -> str:
    n = int(rnd() * 1e9)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def record(i: int) -> dict:
    return {
        "id": f"component-{i}",
        "name": f"Button {word()}",
        "updatedAt": f"2023-11-14T22:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
        "version": i % 17,
        "weight": rnd() * 1000,
        "enabled": i % 3 == 0,
        "tags": [word(), word(), word(), "design-system"],
        "variants": [
            {"size": s, "figmaNodeId": f"{i}:{k}", "padding": [4 * k, 8 * k], "label": f"Label {word()} {word()}"}
            for k, s in enumerate(["xs", "sm", "md", "lg", "xl", "xxl"])
        ],
        "description": f"Primary action {word()} {word()} {word()} with unicode é ü 漢字; shown in forms, dialogs and toolbars.",
        "meta": {"owner": word(), "reviewed": None, "score": round(rnd() * 100) / 10},
    }


def peer(v: object) -> str:
    return "sha256:" + hashlib.sha256(rfc8785.dumps(v)).hexdigest()


def ours(v: object) -> str:
    return twinsync.canonical_hash(v)


def peer_text(t: str) -> str:
    return peer(json.loads(t))


def ours_text(t: str) -> str:
    return twinsync.canonical_hash_json(t)


def pair(peer_fn, ours_fn, reps: int) -> tuple[float, float, float]:
    """Medians of the peer's and our times (ms) and of the pair ratios.

    The VM's speed drifts by half within minutes, so each repetition times the peer
    and then ours back to back (as benches/peer.sh does)."""
    p, o, r = [], [], []
    for _ in range(reps):
        t = time.perf_counter()
        peer_fn()
        p.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        ours_fn()
        o.append((time.perf_counter() - t) * 1000)
        r.append(p[-1] / o[-1])
    return statistics.median(p), statistics.median(o), statistics.median(r)


def main() -> None:
    reps = int(os.environ.get("REPS", "5"))
    small = [record(i) for i in range(10_000)]
    avg = sum(len(json.dumps(o, ensure_ascii=False)) for o in small) / len(small)
    for o in small:
        assert ours(o) == peer(o), o["id"]
    # 22,000 records make about 20 MB of JSON.
    large = {"components": [record(i) for i in range(22_000)]}
    size = len(json.dumps(large, ensure_ascii=False))
    assert ours(large) == peer(large)
    small_text = [json.dumps(o, ensure_ascii=False) for o in small]
    large_text = json.dumps(large, ensure_ascii=False)
    for t in small_text:
        assert ours_text(t) == peer_text(t)
    assert ours_text(large_text) == peer_text(large_text)
    mb = f"{size / 1e6:.1f} MB"
    rows = [
        ("10,000 objects", pair(lambda: [peer(o) for o in small], lambda: [ours(o) for o in small], reps)),
        (f"one object ({mb})", pair(lambda: peer(large), lambda: ours(large), reps)),
        ("10,000 texts", pair(lambda: [peer_text(t) for t in small_text], lambda: [ours_text(t) for t in small_text], reps)),
        (f"one text ({mb})", pair(lambda: peer_text(large_text), lambda: ours_text(large_text), reps)),
    ]
    print(f"python {sys.version.split()[0]}, rfc8785 {getattr(rfc8785, '__version__', '?')}; objects avg {avg:.0f} chars of JSON; median of {reps}")
    print("peer: rfc8785+hashlib (objects), json.loads+rfc8785+hashlib (texts); goal 10x")
    for name, (p, o, ratio) in rows:
        met = "" if ratio >= 10 else ", NOT MET"
        print(f"{name:<24} peer {p:9.1f} ms   twinsync {o:9.1f} ms   {ratio:.2f}x (goal 10x{met})")

if __name__ == "__main__":
    main()
