#!/usr/bin/env bash
# The announcement producers in other languages (clients/, docs/announcements.md), built for tests/rabbitmq:
# Node and Go from Debian (installed only when missing), amqplib and celery-node from npm (npm ci: exactly
# package-lock.json), the Go producer built offline against Debian's amqp091-go (GOPATH mode, no proxy).
#   bash .ci/producers.sh        (root when something must be installed)
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
missing=()
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)
command -v go > /dev/null || missing+=(golang-go)
[ -d /usr/share/gocode/src/github.com/rabbitmq/amqp091-go ] || missing+=(golang-github-rabbitmq-amqp091-go-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "producers: installing ${missing[*]} (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
echo "producers: node $(node --version), npm $(npm --version), $(go version | cut -d' ' -f3)"
(cd clients/node && npm ci --no-audit --no-fund --loglevel=error)
(cd clients/go && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS='' go build -o announce .)
echo "producers: clients/node (npm ci) and clients/go/announce built in $((SECONDS - started))s"
