#!/usr/bin/env python3
"""Warm `twinsync status` of several builds against `git status`, in interleaved rounds.

    benches/status_ab.py PAIR ROUNDS NAME=BINARY... [git=git]
    benches/status_ab.py /var/tmp/t/p 21 before=/tmp/old after=target/release/twinsync git=git

PAIR is a synced pair as `benches/status.sh` builds it (its `left` folder a git
repository). `NAME=BINARY:DIR` runs that build in another copy of the pair (`cp -a PAIR
DIR`), for builds whose stat caches differ in format and would rehash each other's;
compare each such build with git in its own copy (`DIR git=git`), not across copies.
`NAME=VAR=value,VAR2=value@BINARY` runs the binary with those environment variables
(glibc tunables, an LD_PRELOAD allocator). `--drop-caches` (root) empties the kernel's
caches first (`echo 3 > /proc/sys/vm/drop_caches`): on a machine whose dentry hash table
is small, the tree whose dentries were made last looks its files up fastest, which moved
one binary 15% between two copies of the tree. Each round runs every build once, in the
order given, so all see the same machine; the report gives the medians of CPU (user +
system, getrusage) and wall, minor page faults, and for each build both the ratio of its
medians to git's and the median of its per-round ratios.
"""
import os
import resource
import statistics
import subprocess
import sys
import time


def main():
    drop = "--drop-caches" in sys.argv
    argv = [a for a in sys.argv if a != "--drop-caches"]
    pair, rounds = argv[1], int(argv[2])
    builds = []
    for arg in argv[3:]:
        name, spec = arg.split("=", 1)
        env = dict(os.environ)
        if "@" in spec:
            assignments, spec = spec.split("@", 1)
            for kv in assignments.split(","):
                k, v = kv.split("=", 1)
                env[k] = v
        if spec == "git":
            builds.append((name, ["git", "status", "--porcelain"], os.path.join(pair, "left"), env))
        else:
            spec, _, cwd = spec.partition(":")
            builds.append((name, [spec, "status"], cwd or pair, env))

    def once(cmd, cwd, env):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, after.ru_minflt - before.ru_minflt

    results = {b[0]: [] for b in builds}
    loads = []
    if drop:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    for _, cmd, cwd, env in builds:
        once(cmd, cwd, env)  # warm
    for _ in range(rounds):
        loads.append(os.getloadavg()[0])
        for name, cmd, cwd, env in builds:
            results[name].append(once(cmd, cwd, env))

    med = lambda xs, i: statistics.median(x[i] for x in xs)
    print(f"{rounds} rounds; 1-minute load average min/median/max "
          f"{min(loads):.2f}/{statistics.median(loads):.2f}/{max(loads):.2f}")
    git = results.get("git")
    for name, xs in results.items():
        line = f"{name:10s} wall {med(xs, 0):.3f} s  cpu {med(xs, 1):.3f} s  page faults {med(xs, 2):.0f}"
        if git and name != "git":
            per_wall = statistics.median(a[0] / b[0] for a, b in zip(xs, git))
            per_cpu = statistics.median(a[1] / b[1] for a, b in zip(xs, git))
            line += (f"  vs git: wall {med(xs, 0) / med(git, 0):.2f}x (per round {per_wall:.2f}x),"
                     f" cpu {med(xs, 1) / med(git, 1):.2f}x (per round {per_cpu:.2f}x)")
        print(line)


if __name__ == "__main__":
    main()
