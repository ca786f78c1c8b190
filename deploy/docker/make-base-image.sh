#!/usr/bin/env bash
# Makes a local stand-in for the official `python:3.11-slim-bookworm` image, for hosts that cannot
# reach a container registry (CI here). It is Debian bookworm (debootstrap, minbase) with Debian's
# python3 (3.11) and venv, plus this host's CA certificates so that pip inside a build trusts the
# host's TLS proxy. The same image is tagged `debian:bookworm-slim` too, for the compose smoke's
# test-only stand-ins (deploy/docker/ci/), which only need Debian's apt from it. The Dockerfile stays
# unchanged: it creates its virtualenv with `python3 -m venv` and never names an interpreter path, so it
# builds the same on the official image.
#
#   deploy/docker/make-base-image.sh            # no-op when the image is already in the store
#   deploy/docker/make-base-image.sh --force    # remake it
# Uses the podman store set up by deploy/docker/podman/env.sh; the debootstrap root file system is
# kept as a tarball under $CHARLA_DOCKER_CACHE to make a remake fast.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=podman/env.sh
. "$here/podman/env.sh"

BASE_IMAGE="${BASE_IMAGE:-docker.io/library/python:3.11-slim-bookworm}"
DEBIAN_IMAGE="docker.io/library/debian:bookworm-slim"
force=0
[ "${1:-}" = "--force" ] && force=1
if [ "$force" = 0 ] && podman image exists "$BASE_IMAGE" && podman image exists "$DEBIAN_IMAGE"; then
  echo "base image: $BASE_IMAGE already in the store"
  exit 0
fi

# The Debian mirror this machine's apt uses (deb822 or one-line sources).
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)"
fi
if [ -z "$mirror" ]; then
  mirror="$(grep -h -E '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk '{print $2}' | grep -E 'debian/?$' | head -n1 || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

rootfs_tar="$CHARLA_DOCKER_CACHE/bookworm-python3-rootfs.tar"
if [ "$force" = 1 ] || [ ! -s "$rootfs_tar" ]; then
  work="$(mktemp -d "$CHARLA_DOCKER_CACHE/rootfs.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "base image: debootstrap bookworm from $mirror"
  started=$SECONDS
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$work/root" "$mirror" > "$CHARLA_DOCKER_CACHE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$CHARLA_DOCKER_CACHE/debootstrap.log"; exit 1; }
  # Trust what this host trusts (its TLS proxy's CA), the way a corporate build host would.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$work/root/usr/local/share/ca-certificates/"
    chroot "$work/root" update-ca-certificates > /dev/null 2>&1
  fi
  # What the official image has too: `python` on PATH.
  ln -sf /usr/bin/python3 "$work/root/usr/local/bin/python"
  # Slim like the official image (debian:*-slim): no translations, docs or man pages, now or from later
  # apt-get installs, and no apt lists or caches.
  cat > "$work/root/etc/dpkg/dpkg.cfg.d/slim" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
  find "$work/root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  find "$work/root/usr/share/doc" -mindepth 2 ! -name copyright -type f -delete
  rm -rf "$work/root"/var/lib/apt/lists/* "$work/root"/var/cache/apt/*.bin "$work/root"/var/cache/apt/archives/*.deb \
         "$work/root"/usr/share/man/* "$work/root"/usr/share/info/* \
         "$work/root"/var/log/*.log "$work/root"/var/log/apt/*
  tar -C "$work/root" --numeric-owner -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"
  echo "base image: root file system made in $((SECONDS - started)) s"
fi

podman rmi -f "$BASE_IMAGE" > /dev/null 2>&1 || true
podman import --quiet \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  "$rootfs_tar" "$BASE_IMAGE" > /dev/null
podman tag "$BASE_IMAGE" "$DEBIAN_IMAGE"
echo "base image: $BASE_IMAGE ($(podman image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
