#!/bin/sh
# Entry point of the Charlandero image: `IMAGE [all|web|worker|beat|socket|release] [extra args]`, or any
# other command, which runs as given (`IMAGE python manage.py doctor`, `IMAGE bin/process web`, `IMAGE sh`).
# A command next to the all-in-one container (`docker exec charla /app/deploy/docker/entrypoint.sh python
# manage.py doctor`) uses the SECRET_KEY `all` generated in the data volume, when none is given.
# A role goes to bin/process, so the processes are the same as on Heroku and on plain VMs.
set -eu

role="${1:-all}"
case "$role" in
  all|web|worker|beat|socket|release) if [ "$#" -gt 0 ]; then shift; fi; defaults_for="$role" ;;
  *) defaults_for="command" ;;
esac

# What the image adds to the environment when it is not given (a SECRET_KEY kept in the data volume for
# `all`, ALLOWED_HOSTS with a Slack app, ...) is decided by app/environment.py (image_defaults), which says
# why; it prints shell-quoted `export` lines, or one line naming the problem (exit 2).
project="$(cd "$(dirname "$0")/../.." && pwd)"  # /app in the image
defaults="$(cd "$project" && python -m app.environment image-defaults "$defaults_for")" || exit 2
eval "$defaults"

if [ "$defaults_for" = command ]; then
  # One word with spaces (a platform that passes the command as a string, e.g. "bin/process web"):
  # let a shell split it. Otherwise run the command as given.
  if [ "$#" -eq 1 ] && [ "${1#* }" != "$1" ] && ! [ -e "$1" ]; then exec sh -c "$1"; fi
  exec "$@"
fi

exec "$project/bin/process" "$role" "$@"
