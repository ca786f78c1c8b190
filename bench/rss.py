"""Resident memory of a process and all its descendants: RSS summed, and PSS summed (shared pages
split between the processes that share them, so it does not count gunicorn's copy-on-write pages twice).

    python -m bench.rss PID [PID ...]   ->  one JSON line per PID
"""
from __future__ import annotations

import json
import os
import sys


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(children(p))
    return pids


def kib(path: str, key: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(pid: int) -> dict:
    pids = tree(pid)
    rss = {p: kib(f"/proc/{p}/status", "VmRSS") for p in pids}
    pss = {p: kib(f"/proc/{p}/smaps_rollup", "Pss") for p in pids}
    return {"pid": pid, "processes": len(pids), "rss_mb": round(sum(rss.values()) / 1024, 1),
            "pss_mb": round(sum(pss.values()) / 1024, 1),
            "rss_each_mb": [round(rss[p] / 1024, 1) for p in pids]}


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(json.dumps(measure(int(arg))))
