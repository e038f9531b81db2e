#!/usr/bin/env bash
# A tree of binary assets: 200 files of 5 MiB (1000 MiB) of deterministic random bytes.
# Prints, for the first sync and then for each of 10 rounds that rewrite 20 files on the
# left and sync: the sync's wall time, its peak RSS (the kernel's figure for that one
# process, from wait4) and the size of `.twinsync/` (du: hard links once).
#
#   benches/big_tree.sh [TWINSYNC_BINARY]
#
# Without a binary it builds target/release/twinsync. Needs python3 and du.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-}"
if [ -z "$bin" ]; then
    (cd "$root" && cargo build -q --release -p twinsync-cli)
    bin="$root/target/release/twinsync"
fi
work="$(mktemp -d /var/tmp/twinsync-big-tree.XXXXXX)"
trap 'rm -rf "$work"' EXIT

python3 - "$bin" "$work" <<'PY'
import os, random, subprocess, sys, time

bin, work = sys.argv[1], sys.argv[2]
FILES, SIZE, ROUNDS, EDITS = 200, 5 << 20, 10, 20
left, right = os.path.join(work, "left"), os.path.join(work, "right")
os.makedirs(right)

def write(i, generation):
    d = os.path.join(left, f"set{i % 10}")
    os.makedirs(d, exist_ok=True)
    rng = random.Random(i * 1000 + generation)
    with open(os.path.join(d, f"asset{i:03d}.bin"), "wb") as f:
        f.write(rng.randbytes(SIZE))

def run(*args):
    t = time.perf_counter()
    p = subprocess.Popen([bin, *args], cwd=work, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"twinsync {' '.join(args)} failed")
    return time.perf_counter() - t, usage.ru_maxrss / 1024

def state_mib():
    out = subprocess.run(["du", "-sk", os.path.join(work, ".twinsync")], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1024

for i in range(FILES):
    write(i, 0)
tree = FILES * SIZE / (1 << 20)
run("init", "left", "right")
wall, rss = run("sync")
print(f"tree: {FILES} files x {SIZE >> 20} MiB = {tree:.0f} MiB")
print(f"first sync: {wall:.2f} s, peak RSS {rss:.1f} MiB, .twinsync/ {state_mib():.1f} MiB ({100 * state_mib() / tree:.2f}% of the tree)")
worst = 0.0
for r in range(1, ROUNDS + 1):
    for j in range(EDITS):
        write((r * EDITS + j) % FILES, r)
    time.sleep(0.01)
    wall, rss = run("sync")
    worst = max(worst, rss)
print(f"after {ROUNDS} rounds of {EDITS} rewritten files: worst peak RSS {worst:.1f} MiB, .twinsync/ {state_mib():.1f} MiB "
      f"(the overwritten versions undo needs: {ROUNDS * EDITS * SIZE / (1 << 20):.0f} MiB)")
wall, rss = run("undo")
print(f"undo of the last round: {wall:.2f} s, peak RSS {rss:.1f} MiB")
PY
