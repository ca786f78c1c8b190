#!/usr/bin/env bash
# Makes (or reuses) the Debian rootfs that the Ansible smoke test boots with systemd-nspawn.
#   deploy/ansible/smoke/rootfs.sh CACHE_DIR    -> prints the rootfs path on stdout
# The rootfs is a "fresh server": minimal Debian bookworm with systemd, sshd, sudo and python3,
# nothing of the application. Machines boot it with --volatile=overlay, so it stays pristine.
# The Debian mirror is read from this machine's apt sources at run time.
set -euo pipefail

cache="${1:?usage: rootfs.sh CACHE_DIR}"
layout=3                                  # bump when what goes into the rootfs changes
root="$cache/rootfs-bookworm-v$layout"
if [[ -f "$root/.charlandero-rootfs-ready" ]]; then
  echo "$root"
  exit 0
fi

# The first Debian (non-security) mirror this machine's apt uses, deb822 or one-line format; DEBIAN_MIRROR
# names one on a host that has none (Ubuntu, as on GitHub's runners).
mirror="${DEBIAN_MIRROR:-$(
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
  } | grep -v security | grep -m1 debian || true)}"
[[ -n "$mirror" ]] || { echo "rootfs: no Debian mirror found in /etc/apt sources" >&2; exit 1; }

tmp="$root.tmp"
rm -rf "$tmp"
mkdir -p "$cache"
echo "rootfs: debootstrap bookworm from $mirror (once, cached in $root)" >&2
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,openssh-server,sudo,python3,iproute2,ca-certificates,libnss-myhostname \
  bookworm "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 \
  || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }

# apt inside the machines uses the same sources as this machine (Debian ones only).
rm -f "$tmp/etc/apt/sources.list"
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
  [[ -f "$f" ]] && grep -qs debian "$f" && ! grep -qs -E 'nodesource|google' "$f" && cp "$f" "$tmp/etc/apt/sources.list.d/"
done
[[ -f "$tmp/etc/apt/sources.list.d/sources.list" ]] && mv "$tmp/etc/apt/sources.list.d/sources.list" "$tmp/etc/apt/sources.list.d/host.list"
compgen -G "$tmp/etc/apt/sources.list.d/*" > /dev/null || echo "deb $mirror bookworm main" > "$tmp/etc/apt/sources.list.d/debian.list"

# Trust the same extra CAs as this machine (its TLS proxy), for pip on the targets.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$tmp/usr/local/share/ca-certificates/"
  chroot "$tmp" update-ca-certificates >/dev/null 2>&1
fi

# Networking: systemd-networkd on host0; the address comes from a .network file bind-mounted at boot.
chroot "$tmp" systemctl enable systemd-networkd.service >/dev/null 2>&1
chroot "$tmp" systemctl enable ssh.service >/dev/null 2>&1
# No getty on a machine nobody logs into on the console.
chroot "$tmp" systemctl mask console-getty.service getty@tty1.service >/dev/null 2>&1 || true
mkdir -p "$tmp/root/.ssh" && chmod 700 "$tmp/root/.ssh"
# Host keys are made at first boot by the ssh package's unit; remove the build ones so each machine differs.
rm -f "$tmp"/etc/ssh/ssh_host_*
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  | install -D -m 0644 /dev/stdin "$tmp/etc/systemd/system/ssh.service.d/hostkeys.conf"
echo "LANG=C.UTF-8" > "$tmp/etc/default/locale"
chroot "$tmp" apt-get clean
touch "$tmp/.charlandero-rootfs-ready"
rm -rf "$root"
mv "$tmp" "$root"
echo "$root"
