"""Collect one bench run's outputs into a table (stdout) and bench/results/latest.{md,json}.

    python -m bench.report RUN_DIR --md bench/results/latest.md --json bench/results/latest.json
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import statistics

TARGETS = {"ratio": 0.5, "ingest_p99_ms": 30.0, "e2e_p50_ms": 30.0, "e2e_p99_ms": 100.0, "rss_mb": 200.0,
           "saturation_p99_ms": 1000.0}


def bench_json(path: str) -> dict:
    with open(path) as f:
        for line in f:
            if line.startswith("BENCH_JSON "):
                return json.loads(line[len("BENCH_JSON "):])
    raise SystemExit(f"report: no BENCH_JSON line in {path}")


def med(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def ingest(run_dir: str, view: str) -> list[dict]:
    rows = []
    for path in sorted(glob.glob(os.path.join(run_dir, f"wrk-{view}-*.txt"))):
        r = bench_json(path)
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        r["errors"] = r["non2xx"] + r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
        rows.append(r)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--md")
    parser.add_argument("--json")
    args = parser.parse_args()
    d = args.run_dir
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)

    floor, events, baseline = ingest(d, "floor"), ingest(d, "events"), ingest(d, "baseline")
    ratios = [e["rps"] / f["rps"] for f, e in zip(floor, events)]
    base_ratios = [b["rps"] / f["rps"] for f, b in zip(floor, baseline)]
    steady = [bench_json(p) for p in sorted(glob.glob(os.path.join(d, "steady-*.txt")))]
    saturation = sorted((bench_json(p) for p in glob.glob(os.path.join(d, "saturation-*.txt"))),
                        key=lambda r: r["rate_target"])
    sustained = [r for r in saturation if r["missing"] == 0 and r["e2e_p99_ms"] is not None
                 and r["e2e_p99_ms"] < TARGETS["saturation_p99_ms"] and r["rate_achieved"] >= 0.9 * r["rate_target"]]
    with open(os.path.join(d, "rss.txt")) as f:
        web_mem, worker_mem = [json.loads(line) for line in f if line.strip()]

    summary = {
        "rounds": len(ratios),
        "floor": {"rps": med([r["rps"] for r in floor]), "p50_ms": med([r["p50_us"] / 1000 for r in floor]),
                  "p99_ms": med([r["p99_us"] / 1000 for r in floor]), "errors": sum(r["errors"] for r in floor)},
        "events": {"rps": med([r["rps"] for r in events]), "p50_ms": med([r["p50_us"] / 1000 for r in events]),
                   "p99_ms": med([r["p99_us"] / 1000 for r in events]), "errors": sum(r["errors"] for r in events)},
        "baseline": {"rps": med([r["rps"] for r in baseline]),
                     "p50_ms": med([r["p50_us"] / 1000 for r in baseline]),
                     "p99_ms": med([r["p99_us"] / 1000 for r in baseline]),
                     "errors": sum(r["errors"] for r in baseline)},
        "ratio": med(ratios),
        "ratios": [round(x, 3) for x in ratios],
        "baseline_ratio": med(base_ratios),
        "baseline_ratios": [round(x, 3) for x in base_ratios],
        "e2e": {"runs": len(steady), "rate": med([s["rate_achieved"] for s in steady]),
                "p50_ms": med([s["e2e_p50_ms"] for s in steady]), "p90_ms": med([s["e2e_p90_ms"] for s in steady]),
                "p99_ms": med([s["e2e_p99_ms"] for s in steady]),
                "max_ms": max((s["e2e_max_ms"] or 0) for s in steady) if steady else None,
                "ack_p50_ms": med([s["ack_p50_ms"] for s in steady]),
                "ack_p99_ms": med([s["ack_p99_ms"] for s in steady]),
                "missing": sum(s["missing"] for s in steady), "events": sum(s["events"] for s in steady)},
        "memory": {"web": web_mem, "worker": worker_mem},
        "saturation": {"sustained_rate": sustained[-1]["rate_achieved"] if sustained else None, "runs": saturation},
        "per_round": {"floor": floor, "events": events, "baseline": baseline, "steady": steady},
        "meta": meta,
    }
    f_, e_, b_, x = summary["floor"], summary["events"], summary["baseline"], summary["e2e"]
    ok = lambda cond: "met" if cond else "NOT met"  # noqa: E731
    checks = [
        ("ingest ≥ 0.5× floor", f"{summary['ratio']:.2f}×", ok(summary["ratio"] >= TARGETS["ratio"])),
        ("ingest p99 < 30 ms", f"{e_['p99_ms']:.1f} ms", ok(e_["p99_ms"] < TARGETS["ingest_p99_ms"])),
        ("end-to-end p50 < 30 ms", f"{x['p50_ms']:.1f} ms", ok(x["p50_ms"] < TARGETS["e2e_p50_ms"])),
        ("end-to-end p99 < 100 ms", f"{x['p99_ms']:.1f} ms", ok(x["p99_ms"] < TARGETS["e2e_p99_ms"])),
        ("web RSS < 200 MB", f"{web_mem['rss_mb']:.0f} MB", ok(web_mem["rss_mb"] < TARGETS["rss_mb"])),
        ("worker RSS < 200 MB", f"{worker_mem['rss_mb']:.0f} MB", ok(worker_mem["rss_mb"] < TARGETS["rss_mb"])),
    ]
    summary["targets"] = [{"target": t, "value": v, "result": r} for t, v, r in checks]

    lines = [
        f"# Charlandero benchmark — {meta['date']}",
        "",
        f"Machine: {meta['nproc']} CPUs ({meta['cpu']}), {meta['mem_gib']} GiB RAM, {meta['os']}; "
        f"PostgreSQL {meta['postgres']}, RabbitMQ {meta['rabbitmq']}, {meta['wrk']}, Python {meta['python']}.",
        f"Command: `{meta['command']}`",
        f"Settings: {meta['settings']}",
        "",
        f"## (a) Ingest — wrk -t1 -c16, {meta['wrk_seconds']} s per run, median of {summary['rounds']} "
        f"rounds, views interleaved ({meta['body_bytes']}-byte signed body, one pre-signed event; no worker "
        f"consuming, queues purged after each run)",
        "",
        "| view | req/s | p50 | p99 | errors/non-2xx |",
        "|---|---:|---:|---:|---:|",
        f"| floor: verify signature, 200 (`/bench/floor`) | {f_['rps']:.0f} | {f_['p50_ms']:.1f} ms | "
        f"{f_['p99_ms']:.1f} ms | {f_['errors']} |",
        f"| `/slack/events` (verify, parse, publish the delivery to RabbitMQ) | {e_['rps']:.0f} | {e_['p50_ms']:.1f} ms | "
        f"{e_['p99_ms']:.1f} ms | {e_['errors']} |",
        f"| **ratio `/slack/events` / floor** | **{summary['ratio']:.2f}×** | | | per run: "
        f"{', '.join(f'{r:.2f}' for r in summary['ratios'])} |",
        f"| for comparison: `/slack/events` with the usual `process_event.apply_async()` per call "
        f"(`/bench/events-apply-async`) "
        f"| {b_['rps']:.0f} | {b_['p50_ms']:.1f} ms | {b_['p99_ms']:.1f} ms | {b_['errors']} |",
        f"| ratio apply_async / floor | {summary['baseline_ratio']:.2f}× | | | per run: "
        f"{', '.join(f'{r:.2f}' for r in summary['baseline_ratios'])} |",
        "",
        f"## (b) End to end — {x['rate']:.1f} events/s for {meta['steady_seconds']} s, one worker "
        f"(prefork -c 2), median of {x['runs']} run(s)",
        "",
        "| signed mention → reply recorded by the fake Slack | p50 | p90 | p99 | max | web ack p50 / p99 |",
        "|---|---:|---:|---:|---:|---:|",
        f"| {x['events']} events, {x['missing']} without reply | {x['p50_ms']:.1f} ms | {x['p90_ms']:.1f} ms | "
        f"{x['p99_ms']:.1f} ms | {x['max_ms']:.1f} ms | {x['ack_p50_ms']:.1f} / {x['ack_p99_ms']:.1f} ms |",
        "",
        "## (d) Saturation — one worker (prefork -c 2), rising steady rates, "
        f"{len(saturation)} run(s) of {saturation[0]['events'] if saturation else 0} events or more",
        "",
        "| target rate | achieved | replied / sent | e2e p50 | p99 | max |",
        "|---:|---:|---:|---:|---:|---:|",
        *[f"| {r['rate_target']:.0f}/s | {r['rate_achieved']:.0f}/s | {r['replied']} / {r['events']} | "
          f"{r['e2e_p50_ms'] or 0:.0f} ms | {r['e2e_p99_ms'] or 0:.0f} ms | {r['e2e_max_ms'] or 0:.0f} ms |"
          for r in saturation],
        "",
        "Highest rate sustained with end-to-end p99 < 1 s: "
        + (f"**{sustained[-1]['rate_achieved']:.0f} events/s**" if sustained else "none measured")
        + (" (the last rate tried still met it: the ceiling is higher)" if sustained and saturation
           and sustained[-1] is saturation[-1] else ""),
        "",
        "## (c) Memory after the run",
        "",
        "| process tree | processes | RSS (sum) | PSS (sum) | RSS each |",
        "|---|---:|---:|---:|---|",
        f"| web: gunicorn master + workers | {web_mem['processes']} | {web_mem['rss_mb']:.0f} MB | "
        f"{web_mem['pss_mb']:.0f} MB | {' + '.join(f'{v:.0f}' for v in web_mem['rss_each_mb'])} MB |",
        f"| worker: celery parent + children | {worker_mem['processes']} | {worker_mem['rss_mb']:.0f} MB | "
        f"{worker_mem['pss_mb']:.0f} MB | {' + '.join(f'{v:.0f}' for v in worker_mem['rss_each_mb'])} MB |",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        *[f"| {t} | {v} | {r} |" for t, v, r in checks],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
