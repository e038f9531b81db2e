#!/usr/bin/env python3
"""First syncs of several builds against `rsync -a`, each run on a freshly made ext4.

    sudo benches/first_sync_ab.py ROUNDS NAME=BINARY... [--files N]
    sudo benches/first_sync_ab.py 5 before=/tmp/old after=target/bindings/twinsync
    benches/first_sync_ab.py --tree DIR N     # only write the tree (first_sync.sh uses it)

ext4 searches past recently deleted inodes when it creates files, which slowed every
tool by half after earlier runs on one filesystem (see first_sync.sh), so every run here
gets a filesystem of its own: a loop file (IMG, default /var/tmp/twinsync-bench.img;
put it on /dev/shm to measure in RAM) made anew with mkfs.ext4 and mounted at MNT
(default /mnt/twinsync-bench). The tree is first_sync.sh's: N files of 4 KB (default
20,000) in 100 folders. Each round runs rsync, then every build, in the order given;
`twinsync init` is not timed, `twinsync sync` is, and the two sides must then be equal.
The report gives medians of wall and CPU (user + system, getrusage) and each build's
median wall against rsync's. Needs root, python3, rsync and mkfs.ext4.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

IMG = os.environ.get("IMG", "/var/tmp/twinsync-bench.img")
MNT = os.environ.get("MNT", "/mnt/twinsync-bench")


def make_tree(root, n):
    """N files of 4 KB each, every one different, in 100 folders."""
    for i in range(n):
        d = os.path.join(root, f"d{i % 100:02d}")
        os.makedirs(d, exist_ok=True)
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
        make_tree(tree, files)
        results = {"rsync": []}
        results.update({name: [] for name, _ in builds})
        for _ in range(rounds):
            pair = fresh_fs(tree)
            results["rsync"].append(timed(["rsync", "-a", "left/", "right/"], pair))
            for name, binary in builds:
                pair = fresh_fs(tree)
                run(binary, "init", "left", "right", cwd=pair)
                results[name].append(timed([binary, "sync"], pair))
                run("diff", "-r", "left", "right", cwd=pair)
        run("umount", MNT)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if os.path.exists(IMG):
            os.remove(IMG)
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    rsync_wall = med(results["rsync"], 0)
    print(f"{files} files, {rounds} rounds, a fresh ext4 at {MNT} ({IMG}) for every run")
    for name, xs in results.items():
        print(f"{name:10s} wall {med(xs, 0):.2f} s (min {min(x[0] for x in xs):.2f})  "
              f"cpu {med(xs, 1):.2f} s  wall vs rsync {med(xs, 0) / rsync_wall:.2f}x")


if __name__ == "__main__":
    main()
