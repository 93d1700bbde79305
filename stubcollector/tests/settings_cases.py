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
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR))

# The preload and the fork are testing/fork_server.py's, which the tests that need one fresh
# process at a time use as a server.
from testing.fork_server import fork_case, preload  # noqa: E402


def main() -> None:
    cases = json.load(sys.stdin)
    # Without DJANGO_SETTINGS_MODULE a preloaded module that read the settings would raise here,
    # instead of configuring them once for every case from this process's environment.
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    preload()
    from django.conf import settings

    assert not settings.configured, "a preloaded module configured the settings"
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for case in cases:
            results.append(fork_case(case, workdir, str(BASE_DIR)))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
