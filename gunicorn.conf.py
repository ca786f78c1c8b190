"""gunicorn settings. Every value comes from app/environment.py (the one place the environment is read), so a
wrong PORT, WEB_CONCURRENCY or GUNICORN_* stops web with the same one-line message as every other variable.

The same file serves every target; the numbers are chosen for Heroku's router and dyno lifecycle,
which are the tightest of them:
- the router gives a request 30 s to start answering (H12 after that), so `timeout` stays below it;
- a dyno gets SIGTERM and then SIGKILL 30 s later, so `graceful_timeout` lets in-flight requests
  finish well inside that window;
- the router keeps idle connections to the dyno open for up to 90 s, so `keepalive` is above that:
  the app must never be the side that closes an idle connection the router is about to reuse.
  (Sync workers answer with `Connection: close` and do not keep connections at all; the value
  matters when a threaded worker class is chosen with GUNICORN_WORKER_CLASS.)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # gunicorn reads this file before it adds its chdir

from app.environment import load_or_exit  # noqa: E402

CONFIG = load_or_exit()

# Heroku, Docker and nginx reach web from outside its host (or container); a run started by ./charla on a
# developer's machine answers that machine only (the console takes posts from whoever reaches it).
bind = f"{'127.0.0.1' if CONFIG.local else '0.0.0.0'}:{CONFIG.port}"
# Heroku sets WEB_CONCURRENCY from the dyno size (2 on 512 MB dynos); bench/README.md has each worker's RSS.
workers = CONFIG.web_concurrency
# gunicorn's own classes, answering 400 where gunicorn would answer 501 or 500 to a malformed request.
worker_class = {"sync": "app.gunicorn_workers.SyncWorker", "gthread": "app.gunicorn_workers.ThreadWorker"}.get(
    CONFIG.gunicorn_worker_class, CONFIG.gunicorn_worker_class)
threads = CONFIG.gunicorn_threads
# Fail at start, once, with the configuration message, rather than in every worker; the workers
# share the loaded code copy-on-write, which keeps a 512 MB dyno comfortable.
preload_app = True
timeout = 25            # < the router's 30 s request timeout
graceful_timeout = 20   # < the 30 s between SIGTERM and SIGKILL
keepalive = CONFIG.gunicorn_keepalive  # > the router's 90 s idle timeout; 0: close after each answer
# Workers are not recycled by default: a worker's RSS stays flat under load, and frequent recycling (the
# usual leak workaround) puts a fresh worker on the request path and raises ingest latency (bench/README.md).
# If a leak ever shows up (R14 on Heroku), GUNICORN_MAX_REQUESTS=N turns recycling on, with 10 % jitter.
max_requests = CONFIG.gunicorn_max_requests
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
# gunicorn 24+ opens a control socket under $HOME by default: nothing here uses it, a read-only or
# shared $HOME (containers, several instances on one host) would trip over it.
control_socket_disable = True
