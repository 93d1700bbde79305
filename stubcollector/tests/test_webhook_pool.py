"""The webhook pool as scripts/serve.sh runs it, as docs/deploy.md describes it, and as
bench/webhook_load.py measures it: the three must say the same thing."""

import re
import subprocess
from pathlib import Path

import pytest

from bench import webhook_load

ROOT = Path(__file__).resolve().parents[2]
SERVE = (ROOT / "scripts" / "serve.sh").read_text()
DEPLOY = (ROOT / "docs" / "deploy.md").read_text()


def shell_function(name: str) -> str:
    match = re.search(r"^%s\(\) \{\n.*?^\}\n" % re.escape(name), SERVE, re.M | re.S)  # noqa: UP031
    assert match, f"scripts/serve.sh has no function {name}"
    return match.group(0)


def run_start(function: str, hosts: int, pages_nice: int = 10) -> list[str]:
    """Run serve.sh's start_web or start_hook with as_host and started replaced by recorders:
    the command line it would start, one word a line."""
    script = f"""
set -euo pipefail
HOSTS={hosts} HOST_PORT=127.0.0.1:8000 BIN=/venv/bin ROOT_DIR=/repo GUNICORN_WORKERS=3 PAGES_NICE={pages_nice}
WEB_PORTS=([1]=9001) HOOK_PORTS=([1]=9002)
host_dir() {{ echo /tmp; }}
as_host() {{
  shift; printf '%s\\n' "GUNICORN_WORKERS=$GUNICORN_WORKERS" "GUNICORN_BIND=$GUNICORN_BIND" "$@" >&3
}}
started() {{ :; }}
{shell_function("start_web")}
{shell_function("start_hook")}
{function} 1 3>&1
"""
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return result.stdout.split("\n")[:-1]


def test_the_bench_reads_serve_sh_defaults():
    defaults = webhook_load.serve_defaults()
    assert defaults["WEBHOOK_WORKERS"] == int(re.search(r"\$\{WEBHOOK_WORKERS:-(\d+)\}", SERVE).group(1))
    assert defaults["PAGES_NICE"] == int(re.search(r"\$\{PAGES_NICE:-(\d+)\}", SERVE).group(1))
    assert 0 < defaults["PAGES_NICE"] <= 19


def test_with_a_webhook_pool_the_page_pool_runs_at_a_lower_priority():
    nice = webhook_load.serve_defaults()["PAGES_NICE"]
    assert run_start("start_web", hosts=2, pages_nice=nice) == [
        "GUNICORN_WORKERS=3", "GUNICORN_BIND=127.0.0.1:9001",
        "nice", "-n", str(nice), "/venv/bin/gunicorn", "-c", "/repo/gunicorn.conf.py", "stubcollector.wsgi"]


def test_the_webhook_pool_runs_the_product_configuration_at_the_ordinary_priority():
    workers = webhook_load.serve_defaults()["WEBHOOK_WORKERS"]
    assert run_start("start_hook", hosts=2) == [
        f"GUNICORN_WORKERS={workers}", "GUNICORN_BIND=127.0.0.1:9002",
        "/venv/bin/gunicorn", "-c", "/repo/gunicorn.conf.py", "stubcollector.wsgi"]


def test_one_host_runs_its_pages_on_the_serve_address_below_a_webhook_pool_of_its_own():
    nice = webhook_load.serve_defaults()["PAGES_NICE"]
    workers = webhook_load.serve_defaults()["WEBHOOK_WORKERS"]
    assert run_start("start_web", hosts=1, pages_nice=nice) == [
        "GUNICORN_WORKERS=3", "GUNICORN_BIND=127.0.0.1:8000",
        "nice", "-n", str(nice), "/venv/bin/gunicorn", "-c", "/repo/gunicorn.conf.py", "stubcollector.wsgi"]
    assert run_start("start_hook", hosts=1) == [
        f"GUNICORN_WORKERS={workers}", "GUNICORN_BIND=127.0.0.1:9002",
        "/venv/bin/gunicorn", "-c", "/repo/gunicorn.conf.py", "stubcollector.wsgi"]



@pytest.mark.parametrize("value", ["-5", "20", "high"])
def test_serve_refuses_a_pages_nice_it_cannot_apply(value):
    line = next(line for line in SERVE.splitlines() if line.startswith("[[ \"$PAGES_NICE\""))
    script = f'die() {{ echo "$*"; exit 3; }}\nPAGES_NICE={value}\n{line}\necho accepted'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert result.returncode == 3 and "PAGES_NICE" in result.stdout


def test_the_systemd_units_in_deploy_md_match_serve_sh():
    defaults = webhook_load.serve_defaults()
    units = dict(re.findall(r"# /etc/systemd/system/(stubcollector-[a-z]+)\.service\n(.*?)```", DEPLOY, re.S))
    assert f"Nice={defaults['PAGES_NICE']}" in units["stubcollector-web"]
    assert "Nice=" not in units["stubcollector-webhooks"]
    assert f"GUNICORN_WORKERS={defaults['WEBHOOK_WORKERS']}" in units["stubcollector-webhooks"]
    for unit in ("stubcollector-web", "stubcollector-webhooks"):
        assert "gunicorn -c gunicorn.conf.py stubcollector.wsgi" in units[unit]
