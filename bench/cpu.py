"""CPU time used by process trees between two snapshots (what costs what, robust to a noisy machine).

    python -m bench.cpu snap NAME=PID ... > a.json ; ... ; python -m bench.cpu diff a.json b.json N
PIDs are roots of process trees; NAME=@postgres / NAME=@beam.smp take every process with that command.
"""
from __future__ import annotations

import json
import os
import sys

from bench.rss import tree

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime (children already reaped count in cutime/cstime)
    return sum(int(x) for x in fields[11:15]) / TICK


def by_command(name: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == name:
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def snap(specs: list[str]) -> dict:
    out = {}
    for spec in specs:
        name, _, root = spec.partition("=")
        pids = by_command(root[1:]) if root.startswith("@") else tree(int(root))
        out[name] = {str(p): cpu_seconds(p) for p in pids}
    return out


def diff(a: dict, b: dict, n: int) -> dict:
    # a process that ended between the snapshots was reaped by its parent and counted there
    return {name: round(sum(b[name].values()) - sum(a[name].get(p, 0.0) for p in b[name]), 3) * 1000 / n
            for name in b}


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        print(json.dumps(snap(sys.argv[2:])))
    else:
        a, b = (json.load(open(p)) for p in sys.argv[2:4])
        per = diff(a, b, int(sys.argv[4]))
        print(json.dumps({k: round(v, 3) for k, v in per.items()}))
