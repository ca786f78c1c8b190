#!/bin/sh
# Entry point of the Charlandero image: `IMAGE [all|web|worker|beat|socket|release] [extra args]`, or any
# other command, which runs as given (`IMAGE python manage.py doctor`, `IMAGE bin/process web`, `IMAGE sh`).
# A command next to the all-in-one container (`docker exec charla /app/deploy/docker/entrypoint.sh python
# manage.py doctor`) uses the SECRET_KEY `all` generated in the data volume, when none is given.
# A role goes to bin/process, so the processes are the same as on Heroku and on plain VMs.
set -eu

role="${1:-all}"
case "$role" in
  all|web|worker|beat|socket|release) if [ "$#" -gt 0 ]; then shift; fi ;;
  *)
    if [ -z "${SECRET_KEY:-}" ] && [ -r "${DATA_DIR:-/data}/secret_key" ]; then
      SECRET_KEY="$(cat "${DATA_DIR:-/data}/secret_key")"
      export SECRET_KEY
    fi
    # One word with spaces (a platform that passes the command as a string, e.g. "bin/process web"):
    # let a shell split it. Otherwise run the command as given.
    if [ "$#" -eq 1 ] && [ "${1#* }" != "$1" ] && ! [ -e "$1" ]; then exec sh -c "$1"; fi
    exec "$@" ;;
esac

# `all` keeps SQLite, the embedded broker and its key in DATA_DIR, beat its schedule: they must write there.
# (web/worker/release on PostgreSQL and RabbitMQ write nothing, and run fine on a read-only file system.)
data_dir="${DATA_DIR:-/data}"
if { [ "$role" = all ] || [ "$role" = beat ]; } && ! { mkdir -p "$data_dir" 2>/dev/null && [ -w "$data_dir" ]; }; then
  echo "charlandero: configuration error: DATA_DIR=$data_dir is not writable by uid $(id -u). Mount a named" \
       "volume there (-v charla-data:$data_dir), or chown a bind-mounted folder to $(id -u):$(id -g)." >&2
  exit 2
fi

# One container for a small team (`docker run ... IMAGE`) must start with no SECRET_KEY given: make one,
# once, in the data volume, and keep using it (sessions and the console's signing secret survive restarts).
# Only for `all`: the split roles share one key, which must come from the environment.
if [ "$role" = all ] && [ -z "${SECRET_KEY:-}" ]; then
  key_file="$data_dir/secret_key"
  if [ ! -s "$key_file" ]; then
    (umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(50))' > "$key_file.tmp" \
      && mv "$key_file.tmp" "$key_file")
    echo "charlandero: no SECRET_KEY given; generated one in $key_file (kept in the volume)"
  fi
  SECRET_KEY="$(cat "$key_file")"
  export SECRET_KEY
fi

# In `all`, honcho stops web, worker and beat on SIGTERM and SIGKILLs whatever is left 5 s later: the
# worker's soft shutdown (time for running tasks before they go back to the queue) must end before that.
if [ "$role" = all ] && [ -z "${CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT:-}" ]; then
  CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT=3
  export CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT
fi

# Which Host names web answers to, when ALLOWED_HOSTS is not set:
# - with a Slack app configured, Slack reaches the bot under whatever public name the user's tunnel or
#   proxy has, which the image cannot know. Every Slack request is authenticated by its signature, not by
#   its Host, so the image accepts any name (set ALLOWED_HOSTS to pin it; the compose stack does);
# - in console mode (no Slack app), the app's default (localhost, 127.0.0.1, [::1]) stays: the console is
#   meant for http://localhost:8000 and the Host check keeps other pages (DNS rebinding) away from it.
if [ -z "${ALLOWED_HOSTS:-}" ] && [ -n "${SLACK_BOT_TOKEN:-}" ] && [ -z "${SLACK_APP_TOKEN:-}" ] \
   && [ "$role" != worker ] && [ "$role" != beat ] && [ "$role" != socket ]; then
  ALLOWED_HOSTS='*'
  export ALLOWED_HOSTS
  echo "charlandero: ALLOWED_HOSTS not set; accepting any Host name (set ALLOWED_HOSTS=bot.example.com to pin it)"
fi

exec /app/bin/process "$role" "$@"
