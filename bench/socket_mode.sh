#!/usr/bin/env bash
# Socket Mode benchmark: envelope -> ack and envelope -> reply at a steady rate (bench/socket_mode.py), on
# PostgreSQL + RabbitMQ with the socket process and one worker (prefork, 2 children), as bench/run.sh's (b).
#
#   bench/socket_mode.sh                                  # 50 envelopes/s, 2 rounds of 20 s
#   BENCH_STEADY_RATE=100 BENCH_STEADY_SECONDS=10 bench/socket_mode.sh
#
# Uses its own database and vhost (charla_bench_socket, recreated) and the test venv (.venv: the fake Socket
# Mode server needs `websockets`, a test dependency). Prints one BENCH_JSON line per round.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO"
NAME="${BENCH_SOCKET_NAME:-charla_bench_socket}"
PY="${BENCH_SOCKET_PYTHON:-$REPO/.venv/bin/python}"
"$PY" -c 'import websockets, aiohttp' 2>/dev/null || { echo "bench: $PY lacks websockets/aiohttp: run ./charla test once (it installs requirements-dev.txt)" >&2; exit 1; }

dropdb --if-exists --force -h 127.0.0.1 -U postgres "$NAME"
createdb -h 127.0.0.1 -U postgres "$NAME"
rabbitmqctl -q delete_vhost "$NAME" >/dev/null 2>&1 || true
rabbitmqctl -q add_vhost "$NAME" >/dev/null
rabbitmqctl -q set_permissions -p "$NAME" guest '.*' '.*' '.*' >/dev/null
RUN_DIR="$(mktemp -d /tmp/charla-bench-socket.XXXXXX)"
trap 'rm -rf "$RUN_DIR"; dropdb --if-exists --force -h 127.0.0.1 -U postgres "$NAME"; rabbitmqctl -q delete_vhost "$NAME" >/dev/null 2>&1 || true' EXIT

export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$NAME"
export CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672/$NAME"
export DATA_DIR="$RUN_DIR/data"
export SLACK_BOT_TOKEN="xoxb-bench-$("$PY" -c 'import secrets; print(secrets.token_hex(8))')"
export SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(40))')"
export SLACK_APP_TOKEN="xapp-1-ABENCH-1-$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
export LOG_LEVEL=WARNING CELERY_WORKER_CONCURRENCY=2   # bench/socket_mode.py runs the socket process at INFO
export PATH="$(dirname "$PY"):$PATH"
unset DJANGO_SETTINGS_MODULE DEBUG SLACK_SIGNING_SECRET
bin/process release >"$RUN_DIR/release.log" 2>&1 || { cat "$RUN_DIR/release.log" >&2; exit 1; }
"$PY" -m bench.socket_mode --rate "${BENCH_STEADY_RATE:-50}" --seconds "${BENCH_STEADY_SECONDS:-20}" \
  --rounds "${BENCH_STEADY_ROUNDS:-2}" --logs "$RUN_DIR"
