"""`fresh_python`: run Python source in a fresh process of the project, as `python -c` would, for
tests that need one (settings read under another environment, sentry-sdk's process-wide patches,
two app processes sharing one Redis).

The processes are forked from one server per test process (testing/fork_server.py), started on
first use, which has imported the heavy third-party libraries once: each start costs ~0.8
CPU-seconds instead of ~1.7. Each child still starts with nothing of the project imported, gets
the environment it is given (and nothing else of this one's) and reads settings.py under it.
pytest.ini loads this module as a plugin, so every app's tests may take the fixture.
"""

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


class ForkServer:
    def __init__(self):
        self._process = None

    def _started(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            # Its own session: a child that hangs goes with the server (see run).
            self._process = subprocess.Popen(
                [sys.executable, "-m", "testing.fork_server"], cwd=ROOT, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, start_new_session=True)
        return self._process

    def start(self, argv: list[str], *, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
        """`python argv...` (["-c", source, args...] or ["manage.py", args...]) under exactly
        `env`, from the project's root; a child still running after `timeout` seconds fails the
        test (the server and it are killed)."""
        process = self._started()
        process.stdin.write(json.dumps({"env": env, "argv": list(argv)}) + "\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline() if ready else ""
        if not line:
            self.stop()
            pytest.fail(f"a fresh process did not finish in {timeout} s (or its server died)")
        result = json.loads(line)
        return subprocess.CompletedProcess(list(argv), result["returncode"], result["stdout"],
                                           result["stderr"])

    def run(self, source: str, *args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.start(["-c", source, *args], env=env, timeout=timeout)

    def stop(self):
        if self._process is None:
            return
        if self._process.poll() is None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._process = None


@pytest.fixture(scope="session")
def _fork_server():
    server = ForkServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fresh_python(_fork_server):
    """`fresh_python(source, *args, env=...)` -> subprocess.CompletedProcess (text stdout and
    stderr), as `subprocess.run([sys.executable, "-c", source, *args], env=env, cwd=ROOT)`."""
    return _fork_server.run


@pytest.fixture(scope="session")
def fresh_start(_fork_server):
    """`fresh_start(argv, env=...)`: the same for any command line, e.g. ["manage.py", "check"]."""
    return _fork_server.start
