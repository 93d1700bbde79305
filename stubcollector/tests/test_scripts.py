"""The shell behind `make` and CI parses, and the Makefile has the documented targets."""

import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(BASE_DIR.glob("scripts/*.sh")) + [BASE_DIR / ".ci" / "run"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_is_valid_bash_in_strict_mode(script):
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash") or script.name == "lib.sh"
    if script.name != "lib.sh":
        assert "set -euo pipefail" in text


@pytest.mark.parametrize("target", ["run", "test", "test-postgres", "e2e", "bench", "lint", "smoke", "ci",
                                    "serve", "smoke-serve", "smoke-hosts"])
def test_makefile_has_the_documented_targets(target):
    result = subprocess.run(
        ["make", "-n", "-C", str(BASE_DIR), target], capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr


def test_free_port_skips_a_port_in_use():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            ["bash", "-c", f'source "{BASE_DIR}/scripts/lib.sh"; free_port {port}'],
            capture_output=True, text=True, timeout=30,
        )

    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > port


def test_free_port_picks_below_the_ephemeral_ports_outgoing_connections_hold():
    """An outgoing connection's local port (32768 up on Linux) accepts no connection, so it looks
    free, and a server then fails to bind it."""
    result = subprocess.run(
        ["bash", "-c", f'source "{BASE_DIR}/scripts/lib.sh"; for i in $(seq 20); do free_port; done'],
        capture_output=True, text=True, timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert all(20000 <= int(port) < 32768 for port in result.stdout.split())
