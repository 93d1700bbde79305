"""gunicorn.conf.py's hooks, called as gunicorn calls them."""

import gc
import runpy
from pathlib import Path

from django.conf import settings


def test_a_worker_freezes_what_it_loaded_out_of_the_collectors_scans():
    hooks = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        loaded = gc.get_count()[0] + len(gc.get_objects())
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() >= loaded // 2
        assert len(gc.get_objects()) < gc.get_freeze_count() // 10
    finally:
        # The test run's own freeze (testing/gc_tuning.py) is put back as it was: frozen.
        gc.freeze()
