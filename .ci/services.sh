#!/usr/bin/env bash
# PostgreSQL and RabbitMQ on 127.0.0.1 as the tests and the smoke tests use them: PostgreSQL on 5432 with
# trust for user postgres over TCP, RabbitMQ on 5672 with guest/guest. Started when they are down; on a
# host that lacks them (a fresh Debian container, as in .github/workflows/ci.yml), installed from Debian's
# packages and set up that way first. Then a database and a vhost for the test pass (charla_ci).
#   bash .ci/services.sh        (root)
set -euo pipefail

if ! command -v pg_ctlcluster > /dev/null || ! command -v rabbitmq-server > /dev/null; then
  echo "services: installing postgresql and rabbitmq-server (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql rabbitmq-server > /dev/null
fi
cluster="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | head -n1)"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT 1' > /dev/null 2>&1; then
  # A fresh install asks for a password over TCP: trust local connections, as on the CI machine.
  hba="/etc/postgresql/$cluster/main/pg_hba.conf"
  sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$cluster" main reload
fi
if ! rabbitmqctl -q status > /dev/null 2>&1; then
  rabbitmq-server -detached
  rabbitmqctl -q wait --timeout 60 /var/lib/rabbitmq/mnesia/rabbit@"$(hostname -s)".pid > /dev/null 2>&1 \
    || for _ in $(seq 60); do rabbitmqctl -q status > /dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT 1' > /dev/null
rabbitmqctl -q status > /dev/null && echo "rabbitmq: up"

# The test pass gets a database and a vhost of its own (pytest-django creates test_charla_ci from it).
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='charla_ci'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres charla_ci
rabbitmqctl -q list_vhosts | grep -qx charla_ci || rabbitmqctl -q add_vhost charla_ci
rabbitmqctl -q set_permissions -p charla_ci guest '.*' '.*' '.*'
