#!/usr/bin/env bash
# Canonical hashing against the peer pipeline (serde_json Value + serde_jcs + sha2, as
# ../shared/bench/jcs-peer builds it), as whole processes on the shared corpus, in
# the same run: prints the wall-clock and the CPU-time ratio per input and round.
#
#   benches/peer.sh [ROUNDS]      (default 3; needs hyperfine and python3)
#
# Only ratios from one run mean anything: on a shared VM the same binary's time moves by
# half between runs. Run it on an otherwise idle machine.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
shared="$(cd "$root/.." && pwd)/shared"
rounds="${1:-3}"
peer_src=/tmp/twinsync-jcs-peer
peer_target=/tmp/twinsync-jcs-peer-target
data="$root/bench-data"

command -v hyperfine >/dev/null || { echo "peer.sh: hyperfine is needed (apt install hyperfine)" >&2; exit 2; }
[ -f "$data/MANIFEST.txt" ] || python3 "$shared/bench/gen_json_corpus.py" --out "$data"
rm -rf "$peer_src" && cp -r "$shared/bench/jcs-peer" "$peer_src"
(cd "$peer_src" && cargo build -q --release --target-dir "$peer_target")
(cd "$root" && cargo build -q --release -p twinsync-cli)
ours="$root/target/release/twinsync"
peer="$peer_target/release/jcs-peer"

# The digests must agree before the times are worth comparing.
[ "$("$ours" hash "$data/big.json" | cut -d' ' -f1)" == "sha256:$("$peer" "$data/big.json")" ] \
    || { echo "peer.sh: big.json digests differ" >&2; exit 1; }
cmp -s <("$ours" hash --jsonl "$data/small.jsonl") <("$peer" --lines "$data/small.jsonl" | sed 's/^/sha256:/') \
    || { echo "peer.sh: small.jsonl digests differ" >&2; exit 1; }

for r in $(seq "$rounds"); do
    out="$(mktemp)"
    hyperfine -N -w 3 -r 15 --export-json "$out" \
        "$ours hash $data/big.json" "$peer $data/big.json" \
        "$ours hash --jsonl $data/small.jsonl" "$peer --lines $data/small.jsonl" >/dev/null
    python3 - "$out" "$r" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
wall = [x["median"] * 1000 for x in res]
cpu = [(x["user"] + x["system"]) * 1000 for x in res]
line = []
for name, i in (("big.json", 0), ("small.jsonl", 2)):
    line.append(f"{name} {wall[i]:.1f} vs {wall[i+1]:.1f} ms = {wall[i+1]/wall[i]:.1f}x "
                f"(cpu {cpu[i]:.0f} vs {cpu[i+1]:.0f} ms = {cpu[i+1]/cpu[i]:.1f}x)")
print(f"round {sys.argv[2]}: " + "; ".join(line))
EOF
    rm -f "$out"
done
