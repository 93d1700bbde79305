"""The web and Celery worker processes' start-up hooks, called as gunicorn and Celery call them."""

import gc
import os
import runpy
from pathlib import Path

from django.conf import settings

from bench import worker_recycle


def _frozen_by(hook):
    gc.unfreeze()
    try:
        loaded = gc.get_count()[0] + len(gc.get_objects())
        hook()
        assert gc.get_freeze_count() >= loaded // 2
        assert len(gc.get_objects()) < gc.get_freeze_count() // 10
    finally:
        # The test run's own freeze (testing/gc_tuning.py) is put back as it was: frozen.
        gc.freeze()


def test_a_gunicorn_worker_freezes_what_it_loaded_out_of_the_collectors_scans():
    hooks = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))
    _frozen_by(lambda: hooks["post_worker_init"](None))


def test_a_celery_pool_process_freezes_what_it_loaded():
    from celery import signals

    _frozen_by(lambda: signals.worker_process_init.send(sender=None))


def test_gunicorn_loads_the_app_in_its_master_and_a_recycled_worker_drops_no_request(tmp_path):
    """gunicorn.conf.py as `make serve` and docs/deploy.md run it, its one worker recycled after
    every second request: the master itself has the app loaded (Pillow's C library, which only
    the app imports, is mapped into it), and every request, each on a new connection as nginx
    sends them, is answered, also the one that arrives as a worker stops
    (stubcollector/gunicorn_worker.py)."""
    port = worker_recycle.free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GUNICORN_", "DJANGO_", "PYTEST_"))}
    env.update(
        GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1", GUNICORN_MAX_REQUESTS="2",
        GUNICORN_MAX_REQUESTS_JITTER="0", DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    server = worker_recycle.gunicorn_started(env, port)
    try:
        assert "PIL/_imaging" in Path(f"/proc/{server.pid}/maps").read_text()
        assert [worker_recycle.get(port) for _ in range(9)] == [200] * 9
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[1]
    assert log.count("Booting worker with pid") >= 5, log
    assert "Traceback" not in log and "could not be compiled" not in log, log
