#!/usr/bin/env bash
# Charlandero benchmark: ingest vs the floor (a), end-to-end latency at a steady rate (b), memory (c).
#
#   bench/run.sh                      # 3 interleaved ingest rounds of 15 s each, 3 steady runs of 20 s
#   BENCH_ROUNDS=1 BENCH_STEADY_ROUNDS=1 bench/run.sh    # quicker
#
# Needs local PostgreSQL (postgres@127.0.0.1:5432, trust auth) and RabbitMQ (guest@127.0.0.1:5672,
# rabbitmqctl on PATH). Uses its own database and vhost (charla_bench, both recreated), ports 28000 (web)
# and 28001 (fake Slack; below Linux's ephemeral range, which a run's own connections churn through), and
# its own venv (.cache/venv-bench). Results: printed, and written to bench/results/latest.md and latest.json.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO"

WEB_PORT="${BENCH_WEB_PORT:-28000}"
FAKE_PORT="${BENCH_FAKE_PORT:-28001}"
ROUNDS="${BENCH_ROUNDS:-3}"
STEADY_ROUNDS="${BENCH_STEADY_ROUNDS:-3}"
WRK_SECONDS="${BENCH_WRK_SECONDS:-15}"
STEADY_SECONDS="${BENCH_STEADY_SECONDS:-20}"
STEADY_RATE="${BENCH_STEADY_RATE:-50}"
VENV="${BENCH_VENV:-$REPO/.cache/venv-bench}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
AMQP_URL="${BENCH_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}"
DB=charla_bench
VHOST=charla_bench
RESULTS="$REPO/bench/results"

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---- tools ---------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  say "installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }
fi
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)" != "$want" ]; then
  say "creating $VENV from requirements.txt"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$VENV/.requirements.sha256"
fi
PY="$VENV/bin/python"

# ---- services: our own database and vhost, fresh each run ------------------------------------------
pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL is not answering on 127.0.0.1:5432"
dropdb --if-exists --force -h 127.0.0.1 -U postgres "$DB"
createdb -h 127.0.0.1 -U postgres "$DB"
rabbitmqctl -q delete_vhost "$VHOST" >/dev/null 2>&1 || true
rabbitmqctl -q add_vhost "$VHOST" >/dev/null
rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*' >/dev/null
# Classic queues on their second storage version, as the Ansible role's broker runs them (bench/README.md)
if [ "${BENCH_QUEUE_VERSION:-2}" = 2 ]; then
  rabbitmqctl -q set_policy -p "$VHOST" --apply-to queues charla-classic-v2 '.*' '{"queue-version": 2}' >/dev/null
fi
for port in "$WEB_PORT" "$FAKE_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is already in use"; fi
done

# ---- processes -------------------------------------------------------------------------------------
RUN_DIR="$(mktemp -d /tmp/charla-bench.XXXXXX)"
declare -A PIDS=()
cleanup() {
  local status=$? role pid
  for role in worker web fake; do
    pid="${PIDS[$role]:-}"
    [ -n "$pid" ] || continue
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    echo "bench: failed (exit $status); last lines of the logs:" >&2
    for log in "$RUN_DIR"/{fake,release,web,worker}.log; do
      [ -f "$log" ] && { echo "--- $log" >&2; grep -v '"POST /' "$log" | tail -20 >&2; }
    done
  fi
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $RUN_DIR" >&2; else rm -rf "$RUN_DIR"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rand() { "$PY" -c "import secrets; print(secrets.token_hex($1))"; }
export DATABASE_URL="$PG_URL/$DB"
export CELERY_BROKER_URL="$AMQP_URL/$VHOST"
export DATA_DIR="$RUN_DIR/data"
export SLACK_BOT_TOKEN="xoxb-bench-$(rand 8)"
export SLACK_SIGNING_SECRET="$(rand 16)"
export SLACK_API_URL="http://127.0.0.1:$FAKE_PORT/api/"
export SECRET_KEY="$(rand 32)"
export LOG_LEVEL=WARNING WEB_CONCURRENCY="${BENCH_WEB_CONCURRENCY:-2}" CELERY_WORKER_CONCURRENCY=2 PORT="$WEB_PORT"
export PATH="$VENV/bin:$PATH"
unset DJANGO_SETTINGS_MODULE DEBUG

start() {  # start ROLE LOG CMD...: own process group, so cleanup stops it with its children
  local role=$1 log=$2; shift 2
  setsid "$@" >"$RUN_DIR/$log" 2>&1 &
  PIDS[$role]=$!
}
wait_http() {  # wait_http URL ROLE
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "$1" && return 0
    kill -0 "${PIDS[$2]}" 2>/dev/null || die "$2 exited before answering $1"
    sleep 0.2
  done
  die "$1 did not answer within 60 s"
}

say "fake Slack on :$FAKE_PORT, release, web on :$WEB_PORT (gunicorn.conf.py; WEB_CONCURRENCY=$WEB_CONCURRENCY)"
start fake fake.log "$PY" -m tests.support.fake_slack --bind "127.0.0.1:$FAKE_PORT"
bin/process release >"$RUN_DIR/release.log" 2>&1 || { cat "$RUN_DIR/release.log" >&2; die "release failed"; }
DJANGO_SETTINGS_MODULE=bench.settings start web web.log bin/process web
wait_http "http://127.0.0.1:$FAKE_PORT/_calls" fake
wait_http "http://127.0.0.1:$WEB_PORT/healthz" web

# ---- the hand-off publishes the delivery as received, and is fork-safe (nothing consumes yet) -------------
"$PY" -m bench.handoff_check >&2 || die "app.bot.ingress.hand_off does not publish what it should"

# ---- (a) ingest: floor and /slack/events, interleaved, no worker consuming -------------------------------
LUA="$RUN_DIR/signed.lua"
wrk_run() {  # wrk_run PATH SECONDS OUT
  BODY_BYTES="$("$PY" -m bench.wrk_script --secret "$SLACK_SIGNING_SECRET" --out "$LUA")"
  wrk -t1 -c16 -d"$2"s --timeout 5s -s "$LUA" "http://127.0.0.1:$WEB_PORT$1" >"$3"
  grep -q '^BENCH_JSON ' "$3" || { cat "$3" >&2; die "wrk gave no result for $1"; }
}
purge() { "$PY" -m bench.purge >>"$RUN_DIR/purge.log"; }

# Three views, each run for $WRK_SECONDS s per round, the order rotated every round:
#   floor     /bench/floor               verify the signature, 200
#   events    /slack/events              the app as it is
#   baseline  /bench/events-apply-async  /slack/events with the usual Celery hand-off (apply_async per call)
declare -A VIEW_PATH=([floor]=/bench/floor [events]=/slack/events [baseline]=/bench/events-apply-async)
say "(a) warm-up: 3 s each"
for view in floor events baseline; do wrk_run "${VIEW_PATH[$view]}" 3 "$RUN_DIR/warm-$view.txt"; done
purge
for r in $(seq 1 "$ROUNDS"); do
  case $((r % 3)) in
    1) order="floor events baseline" ;;
    2) order="events baseline floor" ;;
    0) order="baseline floor events" ;;
  esac
  for view in $order; do
    say "(a) round $r/$ROUNDS: ${VIEW_PATH[$view]} for $WRK_SECONDS s at -c16"
    wrk_run "${VIEW_PATH[$view]}" "$WRK_SECONDS" "$RUN_DIR/wrk-$view-$r.txt"
    sed -n 's/^BENCH_JSON //p' "$RUN_DIR/wrk-$view-$r.txt" >&2
    purge
  done
done
parked="$(psql -h 127.0.0.1 -U postgres -d "$DB" -tAc 'select count(*) from bot_inboundevent where parked')"
[ "$parked" = 0 ] || die "$parked deliveries were parked in the database during ingest (broker trouble?)"

# ---- (b) end to end at a steady rate, one worker ----------------------------------------------------------
say "(b) worker (prefork -c $CELERY_WORKER_CONCURRENCY); $STEADY_RATE events/s for $STEADY_SECONDS s"
# BENCH_WORKER_SETTINGS=<module> runs the worker with other settings (what-if experiments; default app.settings).
DJANGO_SETTINGS_MODULE="${BENCH_WORKER_SETTINGS:-app.settings}" start worker worker.log bin/process worker
for r in $(seq 1 "$STEADY_ROUNDS"); do
  "$PY" -m bench.steady --web "http://127.0.0.1:$WEB_PORT" --fake "http://127.0.0.1:$FAKE_PORT" \
    --secret "$SLACK_SIGNING_SECRET" --rate "$STEADY_RATE" --seconds "$STEADY_SECONDS" >"$RUN_DIR/steady-$r.txt" \
    || { cat "$RUN_DIR/steady-$r.txt" >&2; die "steady run $r failed"; }
  sed -n 's/^BENCH_JSON //p' "$RUN_DIR/steady-$r.txt" >&2
done

# ---- (d) saturation: the highest steady rate this one worker answers with end-to-end p99 < 1 s -----------
SAT_RATES="${BENCH_SAT_RATES:-50 55 60 65 70 75 85 100 125 150}"
SAT_SECONDS="${BENCH_SAT_SECONDS:-10}"
for rate in $SAT_RATES; do
  say "(d) saturation: $rate events/s for $SAT_SECONDS s"
  "$PY" -m bench.steady --web "http://127.0.0.1:$WEB_PORT" --fake "http://127.0.0.1:$FAKE_PORT" \
    --secret "$SLACK_SIGNING_SECRET" --rate "$rate" --seconds "$SAT_SECONDS" --warmup-seconds 1 \
    --reply-timeout 20 --allow-missing >"$RUN_DIR/saturation-$rate.txt" \
    || { cat "$RUN_DIR/saturation-$rate.txt" >&2; die "saturation run at $rate/s failed"; }
  line="$(sed -n 's/^BENCH_JSON //p' "$RUN_DIR/saturation-$rate.txt")"
  echo "$line" >&2
  # Past the point where p99 reaches 1 s, events go missing, or the sender cannot keep the rate: stop.
  "$PY" -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["missing"]==0 and (r["e2e_p99_ms"] or 1e9)<1000 and r["rate_achieved"]>=0.9*r["rate_target"] else 1)' "$line" || break
  "$PY" -m bench.purge >>"$RUN_DIR/purge.log"
done
"$PY" -m bench.purge >>"$RUN_DIR/purge.log"

# ---- (c) memory after the run -------------------------------------------------------------------------------
"$PY" -m bench.rss "${PIDS[web]}" "${PIDS[worker]}" >"$RUN_DIR/rss.txt"

# ---- report ------------------------------------------------------------------------------------------------
if grep -q 'Traceback\|broker unreachable' "$RUN_DIR/web.log" "$RUN_DIR/worker.log"; then
  grep -h -B2 -A12 'Traceback\|broker unreachable' "$RUN_DIR/web.log" "$RUN_DIR/worker.log" | head -60 >&2
  die "errors in the web or worker log"
fi
BODY_BYTES="$BODY_BYTES" ROUNDS="$ROUNDS" WRK_SECONDS="$WRK_SECONDS" STEADY_SECONDS="$STEADY_SECONDS" \
WORKER_SETTINGS="${BENCH_WORKER_SETTINGS:-app.settings}" COMMAND="${BENCH_COMMAND:-bench/run.sh}" "$PY" - "$RUN_DIR/meta.json" <<'EOF'
import datetime, json, os, platform, subprocess, sys
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return "?"
from app.environment import load
web = load()  # the settings web ran with
mem_kib = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
meta = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "nproc": os.cpu_count(),
    "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1") or platform.processor(),
    "mem_gib": round(mem_kib / 1024 / 1024, 1),
    "os": sh(". /etc/os-release && echo $PRETTY_NAME") + ", Linux " + platform.release(),
    "postgres": sh("psql -h 127.0.0.1 -U postgres -tAc 'show server_version'"),
    "rabbitmq": sh("rabbitmqctl version"),
    "wrk": sh("wrk -v 2>&1 | head -1").split(" [")[0],
    "python": platform.python_version(),
    "command": os.environ["COMMAND"],
    "settings": f"gunicorn {web.gunicorn_worker_class}, WEB_CONCURRENCY={web.web_concurrency}, "
                f"GUNICORN_THREADS={web.gunicorn_threads}, production gunicorn.conf.py (access log on, workers not recycled); "
                "celery prefork CELERY_WORKER_CONCURRENCY=2, prefetch multiplier 1, acks late; LOG_LEVEL=WARNING; "
                "no beat; worker DJANGO_SETTINGS_MODULE=" + os.environ["WORKER_SETTINGS"],
    "worker_settings": os.environ["WORKER_SETTINGS"],
    "body_bytes": int(os.environ["BODY_BYTES"]),
    "rounds": int(os.environ["ROUNDS"]),
    "wrk_seconds": int(os.environ["WRK_SECONDS"]),
    "steady_seconds": int(os.environ["STEADY_SECONDS"]),
}
json.dump(meta, open(sys.argv[1], "w"), indent=2)
EOF
mkdir -p "$RESULTS"
"$PY" -m bench.report "$RUN_DIR" --md "$RESULTS/latest.md" --json "$RESULTS/latest.json"
echo >&2
echo "bench: wrote $RESULTS/latest.md and latest.json" >&2
