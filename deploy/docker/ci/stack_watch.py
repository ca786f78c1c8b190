"""TEST-ONLY (deploy/docker/compose-smoke.sh): waits for a Compose stack to be up, checking its start order.

    python3 stack_watch.py --timeout 300 --healthy web,worker,beat [--order] -- docker compose -p P -f A -f B

Polls `<compose command> ps -a --format json` until every container of the --healthy services is running
and healthy (fails at the timeout, or as soon as one of them exits). With --order, it also checks in every
snapshot what compose.yml's depends_on promises: release starts only once postgres and rabbitmq have been
seen healthy; web, worker and beat run only once release has exited with code 0; and there is exactly one
release container. Prints when each service first ran, became healthy or exited (seconds from the start).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

APP_AFTER_RELEASE = ("web", "worker", "beat")
RELEASE_NEEDS = ("postgres", "rabbitmq")


def snapshot(compose: list[str]) -> list[dict]:
    out = subprocess.run([*compose, "ps", "-a", "--format", "json"], check=True, capture_output=True,
                         text=True, timeout=60).stdout.strip()
    if not out:
        return []
    if out.startswith("["):   # older Compose versions print one array
        return json.loads(out)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--healthy", required=True, help="comma-separated services that must end up healthy")
    p.add_argument("--order", action="store_true", help="check the start order of a first `up`")
    p.add_argument("compose", nargs=argparse.REMAINDER, help="-- then the compose command prefix")
    args = p.parse_args()
    compose = args.compose[1:] if args.compose[:1] == ["--"] else args.compose
    wanted = args.healthy.split(",")

    started = time.monotonic()
    first: dict[tuple[str, str], float] = {}     # (service, event) -> seconds
    problems: list[str] = []

    def seen(service: str, event: str) -> None:
        first.setdefault((service, event), round(time.monotonic() - started, 1))

    while True:
        rows = snapshot(compose)
        now_healthy = {r["Service"] for r in rows if r.get("Health") == "healthy"}
        for row in rows:
            service, state = row["Service"], row.get("State")
            if state == "running":
                seen(service, "running")
            if row.get("Health") == "healthy":
                seen(service, "healthy")
            if state == "exited":
                seen(service, f"exited {row.get('ExitCode')}")
        if args.order:
            release = [r for r in rows if r["Service"] == "release"]
            if len(release) > 1:
                problems.append(f"{len(release)} release containers")
            if any(r.get("State") in ("running", "exited") for r in release):
                for dep in RELEASE_NEEDS:
                    if (dep, "healthy") not in first:
                        problems.append(f"release started before {dep} was healthy")
            for row in rows:
                if row["Service"] in APP_AFTER_RELEASE and row.get("State") == "running" \
                        and ("release", "exited 0") not in first:
                    problems.append(f"{row['Service']} ran before release had completed")
        if problems:
            break
        targets = [r for r in rows if r["Service"] in wanted]
        dead = [r["Name"] for r in targets if r.get("State") in ("exited", "dead")]
        if dead:
            problems.append(f"exited: {', '.join(dead)}")
            break
        if {r["Service"] for r in targets} >= set(wanted) and all(r.get("Health") == "healthy" for r in targets):
            break
        if time.monotonic() - started > args.timeout:
            waiting = sorted(f"{r['Name']} ({r.get('State')}, {r.get('Health') or 'no health'})"
                             for r in targets if r.get("Health") != "healthy")
            problems.append(f"not healthy within {args.timeout:.0f} s: {', '.join(waiting) or 'no containers yet'}"
                            f" (healthy so far: {', '.join(sorted(now_healthy)) or 'none'})")
            break
        time.sleep(0.5)

    timeline = ", ".join(f"{service} {event} {at}s" for (service, event), at in sorted(first.items(), key=lambda i: i[1]))
    print(f"stack: {timeline}")
    if problems:
        print("stack: FAILED: " + "; ".join(sorted(set(problems))), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
