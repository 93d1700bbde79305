"""Runs many start-up cases of the project in one Python process, each as if it were a fresh one.

test_deploy_settings.py checks how the project starts under different environments. settings.py
reads the environment once, and Django configures its settings once per process, so each case
needs a process of its own; starting a whole interpreter per case cost ~1 CPU-second each. Here
the interpreter imports the heavy libraries once (none of them reads the project's settings at
import time) and forks a child per case: the child gets the case's environment, runs the command
with nothing of the project imported yet, and exits with the code a real start would have.

Input (stdin): a JSON list of {"env": {...}, "argv": [...]} where argv is either
["manage.py", ...] or ["-c", "<python source>"]. Output (stdout): a JSON list of
{"returncode", "stdout", "stderr"} in the same order.
"""

import json
import os
import runpy
import sys
import tempfile
import traceback
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def preload() -> None:
    # Third-party only, and nothing that reads django.conf.settings (main() makes sure): each
    # child must still read settings.py under its own environment.
    import boto3.session  # noqa: F401
    import botocore.client  # noqa: F401
    import celery.app  # noqa: F401
    import cryptography.x509  # noqa: F401
    import django.core.management  # noqa: F401
    import django.db.backends.sqlite3.base  # noqa: F401
    import django.db.migrations.executor  # noqa: F401
    import django.db.models  # noqa: F401
    import environ  # noqa: F401
    import kombu  # noqa: F401
    import PIL.Image  # noqa: F401
    import prometheus_client  # noqa: F401
    import psycopg  # noqa: F401
    import pygments  # noqa: F401
    import redis.asyncio  # noqa: F401
    import stripe  # noqa: F401
    import yaml  # noqa: F401


def run_case(argv: list[str]) -> int:
    """What `python <argv>` would exit with, uncaught exceptions printed as the interpreter does."""
    try:
        if argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102
        else:
            sys.argv = list(argv)
            runpy.run_path(str(BASE_DIR / argv[0]), run_name="__main__")
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


def fork_case(case: dict, workdir: str) -> dict:
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
            os.chdir(BASE_DIR)
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
    cases = json.load(sys.stdin)
    sys.path.insert(0, str(BASE_DIR))
    # Without DJANGO_SETTINGS_MODULE a preloaded module that read the settings would raise here,
    # instead of configuring them once for every case from this process's environment.
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    preload()
    from django.conf import settings

    assert not settings.configured, "a preloaded module configured the settings"
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for case in cases:
            results.append(fork_case(case, workdir))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
