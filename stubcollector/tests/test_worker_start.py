"""The web and Celery worker processes' start-up hooks, called as gunicorn and Celery call them."""

import gc
import runpy
from pathlib import Path

from django.conf import settings


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
