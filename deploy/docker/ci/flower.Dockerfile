# TEST-ONLY: a stand-in for the official `mher/flower:2.0.1` image, for CI hosts that cannot reach a
# registry (deploy/docker/compose-smoke.sh tags it with that name). Never deploy it. Like the official
# image: Flower 2.0.1 from PyPI, `celery flower` as the command, `python` on PATH (compose.yml's health
# check), FLOWER_* variables read by Flower itself, an unprivileged user, /data as its volume.
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/flower/bin:$PATH \
    FLOWER_DATA_DIR=/data \
    PYTHONPATH=/data
# Celery at the version the bot runs, so that Flower speaks to its workers with the same protocol.
RUN python3 -m venv /opt/flower \
 && /opt/flower/bin/pip install --no-cache-dir flower==2.0.1 celery==5.7.0 \
 && groupadd --gid 1000 flower \
 && useradd --uid 1000 --gid 1000 --home-dir /data --no-create-home flower \
 && install -d -o flower -g flower /data
WORKDIR /data
USER 1000:1000
VOLUME /data
EXPOSE 5555
CMD ["celery", "flower"]
