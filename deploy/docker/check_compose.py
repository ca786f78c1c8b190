"""Checks the meaning of compose.yml beyond its schema, on `docker compose config --format json` output.

    docker compose --profile monitoring config --format json | python3 check_compose.py

Exits 1 listing every broken expectation: the stack's contract (order, health, roles, volumes,
shutdown) and the consistency of the URLs the bot gets with the services that serve them.
"""
import json
import re
import sys
from urllib.parse import urlsplit

APP_ROLES = ("release", "web", "worker", "beat")
LONG_RUNNING = ("postgres", "rabbitmq", "web", "worker", "beat", "flower")


def seconds(duration: str) -> float:
    """Compose's normalized durations: '1m10s', '50s', '1h'."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration or "")
    return sum(float(n) * units[u] for n, u in parts)


def main() -> int:
    config = json.load(sys.stdin)
    services = config["services"]
    problems = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    expect(set(services) == {"postgres", "rabbitmq", *APP_ROLES, "flower"}, f"services are {sorted(services)}")
    images = {services[r].get("image") for r in APP_ROLES}
    expect(len(images) == 1, f"the bot's services run different images: {images}")
    for role in APP_ROLES:
        svc = services[role]
        expect(svc.get("command") == [role], f"{role}: command is {svc.get('command')}, expected [{role!r}]")
        expect(svc.get("build", {}).get("dockerfile") == "Dockerfile", f"{role}: not built from the Dockerfile")
        expect(svc.get("read_only") is True, f"{role}: root file system not read-only")
        expect("ALL" in (svc.get("cap_drop") or []), f"{role}: capabilities not dropped")
    for name in LONG_RUNNING:
        hc = services[name].get("healthcheck") or {}
        expect(bool(hc.get("test")) and not hc.get("disable"), f"{name}: no healthcheck")
    for role in ("web", "worker", "beat"):
        deps = services[role].get("depends_on") or {}
        expect(deps.get("release", {}).get("condition") == "service_completed_successfully",
               f"{role}: does not wait for release to complete")
        for dep, spec in deps.items():
            if dep != "release":
                expect(spec.get("condition") == "service_healthy", f"{role}: waits for {dep} without service_healthy")
    for dep in ("postgres", "rabbitmq"):
        expect(services["release"].get("depends_on", {}).get(dep, {}).get("condition") == "service_healthy",
               f"release: does not wait for a healthy {dep}")
    expect("profiles" not in services["release"] and services["flower"].get("profiles") == ["monitoring"],
           "flower must be (only) in the monitoring profile")
    expect("FLOWER_BASIC_AUTH" in (services["flower"].get("environment") or {}), "flower: no basic auth")

    # Worker shutdown: the grace period covers the soft shutdown that lets tasks finish.
    worker_env = services["worker"].get("environment") or {}
    soft = float(worker_env.get("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT") or 20)
    grace = seconds(services["worker"].get("stop_grace_period", "10s"))
    expect(grace >= soft + 10, f"worker: stop_grace_period {grace:.0f}s is not >= soft shutdown {soft:.0f}s + 10s")

    # The URLs the bot gets point at the stack's own services, with their credentials.
    pg_env = services["postgres"].get("environment") or {}
    mq_env = services["rabbitmq"].get("environment") or {}
    for role in APP_ROLES:
        env = services[role].get("environment") or {}
        db = urlsplit(env.get("DATABASE_URL", ""))
        expect(db.scheme.startswith("postgres") and db.hostname == "postgres"
               and db.username == pg_env.get("POSTGRES_USER") and db.password == pg_env.get("POSTGRES_PASSWORD")
               and db.path.lstrip("/") == pg_env.get("POSTGRES_DB"),
               f"{role}: DATABASE_URL does not match the postgres service")
        mq = urlsplit(env.get("CELERY_BROKER_URL", ""))
        expect(mq.scheme == "amqp" and mq.hostname == "rabbitmq"
               and mq.username == mq_env.get("RABBITMQ_DEFAULT_USER")
               and mq.password == mq_env.get("RABBITMQ_DEFAULT_PASS")
               and mq.path.lstrip("/") == mq_env.get("RABBITMQ_DEFAULT_VHOST"),
               f"{role}: CELERY_BROKER_URL does not match the rabbitmq service")
        expect(env.get("DATA_DIR") == "/data", f"{role}: DATA_DIR is not /data")
        expect(bool(env.get("SECRET_KEY")) and bool(env.get("ALLOWED_HOSTS")), f"{role}: SECRET_KEY/ALLOWED_HOSTS unset")
    flower_mq = urlsplit((services["flower"].get("environment") or {}).get("CELERY_BROKER_URL", ""))
    expect(flower_mq.hostname == "rabbitmq" and flower_mq.password == mq_env.get("RABBITMQ_DEFAULT_PASS"),
           "flower: CELERY_BROKER_URL does not match the rabbitmq service")

    # Data in named volumes only (no bind mounts of host folders).
    for name, svc in services.items():
        for vol in svc.get("volumes") or []:
            expect(vol.get("type") == "volume" and vol.get("source") in config.get("volumes", {}),
                   f"{name}: {vol.get('source')} is not a named volume")
    expect(set(config.get("volumes", {})) == {"postgres-data", "rabbitmq-data", "beat-data"},
           f"volumes are {sorted(config.get('volumes', {}))}")
    # Management UIs only on the host's loopback.
    for name in ("rabbitmq", "flower"):
        for port in services[name].get("ports") or []:
            expect(port.get("host_ip") == "127.0.0.1", f"{name}: port {port.get('target')} published beyond 127.0.0.1")

    for p in problems:
        print(f"compose.yml: {p}", file=sys.stderr)
    if not problems:
        print("compose.yml: order, health, roles, shutdown, URLs and volumes as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
