#!/bin/sh
# TEST-ONLY entry point of the postgres stand-in (postgres.Dockerfile): the official image's behaviour
# that compose.yml relies on, nothing more. Runs as root, prepares PGDATA, then runs the server as postgres.
set -eu
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
  echo "postgres stand-in: POSTGRES_PASSWORD is not set (as the official image, it refuses to start)" >&2
  exit 1
fi
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 0700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" > "$pwfile"
  chown postgres "$pwfile"
  as_postgres initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 \
    --auth-local=trust --auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" > /dev/null
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    # A server on the socket only, as the official image does for its init scripts.
    as_postgres pg_ctl --pgdata="$PGDATA" --wait --silent -o "-c listen_addresses=''" start
    as_postgres psql --quiet --username="$POSTGRES_USER" --dbname=postgres \
      --command="CREATE DATABASE \"$POSTGRES_DB\"" > /dev/null
    as_postgres pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop
  fi
  echo "postgres stand-in: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi
if [ "${1:-postgres}" = postgres ]; then
  [ "$#" -gt 0 ] && shift
  exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" "$@"
fi
exec "$@"
