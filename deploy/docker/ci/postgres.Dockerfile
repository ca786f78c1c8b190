# TEST-ONLY: a stand-in for the official `postgres:16-bookworm` image, for CI hosts that cannot reach a
# registry (deploy/docker/compose-smoke.sh tags it with that name). Never deploy it. Debian bookworm has
# PostgreSQL 15, not 16: the bot uses nothing 16-only. What compose.yml relies on behaves as in the
# official image: POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB create the superuser and the database
# on the first start into an empty /var/lib/postgresql/data; connections over TCP need the password
# (scram-sha-256); `pg_isready` is on PATH for the health check; SIGINT is the stop signal (fast shutdown).
FROM debian:bookworm-slim
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
# No cluster made by the package (the entry point makes one in PGDATA) and no service started at install.
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
 && mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d \
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
