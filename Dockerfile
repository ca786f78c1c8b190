# Charlandero: one image for every process type. The command picks the role:
#   all (default)  web + worker + beat in one container on SQLite and the embedded broker in /data
#   web | worker | beat | release   one process each, for deploy/docker/compose.yml and the like
#   socket         Socket Mode (SLACK_APP_TOKEN): no public URL; `all` runs it too when the token is set
# Anything else is run as given (e.g. `python manage.py doctor`). See deploy/docker/README.md.

# ---- build: the dependencies, into a virtualenv that the runtime stage copies whole ----------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
# binutils' strip, for the extension modules that are shipped with their symbol tables (this stage only).
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils=2.40-2 \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
# Every pinned dependency ships a wheel for CPython 3.11 on Linux, so no compiler is needed.
# Installed without byte-compiling (the runtime stage compiles only what the processes import, below).
# Then out of the venv: pip and setuptools (the runtime never installs anything), the packages' own test
# suites and test helpers, translation sources (*.po), and Django's translations other than English (the
# project's LANGUAGE_CODE is en-us and nothing switches the language: the others are never loaded), and
# SQLAlchemy's dialects other than SQLite (it is here for the embedded broker only, and app/environment.py
# accepts no other database for it).
# Extension modules still carrying a symbol table are stripped (the others were stripped by their builds,
# and those that auditwheel patched are left alone).
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-compile --require-virtualenv -r /tmp/requirements.txt \
 && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools \
 && site=$(echo /opt/venv/lib/python3*/site-packages) \
 && find "$site" -depth \( -name '*.po' -o -name '*.pyi' -o -name '*.exe' \) -delete \
 && find "$site" -depth -type d \( -path '*/site-packages/*/tests' -o -name __pycache__ \) -exec rm -rf {} + \
 && rm -rf "$site/sqlalchemy/testing" "$site"/sqlalchemy/dialects/mssql "$site"/sqlalchemy/dialects/mysql \
           "$site"/sqlalchemy/dialects/oracle "$site"/sqlalchemy/dialects/postgresql \
 && find "$site/django" -type d -path '*/locale/*' -prune ! -name en -exec rm -rf {} + \
 && find "$site" -name '*.so' -type f -exec sh -c \
      'for f; do if readelf -S "$f" | grep -q "[.]symtab"; then strip --strip-unneeded "$f"; fi; done' sh {} +

# ---- runtime --------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="charlandero" \
      org.opencontainers.image.description="Charlandero Slack bot: web, worker, beat, socket, release or all (deploy/docker/README.md)"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DATA_DIR=/data \
    PORT=8000
# A fixed, numeric, unprivileged user (Kubernetes' runAsNonRoot can verify a numeric USER).
# /data holds SQLite, the embedded broker, the beat schedule and the generated secret key in `all` mode.
RUN groupadd --system --gid 10001 charla \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin charla \
 && install -d -o 10001 -g 10001 -m 0750 /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# .dockerignore lets in only the application (no .env, .git, tests, caches); the code stays root-owned.
COPY . .
# Static files are collected at build time with a throwaway key that is not kept anywhere. Then the modules
# the processes import at start are byte-compiled (deploy/docker/precompile.py says which and why): the
# running user cannot write .pyc files, and compiling all of the venv would cost more than it saves.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" DATA_DIR=/tmp/collectstatic \
      python manage.py collectstatic --noinput --verbosity 0 \
 && python deploy/docker/precompile.py \
 && rm -rf /tmp/collectstatic /tmp/precompile-* \
 && chmod 0755 deploy/docker/entrypoint.sh bin/process
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "/app/deploy/docker/healthcheck.py"]
ENTRYPOINT ["/app/deploy/docker/entrypoint.sh"]
CMD ["all"]
