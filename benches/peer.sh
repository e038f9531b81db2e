#!/usr/bin/env bash
# Canonical hashing against the peer pipeline (serde_json Value + serde_jcs + sha2, as
# benches/jcs-peer builds it), as whole processes on the JSON corpus: prints,
# per input, the median wall-clock and CPU-time ratios over ROUNDS pairs of runs.
#
#   benches/peer.sh [ROUNDS]      (default 21; needs python3)
#
# Run it on an otherwise idle machine.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-21}"
peer_src=/tmp/twinsync-jcs-peer
peer_target=/tmp/twinsync-jcs-peer-target
data="$root/bench-data"

[ -f "$data/MANIFEST.txt" ] || python3 "$root/benches/gen/gen_json_corpus.py" --out "$data"
# Built outside the workspace (its own lock file and target), as a user of those crates would.
rm -rf "$peer_src" && cp -r "$root/benches/jcs-peer" "$peer_src"
(cd "$peer_src" && cargo build -q --release --target-dir "$peer_target")
(cd "$root" && cargo build -q --release -p twinsync-cli)
ours="$root/target/release/twinsync"
peer="$peer_target/release/jcs-peer"

# The digests must agree before the times are worth comparing.
[ "$("$ours" hash "$data/big.json" | cut -d' ' -f1)" == "sha256:$("$peer" "$data/big.json")" ] \
    || { echo "peer.sh: big.json digests differ" >&2; exit 1; }
cmp -s <("$ours" hash --jsonl "$data/small.jsonl") <("$peer" --lines "$data/small.jsonl" | sed 's/^/sha256:/') \
    || { echo "peer.sh: small.jsonl digests differ" >&2; exit 1; }

# Each run of ours is paired with a run of the peer right after it, and the ratio is
# taken per pair: the VM's speed drifts within seconds, so runs timed in separate
# batches (as hyperfine does) compare different machines.
python3 - "$rounds" "$ours" "$peer" "$data" <<'PY'
import resource, statistics, subprocess, sys, time

rounds, ours, peer, data = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


cases = [
    ("big.json", [ours, "hash", f"{data}/big.json"], [peer, f"{data}/big.json"]),
    ("small.jsonl", [ours, "hash", "--jsonl", f"{data}/small.jsonl"], [peer, "--lines", f"{data}/small.jsonl"]),
]
med = statistics.median
for name, a, b in cases:
    for _ in range(2):
        run(a), run(b)
    pairs = [(run(a), run(b)) for _ in range(rounds)]
    wall = [q[0] / p[0] for p, q in pairs]
    cpu = [q[1] / p[1] for p, q in pairs]
    print(
        f"{name}: ours {med([p[0] for p, _ in pairs]):.1f} ms (cpu {med([p[1] for p, _ in pairs]):.0f}), "
        f"peer {med([q[0] for _, q in pairs]):.1f} ms (cpu {med([q[1] for _, q in pairs]):.0f}); "
        f"{rounds} pairs: wall ratio median {med(wall):.1f}x (min {min(wall):.1f}x, max {max(wall):.1f}x), "
        f"cpu ratio median {med(cpu):.1f}x (min {min(cpu):.1f}x)"
    )
PY
