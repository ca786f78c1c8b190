#!/usr/bin/env bash
# The Ansible smoke (smoke.sh) on five booted machines: a 3-node RabbitMQ cluster (charla-data, which also
# runs PostgreSQL, charla-mq2, charla-mq3), web + worker + beat on charla-app and a second worker host,
# charla-work2. Besides smoke.sh's checks: the cluster formed, quorum queues, the failover URL on the app
# hosts, the second worker, and a mention answered while the first node's RabbitMQ is killed (-9); then it
# starts again and rejoins. Too long for every CI run (figures: deploy/ansible/README.md); run before landing
# a change to the rabbitmq role or the broker settings:
#
#   sudo deploy/ansible/cluster-smoke.sh
set -euo pipefail
SMOKE_CLUSTER=1 exec bash "$(dirname "$0")/smoke.sh" "$@"
