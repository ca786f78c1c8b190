#!/bin/sh
# TEST-ONLY entry point of the rabbitmq stand-in (rabbitmq.Dockerfile): the official image's behaviour that
# compose.yml relies on, nothing more. Writes the configuration from the environment, then runs the
# server as the rabbitmq user.
set -eu
cat > /etc/rabbitmq/rabbitmq.conf <<CONF
loopback_users = none
listeners.tcp.default = 5672
management.tcp.port = 15672
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
default_vhost = ${RABBITMQ_DEFAULT_VHOST:-/}
CONF
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
if [ "${1:-rabbitmq-server}" = rabbitmq-server ]; then
  [ "$#" -gt 0 ] && shift
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups env HOME=/var/lib/rabbitmq \
    /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
fi
exec "$@"
