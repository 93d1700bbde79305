"""Starts fresh Python processes of the project quickly: forked from this one, which has imported
the heavy third-party libraries once (testing/fresh_process.py runs it; read that first).

A fresh interpreter that sets Django up costs ~1.7 CPU-seconds, about half of it importing the
libraries the project uses; a child forked from here costs ~0.8, the project's own import and
django.setup(). Nothing here reads the project's settings or imports the project, so each child
still reads settings.py under its own environment, exactly as a new interpreter would.

Protocol: one JSON object a line on stdin, {"env": {...}, "argv": ["-c", "<source>", args...]}
(or ["manage.py", args...]); for each, one JSON line on stdout, {"returncode", "stdout",
"stderr"}. stubcollector/tests/test_deploy_settings.py starts its cases this way too.
"""

import gc
import importlib
import json
import os
import runpy
import sys
import tempfile
import traceback
from pathlib import Path

CHILD_START_MODULES = (
    "celery.schedules", "celery.worker", "confusable_homoglyphs.confusables", "csp.middleware",
    "django.contrib.admin", "django.contrib.admin.templatetags.admin_list",
    "django.contrib.admin.views.main", "django.contrib.humanize.templatetags.humanize",
    "django.contrib.messages.storage.fallback", "django.contrib.postgres.fields",
    "django.contrib.postgres.indexes", "django.contrib.postgres.search",
    "django.contrib.sessions.backends.cache", "django.contrib.sessions.backends.db",
    "django.contrib.staticfiles.storage", "django.core.cache.backends.locmem",
    "django.core.cache.backends.redis", "django.core.management.commands.check",
    "django.core.management.commands.shell", "django.db.backends.postgresql.base",
    "django.middleware.csrf", "django.middleware.security", "django.views.generic",
    "django_ratelimit.decorators", "prometheus_client.multiprocess", "pygments.formatters.html",
    "pygments.lexers.python", "rest_framework.fields", "rest_framework.serializers",
    "storages.backends.s3", "whitenoise.middleware",
)


def preload() -> None:
    # Third-party only, and nothing that reads django.conf.settings (main() makes sure).
    import boto3.session  # noqa: F401
    import botocore.client  # noqa: F401
    import celery.app  # noqa: F401
    import cryptography.x509  # noqa: F401
    import django.core.handlers.wsgi  # noqa: F401
    import django.core.management  # noqa: F401
    import django.db.backends.sqlite3.base  # noqa: F401
    import django.db.migrations.executor  # noqa: F401
    import django.db.models  # noqa: F401
    import django.test  # noqa: F401
    import environ  # noqa: F401
    import kombu  # noqa: F401
    import PIL.Image  # noqa: F401
    import prometheus_client  # noqa: F401
    import psycopg  # noqa: F401
    import pygments  # noqa: F401
    import redis.asyncio  # noqa: F401
    import sentry_sdk  # noqa: F401
    import stripe
    import yaml  # noqa: F401

    # stripe imports its ~250 resource classes lazily, on first attribute access; dj-stripe's
    # models touch most of them, which cost each child ~0.15 CPU-s of imports.
    for name in stripe._import_map:
        getattr(stripe, name)
    # What the project's start-up imports next that reads no settings: ~0.1 CPU-s more a child.
    for module in CHILD_START_MODULES:
        importlib.import_module(module)


def run_case(argv: list[str]) -> int:
    """What `python <argv>` would exit with (argv: ["-c", source, args...] or a script in the
    working directory and its arguments), uncaught exceptions printed as the interpreter does."""
    try:
        if argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102
        else:
            sys.argv = list(argv)
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exit_:
        if exit_.code is None:
            return 0
        if isinstance(exit_.code, int):
            return exit_.code
        print(exit_.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def fork_case(case: dict, workdir: str, cwd: str) -> dict:
    out_path, err_path = os.path.join(workdir, "out"), os.path.join(workdir, "err")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
            os.environ.clear()
            os.environ.update(case["env"])
            os.chdir(cwd)
            code = run_case(case["argv"])
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return {
        "returncode": os.waitstatus_to_exitcode(status),
        "stdout": Path(out_path).read_text(errors="replace"),
        "stderr": Path(err_path).read_text(errors="replace"),
    }


def main() -> None:
    cwd = os.getcwd()
    # Without DJANGO_SETTINGS_MODULE a preloaded module that read the settings would raise here,
    # instead of configuring them once for every child from this process's environment.
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    preload()
    from django.conf import settings

    assert not settings.configured, "a preloaded module configured the settings"
    # What preload() imported lives as long as every child: out of the cyclic collector's scans
    # (the permanent generation), a child's full collections during its own imports and
    # django.setup() no longer walk it again (~0.08 CPU-s a child). Its own objects are
    # collected as before.
    gc.collect()
    gc.freeze()
    with tempfile.TemporaryDirectory() as workdir:
        for line in sys.stdin:
            result = fork_case(json.loads(line), workdir, cwd)
            sys.stdout.write(json.dumps(result) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
