#!/usr/bin/env bash
# The first sync of FILES small files (default 20,000 of 4 KB in 100 folders, 80 MB)
# against `rsync -a`, `cp -a` and `rsync -a && sync` (durable, as a sync is) of the
# same tree, one run each, wall time, on disk; an
# idle sync of the same pair against `twinsync status`; and the fsync calls per item of
# a first sync of 2,000 files (`strace -f -c -e trace=fsync,fdatasync,syncfs`).
#
#   benches/first_sync.sh [FILES] [TWINSYNC_BINARY]
#
# Without a binary it builds target/release/twinsync. Needs python3, rsync and strace.
# Run it on an otherwise idle machine; each run starts after `sync`, with a warm cache.
# BENCH_DIR (default /var/tmp) is where the trees go. ext4 searches past inodes deleted
# in the last minutes when it creates files, which slowed every tool here by half after
# earlier runs; a freshly made filesystem (as root: `mkfs.ext4 -F img && mount -o loop
# img /mnt/b`, then BENCH_DIR=/mnt/b) gives every tool the same start.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
files="${1:-20000}"
bin="${2:-}"
if [ -z "$bin" ]; then
    (cd "$root" && cargo build -q --release -p twinsync-cli)
    bin="$root/target/release/twinsync"
fi
work="$(mktemp -d "${BENCH_DIR:-/var/tmp}/twinsync-first-sync.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# A tree of N files of 4 KB each, every one different, in 100 folders (made by
# first_sync_ab.py, so both benches sync the same tree).
tree() {
    python3 "$root/benches/first_sync_ab.py" --tree "$1" "$2"
}

# Wall seconds of one run of the command, output discarded.
wall() {
    sync
    python3 - "$@" <<'PY'
import subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(f"{time.perf_counter() - t:.3f}")
PY
}

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }

mkdir -p "$work/p/right"
tree "$work/p/left" "$files"
rsync_s="$(wall rsync -a "$work/p/left/" "$work/rsync/")"
# rsync leaves its writes in the page cache; a sync makes them durable, as ours are.
durable_s="$(wall sh -c "rsync -a '$work/p/left/' '$work/rsync2/' && sync")"
cp_s="$(wall cp -a "$work/p/left" "$work/cp")"
(cd "$work/p" && "$bin" init left right >/dev/null)
ours_s="$(cd "$work/p" && wall "$bin" sync)"
diff -r "$work/p/left" "$work/p/right" >/dev/null || { echo "first_sync.sh: the sides differ" >&2; exit 1; }
# The first scan after a sync reads again the files it wrote (their stat vouches for
# them only once the timestamps' granularity has passed): settled first, then timed warm.
first_s="$(cd "$work/p" && wall "$bin" status)"
idle_s="$(cd "$work/p" && wall "$bin" sync)"
status_s="$(cd "$work/p" && wall "$bin" status)"

echo "first sync of $files files ($(du -sm "$work/p/left" | cut -f1) MB): twinsync ${ours_s} s, rsync -a ${rsync_s} s, cp -a ${cp_s} s"
echo "  ratio to rsync -a: $(ratio "$ours_s" "$rsync_s")x; to cp -a: $(ratio "$ours_s" "$cp_s")x; to rsync -a && sync (${durable_s} s): $(ratio "$ours_s" "$durable_s")x"
echo "idle sync ${idle_s} s, status ${status_s} s: ratio $(ratio "$idle_s" "$status_s")x (the first status after the sync: ${first_s} s)"

# fsync calls of a first sync of 2,000 files.
rm -rf "$work/s" && mkdir -p "$work/s/right"
tree "$work/s/left" 2000
(cd "$work/s" && "$bin" init left right >/dev/null)
(cd "$work/s" && strace -f -c -e trace=fsync,fdatasync,syncfs -o "$work/strace.txt" "$bin" sync >/dev/null)
calls="$(awk '$NF == "fsync" || $NF == "fdatasync" || $NF == "syncfs" { n += $4 } END { print n + 0 }' "$work/strace.txt")"
echo "fsync + fdatasync + syncfs calls, first sync of 2,000 files: $calls ($(python3 -c "print(f'{$calls / 2000:.3f}')") per item)"
