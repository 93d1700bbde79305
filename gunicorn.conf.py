"""gunicorn settings: `gunicorn -c gunicorn.conf.py stubcollector.wsgi` (docs/deploy.md).

Every value can be overridden from the environment (GUNICORN_*), so one file serves a laptop,
`make serve` and a production host.
"""

import gc
import multiprocessing
import os
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers with a few threads: our requests wait on PostgreSQL and (at checkout) on Stripe.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# gthread, but a worker that is stopping leaves new connections to the others (its docstring).
worker_class = "stubcollector.gunicorn_worker.StoppingThreadWorker"
# A Stripe call may take STRIPE_TIMEOUT_SECONDS (10) times a couple of network retries.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Recycle workers now and then (a slow leak never grows unbounded); jitter spreads restarts.
# The jitter is half the limit: evenly loaded workers reach a limit with a 10 % jitter within a
# second of each other and all restart at once, which left no worker serving while each loaded
# Django (seen in `make bench`, docs/performance.md, before preload_app below); spread this wide
# they restart one at a time.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 2500))
# Load Django and the apps once, in the master, and fork every worker from it: a recycled (or
# dead) worker's successor serves at once instead of spending ~1.2 s of CPU loading them, on the
# same cores as the workers still serving (docs/performance.md, "Workers forked from a loaded
# master"), and the workers share the loaded code's memory. The code is read at start only: a
# deploy restarts gunicorn (docs/deploy.md); GUNICORN_PRELOAD=0 loads it in each worker instead.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
# Access log to stdout; Django's own JSON line per request (with its request id) goes to stderr.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Behind a TLS proxy on the same host (docs/deploy.md): trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "stubcollector"


def on_starting(server):
    """Prometheus multiprocess mode: every gunicorn and Celery process on the host writes its
    metrics under one folder. Empty it before starting them all (scripts/serve.sh and the
    systemd units in docs/deploy.md do), not here: the workers may have started first."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)


def when_ready(server):
    """With the app preloaded, before the first fork: load what a worker would load on its first
    requests (stubcollector/warm.py: the URLconf, the templates compiled) so that every worker
    starts with it; then, since whatever the master opened would be shared by every worker, close
    any database connection an import opened (Django opens them lazily: none should be), and
    move what the master loaded out of the cyclic collector's scans, so the workers' collections
    neither walk it nor write to the pages they share."""
    if not server.cfg.preload_app:
        return
    from django.db import connections

    from stubcollector.warm import warm_for_requests

    warm_for_requests()
    connections.close_all()
    gc.collect()
    gc.freeze()


def post_worker_init(worker):
    """Move what the worker loaded (Django, the apps, ~180k objects) out of the cyclic
    collector's scans: they live as long as the worker, and each full collection otherwise
    walked them all, 80-100 ms of CPU landing on whichever request triggered it (measured
    in-process; docs/performance.md). Cycles made later are still collected;
    testing/gc_tuning.py does the same for the test run."""
    gc.collect()
    gc.freeze()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
