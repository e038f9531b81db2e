#!/usr/bin/env bash
# Warm `twinsync status` on a synced pair of FILES-file folders (default 100,000 small
# files in 1,000 folders) against warm `git status` on one of them: wall and CPU seconds,
# the median of RUNS runs each, taken in turns so both see the same machine. The goal
# (issue 21) is 2.4x: twice the files, each side within 1.2x of git.
#
#   benches/status.sh [FILES] [TWINSYNC_BINARY] [RUNS]
#
# Without a binary it builds target/release/twinsync. Needs python3 and git.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
files="${1:-100000}"
bin="${2:-}"
runs="${3:-7}"
if [ -z "$bin" ]; then
    (cd "$root" && cargo build -q --release -p twinsync-cli)
    bin="$root/target/release/twinsync"
fi
work="$(mktemp -d /var/tmp/twinsync-status.XXXXXX)"
trap 'rm -rf "$work"' EXIT

python3 - "$work/p/left" "$files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"d{i % 1000:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:06d}.md"), "w") as f:
        f.write(f"# file {i}\n\nsome text of file {i}\n")
PY
mkdir -p "$work/p/right"
(cd "$work/p" && "$bin" init left right >/dev/null && "$bin" sync >/dev/null)
(cd "$work/p/left" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm tree)
# Warm both: caches loaded, stat caches written, racy entries settled (their mtimes are
# older than the racy window once two seconds have passed).
sleep 3
for _ in 1 2; do
    (cd "$work/p" && "$bin" status >/dev/null)
    (cd "$work/p/left" && git status --porcelain >/dev/null)
done

python3 - "$work/p" "$bin" "$runs" "$files" <<'PY'
import os, resource, statistics, subprocess, sys, time
pair, binary, runs, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def once(cmd, cwd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu

ours, git = [], []
for _ in range(runs):
    ours.append(once([binary, "status"], pair))
    git.append(once(["git", "status", "--porcelain"], os.path.join(pair, "left")))
med = lambda xs, i: statistics.median(x[i] for x in xs)
ow, oc, gw, gc = med(ours, 0), med(ours, 1), med(git, 0), med(git, 1)
print(f"warm status of two {files}-file folders: twinsync {ow:.3f} s wall, {oc:.3f} s CPU; "
      f"git status of one: {gw:.3f} s wall, {gc:.3f} s CPU")
print(f"  ratio: {ow / gw:.2f}x wall, {oc / gc:.2f}x CPU (goal 2.4x); median of {runs} runs each, in turns")
PY
