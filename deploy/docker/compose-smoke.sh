#!/usr/bin/env bash
# Compose smoke test: deploy/docker/compose.yml, unchanged, run by Docker Compose v2 the way a user runs it
# (deploy/docker/README.md, "Testing the compose stack").
#
#   bash deploy/docker/compose-smoke.sh                # here: podman behind Docker's API, stand-in images (root)
#   bash deploy/docker/compose-smoke.sh --real-images  # a Docker engine that pulls the official images (GitHub)
#
# The stack gets a test-only override (ci/compose.ci.yml: a fake Slack Web API) and an env file made from
# .env.example, as a user fills it in (ALLOWED_HOSTS=bot.example.com; free ports on 127.0.0.1). Proves:
#  1. `docker compose config` accepts both files; `up -d` starts postgres and rabbitmq, then release runs
#     once, after both are healthy, and exits 0; only then web, worker and beat start; all become healthy;
#  2. /readyz answers 200 through the published port; a signed mention, sent twice as Slack retries it, gets
#     exactly one reply at the fake Slack API;
#  3. `up -d --scale worker=2`: both workers consume every queue, and 6 mentions get exactly one reply each;
#  4. `restart` keeps the data (rows in PostgreSQL) and the bot answers after it;
#  5. `down` removes the containers and the network and keeps the volumes; `--profile monitoring up -d` (with
#     CELERY_WORKER_EVENTS=1) brings the same data back, Flower starts healthy and shows the worker and its tasks;
#  6. `--profile monitoring down -v` leaves nothing: no container, network or volume of the project.
# Here (no Docker engine, no registry): the app image is built with podman, and the compose file's postgres,
# rabbitmq and flower images are test-only stand-ins built from Debian and PyPI packages (ci/*.Dockerfile);
# Docker Compose talks to `podman system service`; a loop runs the containers' health checks every 2 s,
# since podman without systemd never runs them itself. With --real-images, none of that: the engine builds,
# pulls and runs the health checks at their intervals.
# Environment: CHARLA_DOCKER_CACHE as for smoke.sh (store, base image, tools); SMOKE_PURGE=1 also removes
# the stand-in images.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
smoke_name="compose-smoke"
# shellcheck source=lib.sh
. "$here/lib.sh"

mode=standins
case "${1:-}" in
  --real-images) mode=real ;;
  "") ;;
  *) echo "usage: bash deploy/docker/compose-smoke.sh [--real-images]" >&2; exit 64 ;;
esac

project="charla-smoke-$$"
tmp="$(mktemp -d /tmp/charla-compose-smoke.XXXXXX)"
chmod 700 "$tmp"
service_pid=""
health_pid=""
compose=()     # the Compose command, with this run's project, files and env file
engine=()      # the engine's own CLI, for what Compose does not show (volumes, networks)

# ---- the engine -------------------------------------------------------------------------------------
if [ "$mode" = standins ]; then
  [ "$(id -u)" = 0 ] || fail "run as root (podman with a private store), or pass --real-images on a Docker host"
  ensure_podman
  # shellcheck source=podman/env.sh
  . "$here/podman/env.sh"
  ensure_docker_tools "$CHARLA_DOCKER_CACHE/tools"
  exec 9> "$CHARLA_DOCKER_CACHE/compose-smoke.lock"
  flock -w 900 9 || fail "another compose smoke holds $CHARLA_DOCKER_CACHE/compose-smoke.lock"
  engine=(podman)
else
  if ! docker compose version > /dev/null; then fail "--real-images needs docker with the compose plugin"; fi
  engine=(docker)
fi
volumes_before="$("${engine[@]}" volume ls -q | sort)"

# The health checks pause for `down` (which waits on none). A check still running in a container that goes
# away (down, or a re-creation) leaves podman's exec monitor (conmon) behind: the cleanup ends those.
start_health_checks() {
  if [ "$mode" = standins ] && [ -z "$health_pid" ]; then run_health_checks & health_pid=$!; fi
}
stop_health_checks() {
  if [ -n "$health_pid" ]; then kill -TERM "$health_pid" 2> /dev/null; wait "$health_pid" 2> /dev/null; health_pid=""; fi
  return 0
}
reap_exec_monitors() {  # conmon processes of this store's exec sessions whose container is gone
  local live pid args id
  live="$(podman ps -aq --no-trunc)"
  for pid in $(pgrep -x conmon || true); do
    args="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null)" || continue
    case "$args" in *" -b $CHARLA_DOCKER_CACHE/storage/overlay-containers/"*) ;; *) continue ;; esac
    id="$(sed -n 's/.* -c \([0-9a-f]\{64\}\) .*/\1/p' <<< "$args")"
    if [ -n "$id" ] && ! grep -q "$id" <<< "$live"; then kill "$pid" 2> /dev/null; fi
  done
}
logs_on_failure() {
  [ "${#compose[@]}" -gt 0 ] || return 0
  echo "---- containers ----" >&2
  "${compose[@]}" --profile monitoring ps -a >&2 2>&1
  echo "---- logs (last 30 lines each) ----" >&2
  "${compose[@]}" --profile monitoring logs --no-color --tail 30 >&2 2>&1
}
cleanup() {
  local rc=$?
  set +e
  [ "$rc" != 0 ] && logs_on_failure
  say "cleaning up"
  stop_health_checks
  [ "${#compose[@]}" -gt 0 ] && "${compose[@]}" --profile monitoring down -v --remove-orphans -t 5 > /dev/null 2>&1
  if [ -n "$service_pid" ]; then kill "$service_pid" 2> /dev/null; wait "$service_pid" 2> /dev/null; fi
  if [ "$mode" = standins ]; then
    reap_exec_monitors
    podman rmi -f localhost/charlandero:local > /dev/null 2>&1
    if [ "${SMOKE_PURGE:-0}" = 1 ]; then
      podman rmi -f docker.io/library/postgres:16-bookworm docker.io/library/rabbitmq:3.13-management \
        docker.io/mher/flower:2.0.1 > /dev/null 2>&1
    fi
  fi
  rm -rf "$tmp"
  if [ "$rc" = 0 ]; then say "PASS in $((SECONDS - started)) s"; else say "FAILED (exit $rc) after $((SECONDS - started)) s" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A took=()
if [ "$mode" = standins ]; then
  # ---- images: the app's, and test-only stand-ins for the official ones, under the compose file's names
  t0=$SECONDS
  "$here/make-base-image.sh"
  say "building the app image (podman build, tagged charlandero:local as compose.yml names it)"
  podman build --format docker --layers --pull=never -t localhost/charlandero:local -f Dockerfile . \
    > "$tmp/build.log" 2>&1 || { tail -n 40 "$tmp/build.log" >&2; fail "podman build of the app image failed"; }
  for standin in postgres:docker.io/library/postgres:16-bookworm rabbitmq:docker.io/library/rabbitmq:3.13-management \
                 flower:docker.io/mher/flower:2.0.1; do
    say "building the test-only stand-in for ${standin#*:} (deploy/docker/ci/${standin%%:*}.Dockerfile)"
    podman build --format docker --layers --pull=never -t "${standin#*:}" -f "$here/ci/${standin%%:*}.Dockerfile" "$here/ci" \
      > "$tmp/build-${standin%%:*}.log" 2>&1 || { tail -n 40 "$tmp/build-${standin%%:*}.log" >&2; fail "stand-in build failed"; }
  done
  took[images]=$((SECONDS - t0))

  # ---- Docker's API on podman, and the health checks podman does not run by itself -----------------
  sock="$tmp/podman.sock"
  podman system service --time=0 "unix://$sock" > "$tmp/podman-service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || fail "podman system service did not open $sock"
  export DOCKER_HOST="unix://$sock"
  run_health_checks() {  # every 2 s, each running container of the project that has a health check
    trap 'exit 0' TERM     # (bash runs it once the check in progress is over)
    while sleep 2; do
      for id in $(podman ps -q --filter "label=com.docker.compose.project=$project" 2> /dev/null); do
        podman healthcheck run "$id" > /dev/null 2>&1 || true
      done
    done
  }
  start_health_checks
  # `docker compose` as users type it: the Compose binary as the docker CLI's plugin, in a config of our own.
  if command -v docker > /dev/null; then
    export DOCKER_CONFIG="$tmp/docker-config"
    mkdir -p "$DOCKER_CONFIG/cli-plugins"
    ln -s "$compose_bin" "$DOCKER_CONFIG/cli-plugins/docker-compose"
    compose=(docker compose)
  else
    compose=("$compose_bin")
  fi
  say "Docker Compose $("${compose[@]}" version --short) on podman $(podman version --format '{{.Server.Version}}') (DOCKER_HOST=$DOCKER_HOST)"
else
  compose=(docker compose)
  say "Docker Compose $(docker compose version --short) on Docker $(docker version --format '{{.Server.Version}}')"
fi

# ---- configuration: .env.example filled in as a user would, plus the fake Slack API ----------------------
web_port="$(free_port 29000 29999)"
mq_ui_port="$(free_port 29000 29999 "$web_port")"
flower_port="$(free_port 29000 29999 "$web_port" "$mq_ui_port")"
fake_port="$(free_port 29000 29999 "$web_port" "$mq_ui_port" "$flower_port")"
signing_secret="$(secret)"
flower_auth="admin:$(secret | tr -dc 'A-Za-z0-9')"
sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$(secret)$(secret)|" \
    -e 's|^ALLOWED_HOSTS=.*|ALLOWED_HOSTS=bot.example.com|' \
    -e "s|^POSTGRES_PASSWORD=.*|POSTGRES_PASSWORD=$(secret | tr -dc 'A-Za-z0-9')|" \
    -e "s|^RABBITMQ_PASSWORD=.*|RABBITMQ_PASSWORD=$(secret | tr -dc 'A-Za-z0-9')|" \
    -e 's|^SLACK_BOT_TOKEN=.*|SLACK_BOT_TOKEN=xoxb-test-compose-smoke|' \
    -e "s|^SLACK_SIGNING_SECRET=.*|SLACK_SIGNING_SECRET=$signing_secret|" \
    -e 's|^SLACK_API_URL=.*|SLACK_API_URL=http://fake-slack:8900/api/|' \
    -e "s|^WEB_PORT=.*|WEB_PORT=$web_port|" \
    -e "s|^RABBITMQ_MANAGEMENT_PORT=.*|RABBITMQ_MANAGEMENT_PORT=$mq_ui_port|" \
    -e "s|^FLOWER_PORT=.*|FLOWER_PORT=$flower_port|" \
    -e "s|^FLOWER_BASIC_AUTH=.*|FLOWER_BASIC_AUTH=$flower_auth|" \
    "$here/.env.example" > "$tmp/compose.env"
echo "FAKE_SLACK_PORT=$fake_port" >> "$tmp/compose.env"
chmod 600 "$tmp/compose.env"
compose+=(--project-name "$project" --env-file "$tmp/compose.env" -f "$here/compose.yml" -f "$here/ci/compose.ci.yml")
"${compose[@]}" --profile monitoring config --quiet || fail "compose.yml + ci/compose.ci.yml do not validate"
web="http://127.0.0.1:$web_port"
fake="http://127.0.0.1:$fake_port"
mention() { python3 -m tests.smoke.send_mention --web "$web" --host-header bot.example.com --fake "$fake" \
              --secret "$signing_secret" --expect help --timeout 90 "$@"; }
stack_watch() { python3 "$here/ci/stack_watch.py" "$@" -- "${compose[@]}"; }
psql_count() {  # rows in the bot's message table (the variables are the postgres container's)
  # shellcheck disable=SC2016
  "${compose[@]}" exec -T postgres sh -c 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "SELECT count(*) FROM bot_message"'
}

# ---- 1. up: order and health -------------------------------------------------------------------------------
say "docker compose up -d$([ "$mode" = real ] && echo ' --build') (project $project, web on 127.0.0.1:$web_port)"
t0=$SECONDS
up_args=(up -d)
[ "$mode" = real ] && up_args+=(--build)
"${compose[@]}" "${up_args[@]}" > "$tmp/up.log" 2>&1 &
up_pid=$!
stack_watch --order --timeout 420 --healthy postgres,rabbitmq,web,worker,beat || { cat "$tmp/up.log" >&2; fail "the stack did not come up in order"; }
wait "$up_pid" || { cat "$tmp/up.log" >&2; fail "docker compose up failed"; }
took[up]=$((SECONDS - t0))
image_size_within_limit "${engine[0]}" charlandero:local || fail "the image is too big"
release_runs="$("${compose[@]}" logs --no-color release | grep -c 'migrations: up to date' || true)"
[ "$release_runs" = 1 ] || fail "release ran $release_runs times, expected once"
say "up in ${took[up]} s: release ran once, after postgres and rabbitmq were healthy, before web/worker/beat; all healthy"

# ---- 2. one signed event through the published port, one reply ---------------------------------------------
readyz="$(curl -sS -H 'Host: bot.example.com' -w ' %{http_code}' "$web/readyz")"
[ "${readyz##* }" = 200 ] || fail "/readyz: $readyz"
say "/readyz: $readyz"
mention --retry --settle 3 || fail "no single reply to a signed mention through the published port"

# ---- 3. two workers ----------------------------------------------------------------------------------------
say "docker compose up -d --scale worker=2"
t0=$SECONDS
"${compose[@]}" up -d --scale worker=2 > "$tmp/scale.log" 2>&1 || { cat "$tmp/scale.log" >&2; fail "scale up failed"; }
stack_watch --timeout 180 --healthy web,worker,beat || fail "two workers did not become healthy"
workers="$("${compose[@]}" ps -q worker | wc -l)"
[ "$workers" = 2 ] || fail "$workers worker containers, expected 2"
# shellcheck disable=SC2016  # the rabbitmq container's variable
consumers="$("${compose[@]}" exec -T rabbitmq sh -c 'rabbitmqctl -q list_queues -p "$RABBITMQ_DEFAULT_VHOST" name consumers --no-table-headers')"
for queue in deliveries inbox commands outbox; do
  [ "$(awk -v q="$queue" '$1 == q {print $2}' <<< "$consumers")" = 2 ] \
    || fail "queue $queue does not have 2 consumers: $(tr '\n' ' ' <<< "$consumers")"
done
mention --count 6 --settle 3 || fail "not every mention got exactly one reply with two workers"
took[scale]=$((SECONDS - t0))
say "two workers: deliveries, inbox, commands and outbox have 2 consumers each; 6 mentions, 6 replies"
"${compose[@]}" up -d --scale worker=1 > "$tmp/scale.log" 2>&1 || { cat "$tmp/scale.log" >&2; fail "scale down failed"; }

# ---- 4. restart keeps the data ---------------------------------------------------------------------------
rows_before="$(psql_count)"
say "docker compose restart ($rows_before messages stored)"
t0=$SECONDS
"${compose[@]}" restart > "$tmp/restart.log" 2>&1 || { cat "$tmp/restart.log" >&2; fail "restart failed"; }
stack_watch --timeout 240 --healthy postgres,rabbitmq,web,worker,beat || fail "not healthy again after restart"
took[restart]=$((SECONDS - t0))
[ "$(psql_count)" = "$rows_before" ] || fail "messages after restart: $(psql_count), before: $rows_before"
# `restart` starts release again too, without waiting for postgres to be healthy (see the README).
release_exit="$("${compose[@]}" ps -a --format '{{.ExitCode}}' release)"
[ "$release_exit" = 0 ] || say "note: release, restarted alongside postgres, exited $release_exit:" \
  "$("${compose[@]}" logs --no-color --tail 3 release | tr '\n' ' ' | cut -c1-300)"
mention --settle 2 || fail "no reply after restart"
rows_before="$(psql_count)"
say "restart: healthy again in ${took[restart]} s, the $((rows_before - 1)) messages kept, and a reply"

# ---- 5. down keeps the volumes; up with the monitoring profile: same data, and Flower ------------------------
stop_health_checks
"${compose[@]}" down > "$tmp/down.log" 2>&1 || { cat "$tmp/down.log" >&2; fail "down failed"; }
label="label=com.docker.compose.project=$project"
[ -z "$("${engine[@]}" ps -aq --filter "$label")" ] || fail "containers left after down"
[ -z "$("${engine[@]}" network ls -q --filter "$label")" ] || fail "networks left after down"
[ "$("${engine[@]}" volume ls -q --filter "$label" | wc -l)" = 3 ] || fail "down did not keep the 3 volumes"
# For Flower's Workers and Tasks pages the worker sends its events (.env.example, monitoring profile).
sed -i 's|^CELERY_WORKER_EVENTS=.*|CELERY_WORKER_EVENTS=1|' "$tmp/compose.env"
say "down: no container or network left, the 3 volumes kept; with CELERY_WORKER_EVENTS=1:" \
    "docker compose --profile monitoring up -d"
t0=$SECONDS
start_health_checks
"${compose[@]}" --profile monitoring up -d > "$tmp/up2.log" 2>&1 || { cat "$tmp/up2.log" >&2; fail "up with monitoring failed"; }
stack_watch --timeout 300 --healthy postgres,rabbitmq,web,worker,beat,flower || fail "not healthy with the monitoring profile"
took[monitoring]=$((SECONDS - t0))
[ "$(psql_count)" = "$rows_before" ] || fail "messages after down/up: $(psql_count), before: $rows_before"
flower_api() {   # the workers Flower's API knows, by asking them (a broadcast): with or without their events
  curl -fsS -u "$flower_auth" "http://127.0.0.1:$flower_port/api/workers?refresh=1" \
    | python3 -c 'import json, sys; print(" ".join(sorted(json.load(sys.stdin))))'
}
flower_page() {  # the workers on Flower's Workers page, which it knows from their events
  curl -fsS -u "$flower_auth" "http://127.0.0.1:$flower_port/workers?json=1" | python3 -c '
import json, sys
print(" ".join("%s (%s)" % (w["hostname"], "online" if w.get("status") else "offline") for w in json.load(sys.stdin)["data"]))'
}
worker_id="$("${compose[@]}" ps -q worker | cut -c1-12)"
naming_the_worker() {  # FUNCTION: up to 30 s for its output to name the worker (worker-<pid>@<container id>)
  local out=""
  for _ in $(seq 30); do
    out="$("$1" 2> /dev/null || true)"
    case " $out " in *"@$worker_id"*) echo "$out"; return 0 ;; esac
    sleep 1
  done
  echo "$out"
  return 1
}
listed="$(naming_the_worker flower_api)" || fail "Flower's API does not list the worker $worker_id: '$listed'"
page="$(naming_the_worker flower_page)" || fail "Flower's Workers page does not show the worker $worker_id: '$page'"
for _ in $(seq 30); do   # Flower asks the workers for task events every 5 s
  "${compose[@]}" logs --no-color worker | grep -q 'enabled by remote' && break
  sleep 1
done
mention --settle 1 || fail "no reply with Flower running"
tasks="$(curl -fsS -u "$flower_auth" "http://127.0.0.1:$flower_port/api/tasks" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')"
[ "$tasks" -gt 0 ] || fail "Flower saw no task: the worker's task events did not reach it"
say "monitoring: data kept across down/up; Flower healthy; its API lists $listed; its Workers page shows" \
    "$page; its Tasks page has the reply's $tasks tasks"

# ---- 6. down -v leaves nothing -------------------------------------------------------------------------------
stop_health_checks
"${compose[@]}" --profile monitoring down -v > "$tmp/down.log" 2>&1 || { cat "$tmp/down.log" >&2; fail "down -v failed"; }
[ -z "$("${engine[@]}" ps -aq --filter "$label")" ] || fail "containers left after down -v"
[ -z "$("${engine[@]}" network ls -q --filter "$label")" ] || fail "networks left after down -v"
left="$(comm -13 <(printf '%s\n' "$volumes_before") <("${engine[@]}" volume ls -q | sort) | tr '\n' ' ')"
[ -z "${left// /}" ] || fail "volumes left after down -v: $left"
compose=()   # nothing left for the cleanup to take down
say "down -v: no container, network or volume left"
say "measured: images $([ "$mode" = standins ] && echo "${took[images]} s" || echo 'built and pulled by up'), first up ${took[up]} s," \
    "scale to 2 + 6 replies ${took[scale]} s, restart ${took[restart]} s, up with monitoring ${took[monitoring]} s"
