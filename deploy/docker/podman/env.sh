# shellcheck shell=bash
# Source this file to get a podman/buildah with its own store, separate from any other podman
# use on the machine:   . deploy/docker/podman/env.sh
# Inputs (optional): CHARLA_DOCKER_CACHE — folder for the image store and caches
#                    (default: <repo>/.cache/docker, which .gitignore keeps out of git).
_charla_podman_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHARLA_DOCKER_CACHE="${CHARLA_DOCKER_CACHE:-$(cd "$_charla_podman_dir/../../.." && pwd)/.cache/docker}"
export CHARLA_DOCKER_CACHE
mkdir -p "$CHARLA_DOCKER_CACHE/storage" "$CHARLA_DOCKER_CACHE/conf"
# The run state lives in tmpfs (/run) so that a reboot cannot leave stale locks behind.
_charla_run="/run/charla-docker/$(echo -n "$CHARLA_DOCKER_CACHE" | md5sum | cut -c1-12)"
mkdir -p "$_charla_run/storage" "$_charla_run/libpod"
cat > "$CHARLA_DOCKER_CACHE/conf/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$CHARLA_DOCKER_CACHE/storage"
runroot = "$_charla_run/storage"
CONF
{ cat "$_charla_podman_dir/containers.conf"; printf 'tmp_dir = "%s"\n' "$_charla_run/libpod"; } \
  > "$CHARLA_DOCKER_CACHE/conf/containers.conf"
export CONTAINERS_CONF="$CHARLA_DOCKER_CACHE/conf/containers.conf"
export CONTAINERS_STORAGE_CONF="$CHARLA_DOCKER_CACHE/conf/storage.conf"
# HEALTHCHECK and other Docker-only instructions are kept only in the Docker image format.
export BUILDAH_FORMAT=docker
unset _charla_podman_dir _charla_run
