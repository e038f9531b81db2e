#!/usr/bin/env python3
"""First syncs of several builds against `rsync -a`, each run on a freshly made ext4.

    sudo benches/first_sync_ab.py ROUNDS NAME=BINARY... [--files N]
    sudo benches/first_sync_ab.py 5 before=/tmp/old after=target/bindings/twinsync
    sudo benches/first_sync_ab.py 5 after=target/bindings/twinsync --varied   # words, not one line
    benches/first_sync_ab.py --tree DIR N     # only write the tree (first_sync.sh uses it)

ext4 searches past recently deleted inodes when it creates files, which slowed every
tool by half after earlier runs on one filesystem (see first_sync.sh), so every run here
gets a filesystem of its own: a loop file (IMG, default /var/tmp/twinsync-bench.img;
put it on /dev/shm to measure in RAM) made anew with mkfs.ext4 and mounted at MNT
(default /mnt/twinsync-bench). The tree is first_sync.sh's: N files of 4 KB (default
20,000) in 100 folders. Each round runs rsync, then every build, in the order given;
`twinsync init` is not timed, `twinsync sync` is, and the two sides must then be equal.
The report gives medians of wall and CPU (user + system, getrusage), each build's
median wall against rsync's, and the size of its `.twinsync/` after the last run; then,
from the same runs, each build's idle sync of the synced pair against its status, both
after a first status (timed too) has read again the files the sync wrote.
`--varied` writes words drawn at random instead of one line repeated: the store keeps
texts compressed, and one repeated line compresses far more than prose. Needs root, python3, rsync and mkfs.ext4.
"""
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

IMG = os.environ.get("IMG", "/var/tmp/twinsync-bench.img")
MNT = os.environ.get("MNT", "/mnt/twinsync-bench")


WORDS = (
    "the of and to in is that for it as with was on be by this are or at from his an which have not "
    "but had they you were their one all we can her has there been if more when will would who so no "
    "sync side pair store base merge digest folder file text change batch commit flush intent undo "
    "history event status drift conflict policy left right key value order number system time work "
    "people data state record write read scan hash tree level point group world place case fact week"
).split()


def make_tree(root, n, varied=False):
    """N files of 4 KB each, every one different, in 100 folders: one line repeated, or
    (varied) words drawn at random, which compress about as much as prose does."""
    rng = random.Random(42)
    for i in range(n):
        d = os.path.join(root, f"d{i % 100:02d}")
        os.makedirs(d, exist_ok=True)
        if varied:
            words, size = [f"file {i}:"], 9
            while size < 4095:
                w = rng.choice(WORDS)
                words.append(w)
                size += len(w) + 1
            body = " ".join(words)[:4095] + "\n"
        else:
            line = f"file {i}: the quick brown fox jumps over the lazy dog\n"
            body = (line * (4096 // len(line) + 1))[:4095] + "\n"
        with open(os.path.join(d, f"f{i:05d}.md"), "w") as f:
            f.write(body)


def run(*cmd, cwd=None):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fresh_fs(tree):
    """A new ext4 at MNT holding the tree as MNT/p/left and an empty MNT/p/right."""
    if os.path.ismount(MNT):
        run("umount", MNT)
    os.makedirs(MNT, exist_ok=True)
    with open(IMG, "wb") as f:
        f.truncate(2 << 30)
    run("mkfs.ext4", "-q", "-F", IMG)
    run("mount", "-o", "loop", IMG, MNT)
    os.makedirs(os.path.join(MNT, "p", "right"))
    run("cp", "-a", tree, os.path.join(MNT, "p", "left"))
    return os.path.join(MNT, "p")


def timed(cmd, cwd):
    run("sync")
    time.sleep(1)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    run(*cmd, cwd=cwd)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    if sys.argv[1:2] == ["--tree"]:
        make_tree(sys.argv[2], int(sys.argv[3]))
        return
    varied = "--varied" in sys.argv
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    files = 20000
    if "--files" in sys.argv:
        files = int(sys.argv[sys.argv.index("--files") + 1])
        args.remove(str(files))
    rounds, builds = int(args[0]), [a.split("=", 1) for a in args[1:]]
    if os.geteuid() != 0:
        sys.exit("first_sync_ab.py: needs root, to make and mount a filesystem for every run")
    work = tempfile.mkdtemp(prefix="twinsync-first-sync-ab.", dir="/var/tmp")
    try:
        tree = os.path.join(work, "left")
        make_tree(tree, files, varied)
        results = {"rsync": []}
        state = {}
        results.update({name: [] for name, _ in builds})
        idle = {name: [] for name, _ in builds}
        for _ in range(rounds):
            pair = fresh_fs(tree)
            results["rsync"].append(timed(["rsync", "-a", "left/", "right/"], pair))
            for name, binary in builds:
                pair = fresh_fs(tree)
                run(binary, "init", "left", "right", cwd=pair)
                results[name].append(timed([binary, "sync"], pair))
                run("diff", "-r", "left", "right", cwd=pair)
                # Issue 17's second ratio, from the same run: an idle sync of the pair
                # just synced against a status of it. The first scan after a sync reads
                # again every file the sync wrote, as git does its racily clean entries
                # (their stat cannot vouch for them until the timestamps' granularity
                # has passed); it is timed apart, then both commands run warm.
                first = timed([binary, "status"], pair)[0]
                idle[name].append((timed([binary, "sync"], pair)[0], timed([binary, "status"], pair)[0], first))
                state[name] = sum(
                    os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(os.path.join(pair, ".twinsync")) for f in fs
                )
        run("umount", MNT)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if os.path.exists(IMG):
            os.remove(IMG)
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    rsync_wall = med(results["rsync"], 0)
    kind = "varied words" if varied else "one line repeated"
    print(f"{files} files ({kind}), {rounds} rounds, a fresh ext4 at {MNT} ({IMG}) for every run")
    for name, xs in results.items():
        size = f"  .twinsync/ {state[name] / 1e6:.1f} MB" if name in state else ""
        print(f"{name:10s} wall {med(xs, 0):.2f} s (min {min(x[0] for x in xs):.2f})  "
              f"cpu {med(xs, 1):.2f} s  wall vs rsync {med(xs, 0) / rsync_wall:.2f}x{size}")
    for name, xs in idle.items():
        print(f"{name:10s} idle sync {med(xs, 0):.3f} s, status {med(xs, 1):.3f} s: "
              f"{med(xs, 0) / med(xs, 1):.2f}x (medians, wall); the first status after the sync {med(xs, 2):.3f} s")


if __name__ == "__main__":
    main()
