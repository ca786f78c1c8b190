#!/usr/bin/env bash
# Heroku smoke test: the app as Heroku runs it, on this machine.
#
#   bash deploy/heroku/smoke.sh          (from anywhere; ~2-3 min warm, ~4 min with a fresh venv)
#   HEROKU_SMOKE_KEEP_LOGS=/tmp/dir bash deploy/heroku/smoke.sh     keeps the dynos' logs
#
# 1. static: app.json against deploy/heroku/app-json.schema.json + cross-checks (Procfile, settings,
#    runtime.txt/.python-version, heroku.yml, Slack manifest) — deploy/heroku/checks/, with pytest;
# 2. the Procfile under honcho, one honcho per dyno, with the variables Heroku sets (PORT, DYNO,
#    DATABASE_URL to PostgreSQL, CLOUDAMQP_URL to RabbitMQ) and SLACK_API_URL to a fake Slack API:
#    release twice (idempotent), then web + worker + beat; a signed mention gets its reply; /readyz 200;
# 3. a dyno restart: SIGTERM to every process of the worker dyno while a reply is being posted (the
#    fake Slack API holds that call for SLOW_SECONDS), SIGKILL 30 s later as Heroku does; a new worker
#    dyno starts; the reply must have reached Slack exactly once and no message may be left behind;
# 4. measured and printed: RSS (and PSS) of the web and worker dynos, AMQP connections of our vhost;
# 5. Socket Mode: web scaled to 0, the socket dyno (SLACK_APP_TOKEN) answers a mention sent over the fake
#    Socket Mode server.
#
# Uses its own RabbitMQ vhost, PostgreSQL database and ports 18000-18999; removes them at exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

NAME="${HEROKU_SMOKE_NAME:-charla_heroku}"           # vhost and database
WEB_PORT="${HEROKU_SMOKE_WEB_PORT:-18000}"
FAKE_PORT="${HEROKU_SMOKE_FAKE_PORT:-18900}"
VENV="${HEROKU_SMOKE_VENV:-$ROOT/.cache/venv-heroku-smoke}"
SLOW_SECONDS="${HEROKU_SMOKE_SLOW_SECONDS:-8}"      # must be < CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT
SOFT_SHUTDOWN=15                                    # what app.json sets; < Heroku's 30 s
HEROKU_KILL_AFTER=30                                # Heroku: SIGKILL 30 s after SIGTERM
DYNO_MB=512
RSS_LIMIT_MB=320                                    # "fits with room to spare": ~60 % of a 512 MB dyno
PLAN_CONNECTIONS=20                                 # CloudAMQP Little Lemur
HOST_HEADER="charla-smoke-1a2b3c.herokuapp.com"     # matches app.json's ALLOWED_HOSTS=.herokuapp.com

STARTED=$(date +%s)
WORK="$(mktemp -d /tmp/charla-heroku-smoke.XXXXXX)"
declare -A DYNO_PID=()        # honcho pid per dyno (own session: kill by process group)
FAKE_PID=""
SAMPLER_PID=""
FAILED=1

say()  { printf '\n== heroku smoke: %s\n' "$*"; }
note() { printf 'heroku smoke: %s\n' "$*"; }
die()  { printf 'heroku smoke: FAILED: %s\n' "$*" >&2; exit 1; }

# ---- cleanup ---------------------------------------------------------------------------------
stop_group() {   # $1 = process group id; TERM, then KILL after $2 seconds
  local pgid="$1" wait="${2:-10}" i
  kill -0 -- "-$pgid" 2>/dev/null || return 0
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for ((i = 0; i < wait * 10; i++)); do kill -0 -- "-$pgid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pgid" 2>/dev/null || true
}
dyno_pgid() {  # the process group honcho started for a dyno's process (honcho logs "started (pid=N)")
  grep -ao 'started (pid=[0-9]*)' "$WORK/$1.log" 2>/dev/null | tail -n1 | tr -dc '0-9'
}
cleanup() {
  local rc=$?
  set +e
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
  for dyno in "${!DYNO_PID[@]}"; do
    pgid=$(dyno_pgid "$dyno"); [ -n "$pgid" ] && stop_group "$pgid" 25
    stop_group "${DYNO_PID[$dyno]}" 5
  done
  [ -n "$FAKE_PID" ] && stop_group "$FAKE_PID" 3
  if [ "$FAILED" = 1 ]; then
    for log in "$WORK"/*.log; do
      [ -f "$log" ] || continue
      printf '\n---- last lines of %s\n' "$(basename "$log")" >&2
      tail -n 40 "$log" >&2
    done
  fi
  if [ -n "${HEROKU_SMOKE_KEEP_LOGS:-}" ]; then mkdir -p "$HEROKU_SMOKE_KEEP_LOGS" && cp "$WORK"/*.log "$HEROKU_SMOKE_KEEP_LOGS"/; fi
  dropdb -h 127.0.0.1 -U postgres --if-exists "$NAME" >/dev/null 2>&1
  rabbitmqctl -q delete_vhost "$NAME" >/dev/null 2>&1
  rm -rf "$WORK"
  [ "$rc" = 0 ] && [ "$FAILED" = 1 ] && rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- services and tools ----------------------------------------------------------------------
say "services (PostgreSQL, RabbitMQ) and tools"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
pg_isready -h 127.0.0.1 -p 5432 || die "PostgreSQL is not answering on 127.0.0.1:5432"
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  rabbitmq-server -detached
fi
rabbitmqctl -q await_startup --timeout 60 >/dev/null 2>&1 || rabbitmqctl -q wait --timeout 60 "" >/dev/null 2>&1 || true
rabbitmqctl -q status >/dev/null 2>&1 || die "RabbitMQ is not running"
command -v ss >/dev/null || { apt-get install -y -q iproute2 >/dev/null || true; }

for port in "$WEB_PORT" "$FAKE_PORT"; do
  if ss -ltnH "( sport = :$port )" 2>/dev/null | grep -q .; then die "port $port is already in use"; fi
done

want_python="$(tr -d '[:space:]' < .python-version)"
PYTHON="$(command -v "python$want_python" || command -v python3)"
"$PYTHON" -c "import sys; v='%d.%d' % sys.version_info[:2]; sys.exit(0 if v == '$want_python' else 1)" \
  || die "$PYTHON is not Python $want_python (.python-version)"
stamp="$(cat requirements.txt deploy/heroku/requirements-smoke.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$stamp" ]; then
  note "installing the app and the smoke tools into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt -r deploy/heroku/requirements-smoke.txt \
    2>&1 | { grep -v "^WARNING: Location" || true; }
  [ "${PIPESTATUS[0]}" = 0 ] || die "pip install failed"
  echo "$stamp" > "$VENV/.stamp"
fi
export PATH="$VENV/bin:$PATH"

# ---- 1. static checks ------------------------------------------------------------------------
say "app.json schema + cross-checks (pytest deploy/heroku/checks)"
(cd deploy/heroku/checks && python -m pytest -q -s -c pytest.ini .) || die "static checks"

# ---- isolation: own database and vhost -------------------------------------------------------
say "fresh database $NAME and vhost $NAME"
dropdb -h 127.0.0.1 -U postgres --if-exists "$NAME"
createdb -h 127.0.0.1 -U postgres "$NAME"
rabbitmqctl -q delete_vhost "$NAME" >/dev/null 2>&1 || true
rabbitmqctl -q add_vhost "$NAME" >/dev/null
rabbitmqctl -q set_permissions -p "$NAME" guest '.*' '.*' '.*' >/dev/null

# ---- the fake Slack API ----------------------------------------------------------------------
setsid python -m tests.support.slow_fake_slack --bind "127.0.0.1:$FAKE_PORT" --socket-mode > "$WORK/fake-slack.log" 2>&1 &
FAKE_PID=$!
FAKE="http://127.0.0.1:$FAKE_PORT"
for _ in $(seq 100); do curl -fs "$FAKE/_calls" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$FAKE/_calls" >/dev/null || die "fake Slack API did not start"

# ---- what Heroku sets on every dyno (plus what the user sets through app.json) ------------------
unset CELERY_BROKER_URL RABBITMQ_URL DEBUG 2>/dev/null || true
export PORT="$WEB_PORT"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$NAME"
export CLOUDAMQP_URL="amqp://guest:guest@127.0.0.1:5672/$NAME"
export SLACK_API_URL="$FAKE/api/"
SLACK_BOT_TOKEN="xoxb-smoke-$(python -c 'import secrets; print(secrets.token_hex(8))')"
SLACK_SIGNING_SECRET="$(python -c 'import secrets; print(secrets.token_hex(16))')"
SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
export SLACK_BOT_TOKEN SLACK_SIGNING_SECRET SECRET_KEY
export ALLOWED_HOSTS=".herokuapp.com"
export WEB_CONCURRENCY=2 CELERY_WORKER_CONCURRENCY=2 CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT="$SOFT_SHUTDOWN"
export WORKER_EMBEDDED_BEAT=0 LOG_LEVEL=INFO PYTHONUNBUFFERED=1
export DATA_DIR="$WORK/data"            # a dyno's ephemeral filesystem
mkdir -p "$DATA_DIR"

# ---- the Slack app manifest command ---------------------------------------------------------------
python manage.py slack_manifest --url "https://$HOST_HEADER" > "$WORK/slack-manifest.json" || die "slack_manifest failed"
python - "$WORK/slack-manifest.json" "https://$HOST_HEADER" <<'PY' || die "slack_manifest printed a wrong manifest"
import json, sys
manifest = json.load(open(sys.argv[1]))
assert "YOUR-APP" not in json.dumps(manifest)
assert manifest["settings"]["event_subscriptions"]["request_url"] == sys.argv[2] + "/slack/events"
assert manifest["features"]["slash_commands"][0]["url"] == sys.argv[2] + "/slack/commands"
PY
note "manage.py slack_manifest: manifest filled in with https://$HOST_HEADER"

# ---- 2. release, twice -----------------------------------------------------------------------
db_snapshot() {
  local tables t
  tables=$(psql -h 127.0.0.1 -U postgres -d "$NAME" -Atc \
    "select tablename from pg_tables where schemaname='public' order by 1")
  for t in $tables; do printf '%s=%s\n' "$t" "$(psql -h 127.0.0.1 -U postgres -d "$NAME" -Atc "select count(*) from \"$t\"")"; done
}
release_once() {
  local t0=$SECONDS
  DYNO="release.$1" honcho -f Procfile start release > "$WORK/release-$1.log" 2>&1 \
    || { cat "$WORK/release-$1.log" >&2; die "release #$1 failed"; }
  echo $((SECONDS - t0))
}
say "release phase, twice (must be idempotent)"
r1=$(release_once 1); snap1="$(db_snapshot)"
r2=$(release_once 2); snap2="$(db_snapshot)"
[ -n "$snap1" ] || die "release created no tables"
[ "$snap1" = "$snap2" ] || { diff <(echo "$snap1") <(echo "$snap2"); die "the second release changed the data"; }
python manage.py migrate --check >/dev/null || die "migrations left unapplied after release"
rows=$(echo "$snap1" | awk -F= '{s+=$2} END {print s}')
note "release #1 ${r1}s, #2 ${r2}s; $(echo "$snap1" | wc -l) tables, $rows rows, identical after the second run"

# ---- start the dynos -------------------------------------------------------------------------
start_dyno() {   # $1 = process type [$2 = LOG_LEVEL]; one honcho per dyno, as Heroku runs one process type per dyno
  local type="$1"
  DYNO="$type.1" LOG_LEVEL="${2:-$LOG_LEVEL}" setsid honcho -f Procfile start "$type" >> "$WORK/$type.log" 2>&1 &
  DYNO_PID[$type]=$!
}
wait_for_log() {  # $1 log, $2 regex, $3 timeout s, $4 from byte offset
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    tail -c +"${4:-0}" "$1" 2>/dev/null | grep -Eq "$2" && return 0
    sleep 0.3
  done
  return 1
}
say "web + worker + beat, one honcho per dyno (DYNO=web.1, worker.1, beat.1)"
for type in web worker beat; do start_dyno "$type"; done
WEB="http://127.0.0.1:$WEB_PORT"
for _ in $(seq 150); do curl -fs -H "Host: $HOST_HEADER" "$WEB/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs -H "Host: $HOST_HEADER" "$WEB/healthz" >/dev/null || die "web did not answer /healthz"
wait_for_log "$WORK/worker.log" 'worker-[0-9]+@[^ ]+ ready' 60 || die "worker did not become ready"
wait_for_log "$WORK/beat.log" 'beat: Starting' 30 || die "beat did not start"
ready_status=$(curl -s -o "$WORK/readyz.json" -w '%{http_code}' -H "Host: $HOST_HEADER" "$WEB/readyz")
[ "$ready_status" = 200 ] || { cat "$WORK/readyz.json"; die "/readyz answered $ready_status"; }
note "/readyz 200: $(cat "$WORK/readyz.json")"

# ---- AMQP connections, sampled in the background --------------------------------------------------
count_connections() {
  rabbitmqctl -q list_connections vhost --no-table-headers 2>/dev/null | awk -v v="$NAME" '$1 == v' | wc -l
}
(
  while true; do count_connections >> "$WORK/connections.samples"; sleep 1; done
) &
SAMPLER_PID=$!

# ---- a signed mention → a reply ----------------------------------------------------------------
say "a signed mention to web → the reply at the fake Slack API"
mention() {
  python -m tests.smoke.send_mention --web "$WEB" --fake "$FAKE" --secret "$SLACK_SIGNING_SECRET" \
    --host-header "$HOST_HEADER" "$@"
}
mention --text help --expect help --timeout 60 || die "no reply to the mention"
for i in 1 2 3 4 5; do mention --text help --timeout 60 >/dev/null || die "no reply to mention #$((i + 1))"; done
note "6 mentions answered"

# ---- memory -----------------------------------------------------------------------------------
group_pids() { ps -o pid= -g "$1" | tr -s ' \n' ' '; }
group_rss_mb() { ps -o rss= -g "$1" | awk '{s+=$1} END {printf "%d", s/1024}'; }
group_pss_mb() {
  local pid total=0 kb
  for pid in $(group_pids "$1"); do
    kb=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo $((total / 1024))
}
measure_memory() {  # prints "web RSS PSS worker RSS PSS" and fails if a dyno is over the limit
  local web worker
  web=$(dyno_pgid web); worker=$(dyno_pgid worker)
  WEB_RSS=$(group_rss_mb "$web"); WEB_PSS=$(group_pss_mb "$web")
  WORKER_RSS=$(group_rss_mb "$worker"); WORKER_PSS=$(group_pss_mb "$worker")
  note "memory ($1): web dyno RSS ${WEB_RSS} MB (PSS ${WEB_PSS} MB, $(ps -o pid= -g "$web" | wc -l) processes); worker dyno RSS ${WORKER_RSS} MB (PSS ${WORKER_PSS} MB, $(ps -o pid= -g "$worker" | wc -l) processes); limit ${RSS_LIMIT_MB} MB of a ${DYNO_MB} MB dyno"
  ((WEB_RSS < RSS_LIMIT_MB)) || die "web dyno uses ${WEB_RSS} MB"
  ((WORKER_RSS < RSS_LIMIT_MB)) || die "worker dyno uses ${WORKER_RSS} MB"
}
say "memory after traffic"
measure_memory "after 6 mentions"

# Connections by dyno, from the sockets each dyno's processes hold to RabbitMQ.
connections_by_dyno() {
  local type pgid n pid
  for type in web worker beat; do
    pgid=$(dyno_pgid "$type"); n=0
    for pid in $(group_pids "$pgid"); do
      n=$((n + $(ss -tnpH state established '( dport = :5672 )' 2>/dev/null | grep -c "pid=$pid," || true)))
    done
    printf '%s=%s ' "$type" "$n"
  done
}
note "AMQP connections now, by dyno: $(connections_by_dyno)(rabbitmqctl: $(count_connections) in vhost $NAME)"

# ---- 3. dyno restart while a task runs --------------------------------------------------------------
say "dyno restart: SIGTERM the worker dyno while it posts a reply (Slack call held ${SLOW_SECONDS}s)"
curl -fs -X POST -H 'Content-Type: application/json' \
  -d "{\"method\": \"chat.postMessage\", \"seconds\": $SLOW_SECONDS, \"count\": 1}" "$FAKE/_slow" >/dev/null
mention --text help --timeout 120 > "$WORK/slow-mention.out" 2>&1 &
slow_mention_pid=$!
channel=""
for _ in $(seq 150); do
  channel=$(curl -fs "$FAKE/_inflight" | python -c 'import json,sys; c=json.load(sys.stdin); print(c[0]["channel"] if c else "")')
  [ -n "$channel" ] && break
  sleep 0.2
done
[ -n "$channel" ] || die "the slow reply never reached the fake Slack API"
sleep 1   # well inside the call
worker_pgid=$(dyno_pgid worker)
log_offset=$(($(stat -c %s "$WORK/worker.log") + 1))
note "worker dyno processes: $(group_pids "$worker_pgid")— SIGTERM to all of them (as Heroku does)"
t0=$(date +%s.%N)
kill -TERM -- "-$worker_pgid"
killed=no
for ((i = 0; i < HEROKU_KILL_AFTER * 10; i++)); do kill -0 -- "-$worker_pgid" 2>/dev/null || break; sleep 0.1; done
if kill -0 -- "-$worker_pgid" 2>/dev/null; then kill -KILL -- "-$worker_pgid"; killed=yes; fi
stop_s=$(python -c "import time; print(f'{time.time() - $t0:.1f}')")
for _ in $(seq 50); do kill -0 "${DYNO_PID[worker]}" 2>/dev/null || break; sleep 0.1; done
[ "$killed" = no ] || die "the worker did not stop within Heroku's ${HEROKU_KILL_AFTER}s (SIGKILL sent)"
shutdown_lines=$(tail -c +"$log_offset" "$WORK/worker.log" | grep -Eo 'Cold shutdown|Warm shutdown|Soft Shutdown[^,]*|WorkerLostError|Restoring [0-9]+ unacknowledged' | sort | uniq -c | tr -s ' \n' ' ')
note "worker dyno stopped ${stop_s}s after SIGTERM (soft shutdown ${SOFT_SHUTDOWN}s, Heroku kills at ${HEROKU_KILL_AFTER}s): $shutdown_lines"
restart_offset=$(($(stat -c %s "$WORK/worker.log") + 1))
start_dyno worker DEBUG   # DEBUG: the new worker logs every task it receives (a redelivery shows)
wait_for_log "$WORK/worker.log" 'worker-[0-9]+@[^ ]+ ready' 60 "$restart_offset" || die "restarted worker did not become ready"
wait "$slow_mention_pid" || { cat "$WORK/slow-mention.out"; die "the slow mention got no reply"; }
# Let anything handed back to the broker run on the new worker, then count.
queues_idle() {
  rabbitmqctl -q list_queues -p "$NAME" name messages messages_unacknowledged --no-table-headers 2>/dev/null \
    | awk '$1 ~ /^(deliveries|inbox|commands|outbox)$/ {s += $2 + $3} END {exit s != 0}'
}
for _ in $(seq 60); do queues_idle && break; sleep 0.5; done
queues_idle || die "messages left in the queues after the restart: $(rabbitmqctl -q list_queues -p "$NAME" name messages messages_unacknowledged --no-table-headers | tr '\n' ' ')"
sleep 5
posts=$(curl -fs "$FAKE/_calls" | python -c "
import json, sys
calls = json.load(sys.stdin)
print(sum(1 for c in calls if c['method'] == 'chat.postMessage' and c['body'].get('channel') == '$channel'))")
reply_row=$(psql -h 127.0.0.1 -U postgres -d "$NAME" -Atc \
  "select status || ' attempts=' || attempts from bot_reply where channel = '$channel'" 2>/dev/null || echo "?")
rerun=$(tail -c +"$restart_offset" "$WORK/worker.log" | grep -Ec 'Task app\.bot\.tasks\.(post_reply|process_event|answer_command)\[[^]]*\] received' || true)
note "after the restart: reply posted ${posts}x on $channel (database: ${reply_row}); tasks of that mention run again by the new worker: $rerun"
[ "$posts" = 1 ] || die "the reply was posted $posts times (want exactly once)"
case "$reply_row" in sent*) ;; *) die "the reply is not marked sent in the database: $reply_row" ;; esac

# ---- after the restart: still working, still within the budgets ------------------------------------
mention --text help --expect help --timeout 60 >/dev/null || die "no reply after the worker restart"
measure_memory "after the restart"
kill "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""
max_conn=$(sort -n "$WORK/connections.samples" | tail -n1)
samples=$(wc -l < "$WORK/connections.samples")
budget=$((WEB_CONCURRENCY + CELERY_WORKER_CONCURRENCY + 2 + 1))
note "AMQP connections in vhost $NAME: max ${max_conn} over ${samples} samples; budget ${budget} (web ${WEB_CONCURRENCY} + worker $((CELERY_WORKER_CONCURRENCY + 2)) + beat 1) + 1 transient for /readyz; plan limit ${PLAN_CONNECTIONS}"
((max_conn <= budget + 1)) || die "more AMQP connections than the documented budget"
((max_conn <= PLAN_CONNECTIONS)) || die "over the CloudAMQP plan's connection limit"

# ---- single-dyno mode -----------------------------------------------------------------------------
say "single-dyno mode: WORKER_EMBEDDED_BEAT=1 on the worker, beat scaled to 0"
for type in beat worker; do
  stop_group "$(dyno_pgid "$type")" "$HEROKU_KILL_AFTER"
  for _ in $(seq 50); do kill -0 "${DYNO_PID[$type]}" 2>/dev/null || break; sleep 0.1; done
  unset "DYNO_PID[$type]"
done
embedded_offset=$(($(stat -c %s "$WORK/worker.log") + 1))
WORKER_EMBEDDED_BEAT=1 INBOX_RETRY_SECONDS=3 start_dyno worker DEBUG
wait_for_log "$WORK/worker.log" 'worker-[0-9]+@[^ ]+ ready' 60 "$embedded_offset" || die "worker with embedded beat did not start"
wait_for_log "$WORK/worker.log" 'beat: Starting' 30 "$embedded_offset" || die "no beat inside the worker"
wait_for_log "$WORK/worker.log" 'Task app\.bot\.tasks\.retry_parked_events\[[^]]*\] received' 30 "$embedded_offset" \
  || die "the embedded beat scheduled nothing"
mention --text help --expect help --timeout 60 >/dev/null || die "no reply in single-dyno mode"
embedded=$(dyno_pgid worker)
EMB_RSS=$(group_rss_mb "$embedded"); EMB_PSS=$(group_pss_mb "$embedded")
note "single-dyno mode: beat runs inside the worker; reply OK; worker dyno RSS ${EMB_RSS} MB (PSS ${EMB_PSS} MB, $(ps -o pid= -g "$embedded" | wc -l) processes)"
((EMB_RSS < DYNO_MB && EMB_PSS < RSS_LIMIT_MB)) || die "the worker with embedded beat does not fit a ${DYNO_MB} MB dyno"

# ---- 5. Socket Mode: no web dyno ----------------------------------------------------------------
say "Socket Mode: heroku ps:scale web=0 socket=1 (SLACK_APP_TOKEN), a mention over the fake Socket Mode server"
socket_t0=$SECONDS
stop_group "$(dyno_pgid web)" "$HEROKU_KILL_AFTER"
for _ in $(seq 50); do kill -0 "${DYNO_PID[web]}" 2>/dev/null || break; sleep 0.1; done
unset "DYNO_PID[web]"
SLACK_APP_TOKEN="xapp-1-ASMOKE-1-$(python -c 'import secrets; print(secrets.token_hex(16))')" start_dyno socket
wait_for_log "$WORK/socket.log" 'connected to Slack' 60 || die "the socket dyno did not connect to the fake Socket Mode server"
python -m tests.smoke.send_socket_mention --fake "$FAKE" --text help --expect help --timeout 60 --settle 2 \
  || die "no reply to the mention sent over Socket Mode"
socket=$(dyno_pgid socket)
note "socket dyno: RSS $(group_rss_mb "$socket") MB (PSS $(group_pss_mb "$socket") MB); step took $((SECONDS - socket_t0))s"

# ---- stop every dyno as Heroku does ------------------------------------------------------------
say "stopping the dynos (SIGTERM, as Heroku does at a restart)"
for type in socket worker; do
  pgid=$(dyno_pgid "$type"); t0=$SECONDS
  stop_group "$pgid" "$HEROKU_KILL_AFTER"
  for _ in $(seq 50); do kill -0 "${DYNO_PID[$type]}" 2>/dev/null || break; sleep 0.1; done
  note "$type stopped in $((SECONDS - t0))s"
  unset "DYNO_PID[$type]"
done

FAILED=0
say "PASSED in $(($(date +%s) - STARTED))s"
