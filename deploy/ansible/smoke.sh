#!/usr/bin/env bash
# Smoke test of the Ansible deployment on two systemd-nspawn machines (Debian bookworm, systemd
# as PID 1, reached over SSH through a bridge on this host):
#   charla-data: database + broker          charla-app: web + worker + beat (+ nginx)
# It applies site.yml, sends a signed mention through nginx (HTTPS) and waits for the reply at a
# fake Slack API on this host, checks units, RabbitMQ's guest and the firewalls, runs the
# playbook again and requires changed=0, then removes everything it added on this host.
#
#   sudo deploy/ansible/smoke.sh     (root; measured ~6.5 min cold, ~3-4 min with .cache/ansible warm)
#
# Needs: Debian/Ubuntu host, root, the package registries. Installs what it needs itself.
# Environment: SMOKE_UPGRADE=1 also deploys a second version and rolls back (~2 min more);
# SMOKE_SINGLE=1 puts every group on one machine (the one-host inventory) instead;
# SMOKE_CLUSTER=1 (cluster-smoke.sh) adds two broker machines (a 3-node RabbitMQ cluster, quorum queues)
# and a second worker host, and kills a broker node under the app at the end;
# KEEP_MACHINES=1 leaves the machines running for a look (clean up with the printed
# command); SMOKE_CACHE=DIR moves the cache (default: <repo>/.cache/ansible).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${SMOKE_CACHE:-$repo/.cache/ansible}"
net=10.77.0                    # our /24 (the ansible helper's range 10.77.x.0/24)
bridge=charla-br77
host_ip=$net.1
data_ip=$net.11
app_ip=$net.12
fake_port=38080                # the ansible smoke's port range 38000-38999
server_name=charla.test
machines=(charla-data charla-app)
single="${SMOKE_SINGLE:-}"
cluster="${SMOKE_CLUSTER:-}"
mq2_ip=$net.13
mq3_ip=$net.14
work2_ip=$net.15
if [[ -n "$single" ]]; then data_ip=$app_ip; machines=(charla-app); fi
if [[ -n "$cluster" ]]; then machines+=(charla-mq2 charla-mq3 charla-work2); fi
extra_ips=()
[[ -n "$cluster" ]] && extra_ips=("$mq2_ip" "$mq3_ip" "$work2_ip")
nft_table=charla_ansible_smoke

t0=$SECONDS
say() { printf '[ansible-smoke %4ds] %s\n' "$((SECONDS - t0))" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || { echo "ansible smoke: run as root (systemd-nspawn, bridge, nftables)" >&2; exit 1; }

work="$(mktemp -d /tmp/charla-ansible-smoke.XXXXXX)"
declare -A machine_pid=()
fake_pid=""
forward_before="$(cat /proc/sys/net/ipv4/ip_forward)"

cleanup() {
  local rc=$?
  set +e
  if [[ -n "${KEEP_MACHINES:-}" ]]; then
    say "KEEP_MACHINES set (exit $rc): machines left running. Stop them: kill ${machine_pid[*]} $fake_pid;" \
        "nft delete table ip $nft_table; ip link del $bridge; rm -rf $work"
    say "ssh: ssh -i $work/id root@$app_ip"
    return
  fi
  say "cleaning up"
  [[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null
  for m in "${!machine_pid[@]}"; do kill -TERM "${machine_pid[$m]}" 2>/dev/null; done
  for m in "${!machine_pid[@]}"; do
    for _ in $(seq 1 50); do kill -0 "${machine_pid[$m]}" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "${machine_pid[$m]}" 2>/dev/null
  done
  nft delete table ip "$nft_table" 2>/dev/null
  ip link del "$bridge" 2>/dev/null
  # Put IP forwarding back unless something else on the host (another bridge) needs it now.
  if [[ "$forward_before" == 0 && -z "$(ip -o link show type bridge 2>/dev/null)" ]]; then
    echo 0 > /proc/sys/net/ipv4/ip_forward
  fi
  rm -rf "$work"
  if [[ $rc -ne 0 ]]; then say "FAILED (exit $rc)"; fi
}
trap cleanup EXIT

# ---- tools on this host ----------------------------------------------------------------------
need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v nft >/dev/null || need+=(nftables)
command -v ssh >/dev/null || need+=(openssh-client)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for bin in python3 git ip; do command -v "$bin" >/dev/null || fail "$bin is required"; done

venv="$cache/venv"
if ! "$venv/bin/ansible-playbook" --version >/dev/null 2>&1 \
   || ! cmp -s "$here/requirements.txt" "$venv/.requirements.txt"; then
  say "installing ansible-core into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >"$work/pip.log" 2>&1 \
    || { tail -20 "$work/pip.log"; fail "pip install -r deploy/ansible/requirements.txt"; }
  cp "$here/requirements.txt" "$venv/.requirements.txt"
fi

say "ansible-lint (production profile)"
(cd "$here" && "$venv/bin/ansible-lint" --offline --profile production -q) >"$work/lint.log" 2>&1 \
  || { cat "$work/lint.log"; fail "ansible-lint"; }

# ---- the rootfs (cached) and the machines ----------------------------------------------------------
say "preparing the Debian rootfs"
rootfs="$("$here/smoke/rootfs.sh" "$cache")"
say "rootfs: $rootfs"

if ip link show "$bridge" >/dev/null 2>&1; then fail "$bridge already exists (another run? remove it: ip link del $bridge)"; fi
ip link add "$bridge" type bridge
ip addr add "$host_ip/24" dev "$bridge"
ip link set "$bridge" up
echo 1 > /proc/sys/net/ipv4/ip_forward
nft -f - <<EOF
table ip $nft_table {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr $net.0/24 ip daddr != $net.0/24 masquerade
  }
}
EOF

ssh-keygen -q -t ed25519 -N '' -C charla-ansible-smoke -f "$work/id"
ssh_opts=(-i "$work/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
          -o ConnectTimeout=3 -o BatchMode=yes)
on() { local ip=$1; shift; ssh "${ssh_opts[@]}" "root@$ip" "$@"; }

boot() {
  local name=$1 ip=$2
  mkdir -p "$work/$name" "$cache/apt-$name"
  echo "$name" > "$work/$name/hostname"
  printf '[Match]\nName=host0\n\n[Network]\nAddress=%s/24\nGateway=%s\n' "$ip" "$host_ip" > "$work/$name/host0.network"
  # Downloaded .deb files survive between runs (the machines themselves do not).
  setsid systemd-nspawn --quiet --boot --directory="$rootfs" --machine="$name" --register=no --keep-unit \
    --network-bridge="$bridge" --volatile=overlay --console=read-only --resolv-conf=copy-host \
    --bind-ro="$work/$name/hostname:/etc/hostname" \
    --bind-ro="$work/id.pub:/root/.ssh/authorized_keys" \
    --bind-ro="$work/$name/host0.network:/etc/systemd/network/10-host0.network" \
    --bind="$cache/apt-$name:/var/cache/apt/archives" \
    </dev/null >"$work/$name/boot.log" 2>&1 &
  machine_pid[$name]=$!
}
say "booting ${machines[*]}"
[[ -n "$single" ]] || boot charla-data "$data_ip"
boot charla-app "$app_ip"
if [[ -n "$cluster" ]]; then boot charla-mq2 "$mq2_ip"; boot charla-mq3 "$mq3_ip"; boot charla-work2 "$work2_ip"; fi
for ip in "$data_ip" "$app_ip" "${extra_ips[@]}"; do
  for i in $(seq 1 60); do
    on "$ip" true 2>/dev/null && break
    [[ $i -eq 60 ]] && { tail -20 "$work"/*/boot.log; fail "no SSH on $ip"; }
    sleep 0.5
  done
done
say "${machines[*]} answer(s) SSH"

# ---- the fake Slack API, the release, the secrets -------------------------------------------
(cd "$repo" && exec python3 -m tests.support.fake_slack --bind "$host_ip:$fake_port") >"$work/fake_slack.log" 2>&1 &
fake_pid=$!
for i in $(seq 1 50); do curl -fsS "http://$host_ip:$fake_port/_calls" >/dev/null 2>&1 && break; sleep 0.1; done

# The working tree as it is (tracked + untracked, minus what .gitignore leaves out), reproducibly.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
   | while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done \
   | tar --null -T - --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - \
   | gzip -n > "$work/release.tar.gz")
version="wt-$(sha256sum "$work/release.tar.gz" | cut -c1-12)"
say "release $version ($(du -h "$work/release.tar.gz" | cut -f1))"

mkdir -p "$work/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$server_name" \
  -addext "subjectAltName=DNS:$server_name,IP:$app_ip" \
  -keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" 2>/dev/null

rand() { python3 -c 'import secrets; print(secrets.token_urlsafe(32))'; }
signing_secret="$(rand)"
export SECRET_KEY="$(rand)$(rand)"
export SLACK_BOT_TOKEN="xoxb-test-$(rand | tr -dc 'a-zA-Z0-9' | cut -c1-20)"
export SLACK_SIGNING_SECRET="$signing_secret"
export SLACK_API_URL="http://$host_ip:$fake_port/api/"
export CHARLANDERO_DB_PASSWORD="$(rand)"
export CHARLANDERO_BROKER_PASSWORD="$(rand)"
export CHARLANDERO_SERVER_NAME="$server_name"
export CHARLANDERO_TLS_CERT="$work/tls/cert.pem"
export CHARLANDERO_TLS_KEY="$work/tls/key.pem"
export CHARLANDERO_VERSION="$version"
export CHARLANDERO_RELEASE_TARBALL="$work/release.tar.gz"
export CHARLANDERO_CREDENTIALS_DIR="$work/credentials"
export ANSIBLE_CONFIG="$here/ansible.cfg"
export ANSIBLE_LOCAL_TEMP="$work/ansible-tmp"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

data_host=charla-data
[[ -n "$single" ]] && data_host=charla-app
cat > "$work/inventory.ini" <<EOF
[data]
$data_host ansible_host=$data_ip

[app]
charla-app ansible_host=$app_ip

[database:children]
data

[broker:children]
data
${cluster:+mq}

[web:children]
app

[worker:children]
app
${cluster:+work2}
${cluster:+
[mq]
charla-mq2 ansible_host=$mq2_ip
charla-mq3 ansible_host=$mq3_ip

[work2]
charla-work2 ansible_host=$work2_ip
}
[beat:children]
app

[all:vars]
ansible_user=root
ansible_ssh_private_key_file=$work/id
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'
EOF

play() {
  local log=$1
  shift
  local rc=0
  (cd "$here" && "$venv/bin/ansible-playbook" -i "$work/inventory.ini" site.yml "$@") >"$log" 2>&1 || rc=$?
  mkdir -p "$cache/logs" && cp "$log" "$cache/logs/"
  if [[ $rc -ne 0 ]]; then
    grep -E -A30 '^(fatal|failed):' "$log" | head -200
    sed -n '/PLAY RECAP/,$p' "$log"
    echo "(full log: $cache/logs/$(basename "$log"))"
    for ip in "$data_ip" "$app_ip" "${extra_ips[@]}"; do
      echo "--- failed units on $ip:"
      on "$ip" 'for u in nftables $(systemctl --failed --no-legend --plain | cut -d" " -f1); do journalctl -u "$u" --no-pager -n 15; done' || true
    done
  fi
  return $rc
}

# ---- first run ----------------------------------------------------------------------------------
say "ansible-playbook site.yml (first run)"
t=$SECONDS
play "$work/run1.log" || fail "first playbook run failed"
first_run=$((SECONDS - t))
sed -n '/PLAY RECAP/,$p' "$work/run1.log"
say "first run: ${first_run}s"

# ---- checks -----------------------------------------------------------------------------------------
say "units active?"
app_units="charlandero-release charlandero-web charlandero-worker charlandero-beat nginx nftables"
data_units="postgresql rabbitmq-server nftables"
on "$app_ip" systemctl is-active $app_units >/dev/null \
  || { on "$app_ip" systemctl --no-pager status 'charlandero-*' | tail -40; fail "a unit on charla-app is not active"; }
on "$data_ip" systemctl is-active $data_units >/dev/null || fail "a unit on charla-data is not active"
echo "  charla-app: $app_units active; charla-data: $data_units active"
if [[ -n "$cluster" ]]; then
  for ip in "$mq2_ip" "$mq3_ip"; do on "$ip" systemctl is-active rabbitmq-server nftables >/dev/null || fail "RabbitMQ on $ip not active"; done
  on "$work2_ip" systemctl is-active charlandero-worker nftables >/dev/null || fail "the worker on charla-work2 is not active"
  on "$work2_ip" systemctl is-active --quiet charlandero-web charlandero-beat && fail "charla-work2 runs web or beat"
  running="$(on "$data_ip" rabbitmqctl --silent cluster_status --formatter json | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["running_nodes"])))')"
  [[ "$running" == "rabbit@charla-data rabbit@charla-mq2 rabbit@charla-mq3" ]] || fail "cluster not formed: running nodes $running"
  echo "  RabbitMQ cluster running: $running; charla-work2: charlandero-worker active (no web, no beat)"
  for ip in "$app_ip" "$work2_ip"; do on "$ip" "grep -q '^CELERY_BROKER_URL=\"amqp://[^;]*;amqp://[^;]*;amqp://[^;]*\"\$' /etc/charlandero/env && grep -qx 'CHARLA_QUEUE_TYPE=\"quorum\"' /etc/charlandero/env" \
    || fail "$ip did not get the failover URL of three nodes and CHARLA_QUEUE_TYPE=quorum"; done
  echo "  /etc/charlandero/env: CELERY_BROKER_URL lists the three nodes; CHARLA_QUEUE_TYPE=quorum"
fi
for ip in "$app_ip" "$data_ip" "${extra_ips[@]}"; do
  failed="$(on "$ip" "systemctl list-units --state=failed --no-legend --plain 'charlandero-*' nginx 'postgresql*' rabbitmq-server nftables" \
            | awk '{print $1}' | tr '\n' ' ')"
  [[ -z "$failed" ]] || fail "failed units on $ip: $failed"
done
on "$app_ip" "charlandero-run python manage.py doctor" >"$work/doctor.txt" 2>&1 \
  || { cat "$work/doctor.txt"; fail "manage.py doctor failed on charla-app"; }
grep -qF -- "$CHARLANDERO_DB_PASSWORD" "$work/doctor.txt" && fail "doctor printed the database password"
echo "  manage.py doctor: OK (through charlandero-run)"
on "$app_ip" "stat -c '%a %U' /etc/charlandero/env" | grep -qx '600 root' || fail "/etc/charlandero/env is not 0600 root"

say "a signed mention through nginx (HTTPS) -> worker -> fake Slack"
(cd "$repo" && SSL_CERT_FILE="$work/tls/cert.pem" python3 -m tests.smoke.send_mention \
   --web "https://$app_ip" --fake "http://$host_ip:$fake_port" --secret "$signing_secret" \
   --host-header "$server_name" --text help --expect help --timeout 90) \
  || { on "$app_ip" journalctl -u 'charlandero-*' --no-pager -n 60; fail "no reply through nginx"; }
policies="$(on "$data_ip" rabbitmqctl --silent list_queues -p charlandero name policy | sort | tr '\t\n' ': ')"
[[ " $policies" == *" deliveries:charla-classic-v2 "* ]] || fail "the deliveries queue is not under the storage-version policy ($policies)"
echo "  the app's queues are under the charla-classic-v2 policy"
if [[ -n "$cluster" ]]; then
  types="$(on "$data_ip" rabbitmqctl --silent list_queues -p charlandero name type | sort | tr '\t\n' ': ')"
  for q in deliveries inbox commands outbox periodic; do [[ " $types" == *" $q:quorum "* ]] || fail "$q is not a quorum queue ($types)"; done
  echo "  the app's queues are quorum queues: $(echo "$types" | tr ' ' '\n' | grep -E '^(deliveries|inbox|commands|outbox|periodic):' | tr '\n' ' ')"
fi
code="$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $server_name" "http://$app_ip/healthz")"
[[ "$code" == 301 ]] || fail "HTTP should redirect to HTTPS (got $code)"
code="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/tls/cert.pem" -H "Host: $server_name" "https://$app_ip/readyz")"
[[ "$code" == 200 ]] || fail "/readyz through nginx answered $code"

say "RabbitMQ: guest is gone and cannot log in"
on "$data_ip" rabbitmqctl --silent list_users | awk '{print $1}' | grep -qx guest && fail "guest still exists"
amqp_host=$data_ip
[[ -n "$single" ]] && amqp_host=127.0.0.1   # one host: RabbitMQ listens on loopback only
on "$app_ip" /opt/charlandero/current/venv/bin/python - "$amqp_host" <<'EOF' || fail "guest could log in"
import sys, amqp
try:
    amqp.Connection(f"{sys.argv[1]}:5672", userid="guest", password="guest", virtual_host="/", connect_timeout=5).connect()
except amqp.exceptions.AccessRefused as exc:
    print(f"  guest refused: {type(exc).__name__}")
    sys.exit(0)
sys.exit(1)
EOF

say "firewalls: this host (not an app host) cannot reach PostgreSQL, RabbitMQ or gunicorn"
reach() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
targets=("$data_ip:5432" "$data_ip:5672" "$data_ip:4369" "$data_ip:25672" "$app_ip:8000")
[[ -n "$cluster" ]] && targets+=("$mq2_ip:5672" "$mq2_ip:4369" "$mq2_ip:25672" "$mq3_ip:25672" "$work2_ip:8000")
for target in "${targets[@]}"; do
  reach "${target%:*}" "${target#*:}" && fail "$target is reachable from $host_ip"
  echo "  $target refused/filtered from $host_ip"
done
reach "$app_ip" 443 || fail "$app_ip:443 not reachable"
if [[ -n "$single" ]]; then
  listening="$(on "$app_ip" "ss -Hltn '( sport = :5432 or sport = :5672 )'" | awk '{print $4}' | sort -u | tr '\n' ' ')"
  echo "  PostgreSQL/RabbitMQ listen on: $listening"
  [[ "$listening" =~ ^((127\.0\.0\.1|\[::1\]):(5432|5672)\ )+$ ]] || fail "PostgreSQL/RabbitMQ listen beyond loopback"
else
  on "$app_ip" "timeout 3 bash -c 'exec 3<>/dev/tcp/$data_ip/5432' && timeout 3 bash -c 'exec 3<>/dev/tcp/$data_ip/5672'" \
    || fail "the app host cannot reach PostgreSQL/RabbitMQ"
  echo "  the app host reaches $data_ip:5432 and :5672"
fi
# pg_hba too: even from the data host itself, only the app's user on the app's database, with its password.
on "$data_ip" "PGPASSWORD=wrong PGCONNECT_TIMEOUT=3 psql -h $data_ip -U postgres -d postgres -c 'select 1'" >/dev/null 2>&1 \
  && fail "PostgreSQL accepted postgres over the network"
echo "  PostgreSQL refuses other users over the network"

# ---- second run: nothing changes -------------------------------------------------------------------
say "ansible-playbook site.yml (second run, must change nothing)"
t=$SECONDS
play "$work/run2.log" || fail "second playbook run failed"
second_run=$((SECONDS - t))
sed -n '/PLAY RECAP/,$p' "$work/run2.log"
if grep -E '^\S+ +: ok=' "$work/run2.log" | grep -vq ' changed=0 '; then
  grep -E '^(changed|TASK)' "$work/run2.log" | grep -B1 '^changed' || true
  fail "second run changed something"
fi
say "second run: ${second_run}s, changed=0 on every host"

# ---- third run: a worker-only change restarts the worker and nothing else -------------------------
# (not in the cluster variant: the same check, minutes longer with two worker hosts)
if [[ -z "$cluster" ]]; then
pid_of() { on "$app_ip" systemctl show -p MainPID --value "charlandero-$1"; }
web_before="$(pid_of web)"; worker_before="$(pid_of worker)"; beat_before="$(pid_of beat)"
say "ansible-playbook site.yml -e charlandero_worker_stop_timeout=301 (only the worker may restart)"
t=$SECONDS
play "$work/run3.log" -e charlandero_worker_stop_timeout=301 || fail "third playbook run failed"
third_run=$((SECONDS - t))
[[ -n "$single" ]] || grep -E '^(charla-data) +: ok=' "$work/run3.log" | grep -q ' changed=0 ' || fail "the data host changed"
[[ "$(pid_of web)" == "$web_before" && "$(pid_of beat)" == "$beat_before" ]] || fail "web or beat restarted"
[[ "$(pid_of worker)" != "$worker_before" ]] || fail "the worker did not restart"
on "$app_ip" systemctl show -p TimeoutStopUSec --value charlandero-worker | grep -qx '5min 1s' || fail "new stop timeout not applied"
say "third run: ${third_run}s; worker restarted (pid $worker_before -> $(pid_of worker)), web and beat kept running"
(cd "$repo" && SSL_CERT_FILE="$work/tls/cert.pem" python3 -m tests.smoke.send_mention \
   --web "https://$app_ip" --fake "http://$host_ip:$fake_port" --secret "$signing_secret" \
   --host-header "$server_name" --text help --expect help --timeout 60) || fail "no reply after the worker restart"
fi

# ---- optional: upgrade to another version, then roll back -------------------------------------------
if [[ -n "${SMOKE_UPGRADE:-}" ]]; then
  say "upgrade: the same code as version $version-up (new release folder and virtualenv)"
  t=$SECONDS
  CHARLANDERO_VERSION="$version-up" play "$work/run4.log" || fail "upgrade run failed"
  [[ "$(on "$app_ip" readlink /opt/charlandero/current)" == "/opt/charlandero/releases/$version-up" ]] || fail "current not flipped"
  [[ "$(pid_of web)" != "$web_before" ]] || fail "web did not restart on a new version"
  say "upgrade: $((SECONDS - t))s; rollback to $version"
  t=$SECONDS
  play "$work/run5.log" || fail "rollback run failed"
  [[ "$(on "$app_ip" readlink /opt/charlandero/current)" == "/opt/charlandero/releases/$version" ]] || fail "current not rolled back"
  say "rollback: $((SECONDS - t))s"
  (cd "$repo" && SSL_CERT_FILE="$work/tls/cert.pem" python3 -m tests.smoke.send_mention \
     --web "https://$app_ip" --fake "http://$host_ip:$fake_port" --secret "$signing_secret" \
     --host-header "$server_name" --text help --expect help --timeout 60) || fail "no reply after the rollback"
fi

# ---- cluster: a broker node dies under the app ---------------------------------------------------------
if [[ -n "$cluster" ]]; then
  say "cluster: kill -9 RabbitMQ on charla-data (the first node); the app must answer through the others"
  on "$data_ip" 'kill -KILL "$(systemctl show -p MainPID --value rabbitmq-server)"' || fail "could not kill RabbitMQ on charla-data"
  t=$SECONDS
  (cd "$repo" && SSL_CERT_FILE="$work/tls/cert.pem" python3 -m tests.smoke.send_mention \
     --web "https://$app_ip" --fake "http://$host_ip:$fake_port" --secret "$signing_secret" \
     --host-header "$server_name" --text help --expect help --timeout 90) \
    || { on "$app_ip" journalctl -u 'charlandero-*' --no-pager -n 60; fail "no reply with a broker node down"; }
  say "cluster: answered in $((SECONDS - t))s with charla-data's RabbitMQ down"
  on "$data_ip" 'systemctl reset-failed rabbitmq-server; systemctl start rabbitmq-server && rabbitmqctl --timeout 120 await_startup' >/dev/null \
    || fail "RabbitMQ on charla-data did not start again"
  running="$(on "$mq2_ip" rabbitmqctl --silent cluster_status --formatter json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["running_nodes"]))')"
  [[ "$running" == 3 ]] || fail "charla-data did not rejoin (running nodes: $running)"
  say "cluster: charla-data back and rejoined (3 nodes running)"
fi

say "PASS${single:+ (single host)}${cluster:+ (3-node RabbitMQ cluster, two worker hosts)}: first run ${first_run}s, rerun ${second_run}s (changed=0), total $((SECONDS - t0))s"
