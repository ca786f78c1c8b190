#!/usr/bin/env bash
# The rabbitmq role's announcer tasks (roles/rabbitmq/tasks/announcers.yml), run for real against this
# machine's RabbitMQ, on a vhost of their own (created here, deleted after; the broker is not restarted):
# twice (the second run changes nothing), then the users they made are checked the way a producer meets them:
# announce.<its source> on charla is confirmed; announce.<another source>, deliveries.slack and the default
# exchange are refused.
#   deploy/ansible/announcers-check.sh      (root: rabbitmqctl; uses .cache/ansible/venv like smoke.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${ANSIBLE_VENV:-$repo/.cache/ansible/venv}"
python="$repo/.venv/bin/python"
if ! "$venv/bin/ansible-playbook" --version >/dev/null 2>&1 \
   || ! cmp -s "$here/requirements.txt" "$venv/.requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.requirements.txt"
fi
vhost="charla-announcers-check-$$"
work="$(mktemp -d)"
password_ci="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')x1"
password_ops="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')x2"
cleanup() {
  rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
  for user in check-ci-$$ check-ops-$$; do rabbitmqctl -q delete_user "$user" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
rabbitmqctl -q add_vhost "$vhost"
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*'
cat > "$work/play.yml" <<YAML
- name: Announcers on this machine's RabbitMQ
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: The role's announcer tasks
      ansible.builtin.include_role:
        name: rabbitmq
        tasks_from: announcers.yml
      vars:
        rabbitmq_vhost: "$vhost"
        rabbitmq_app_user: charlandero
        rabbitmq_announcers:
          - {name: check-ci-$$, password: "$password_ci", sources: [ci]}
          - {name: check-ops-$$, password: "$password_ops", sources: [ops, nightly-cron]}
YAML
play() {  # $1: what the recap must show
  ANSIBLE_ROLES_PATH="$here/roles" ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
    "$venv/bin/ansible-playbook" -i localhost, -e "ansible_python_interpreter=$venv/bin/python" "$work/play.yml" > "$work/run.log" 2>&1 \
    || { cat "$work/run.log"; echo "announcers-check: the playbook failed" >&2; exit 1; }
  grep -E '^localhost' "$work/run.log"
  grep -Eq "^localhost .*$1" "$work/run.log" || { cat "$work/run.log"; echo "announcers-check: expected $1" >&2; exit 1; }
}
play 'changed=[1-9]'
play 'changed=0 '   # the second run changes nothing
rabbitmqctl -q list_topic_permissions -p "$vhost"
"$python" - "$vhost" "check-ci-$$" "$password_ci" "check-ops-$$" "$password_ops" <<'PY'
import sys
from kombu import Connection, Exchange, Queue

vhost, ci, ci_password, ops, ops_password = sys.argv[1:]
url = "amqp://{}:{}@127.0.0.1:5672/" + vhost
with Connection(url.format("guest", "guest")) as conn:  # what the worker declares
    Queue("announcements", Exchange("charla", "topic", durable=True), "announce.#", durable=True)(conn.default_channel).declare()


def publish(user, password, exchange, key):
    try:
        with Connection(url.format(user, password), transport_options={"confirm_publish": True}) as conn:
            conn.Producer(auto_declare=False).publish(b"{}", exchange=exchange, routing_key=key, retry=False,
                                                      content_type="application/json", mandatory=True)
        return "confirmed"
    except Exception as exc:
        return "refused" if "ACCESS_REFUSED" in str(exc) else f"failed: {exc}"


expected = [(ci, ci_password, "charla", "announce.ci", "confirmed"),
            (ops, ops_password, "charla", "announce.nightly-cron", "confirmed"),
            (ci, ci_password, "charla", "announce.ops", "refused"),
            (ci, ci_password, "charla", "deliveries.slack", "refused"),
            (ops, ops_password, "", "deliveries", "refused")]
wrong = 0
for user, password, exchange, key, want in expected:
    got = publish(user, password, exchange, key)
    print(f"  {user} -> {exchange or '(default)'} {key}: {got}")
    wrong += got != want
sys.exit(1 if wrong else 0)
PY
echo "announcers-check: OK"
