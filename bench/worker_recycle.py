"""What a gunicorn worker's recycling costs, with the app loaded in the master (gunicorn.conf.py's
`preload_app`) and without (GUNICORN_PRELOAD=0: each new worker loads Django and the apps itself).

    python bench/worker_recycle.py      # run by scripts/bench.sh (BENCH_SCRIPTS=worker_recycle)

Workers are recycled after `max_requests` (gunicorn.conf.py: 5,000 + up to 2,500), so a busy
site starts a new one every few thousand requests per worker; `make bench` saw 74-77 in one run
(docs/performance.md). Here the product's gunicorn.conf.py runs 2 workers recycled every 100-150
requests (GUNICORN_MAX_REQUESTS, _JITTER), and one client asks /healthz (a view that touches
nothing, so what is measured is the recycling) BENCH_RECYCLE_REQUESTS times, a new connection
each, as the deploy's nginx connects. Both setups in turn, BENCH_RECYCLE_ROUNDS times.

Columns: new workers started (after the first two), the CPU of the whole gunicorn (master and
every worker, from the kernel's accounting of the reaped processes), the latency of the requests
(the slowest: one that waited for a worker being started), and requests answered by a closed
connection (should be none: gunicorn's gthread worker closed one it had just accepted as it
stopped after its last request, which stubcollector/gunicorn_worker.py leaves to another worker).
"""

import http.client
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_RECYCLE_REQUESTS", 1500))
ROUNDS = int(os.environ.get("BENCH_RECYCLE_ROUNDS", 2))
SETUPS = (("app loaded in the master (preload_app, the default)", "1"),
          ("app loaded by each worker (GUNICORN_PRELOAD=0)", "0"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int) -> int:
    """/healthz on a new connection: its status (OSError when the connection fails)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def gunicorn_started(env: dict, port: int) -> subprocess.Popen:
    """The product's gunicorn (gunicorn.conf.py, its settings from `env`), once it answers
    /healthz on `port`; its log is on the process's stderr."""
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "stubcollector.wsgi"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            get(port)
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"gunicorn did not start: {server.communicate()[1]}") from None
            time.sleep(0.05)


def run(preload: str) -> dict:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUNICORN_")}
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2", GUNICORN_MAX_REQUESTS="100",
               GUNICORN_MAX_REQUESTS_JITTER="50", GUNICORN_PRELOAD=preload,
               GUNICORN_ACCESSLOG="/dev/null")
    cpu_before = children_cpu()
    server = gunicorn_started(env, port)
    latencies, closed = [], 0
    for _ in range(REQUESTS):
        started = time.perf_counter()
        try:
            get(port)
        except OSError:
            closed += 1
        latencies.append((time.perf_counter() - started) * 1000)
    server.terminate()
    log = server.communicate(timeout=60)[1]
    latencies.sort()
    return {
        "started": log.count("Booting worker with pid") - 2,
        "cpu": children_cpu() - cpu_before,
        "p50": statistics.median(latencies),
        "p99": latencies[int(0.99 * len(latencies))],
        "max": latencies[-1],
        "closed": closed,
    }


def main():
    results = {name: [] for name, _ in SETUPS}
    for _ in range(ROUNDS):
        for name, preload in SETUPS:
            results[name].append(run(preload))
    print(f"\nWorker recycling: gunicorn.conf.py, 2 workers recycled every 100-150 requests, "
          f"{REQUESTS:,} requests for /healthz per run (a new connection each), {ROUNDS} runs each, "
          f"interleaved")
    print()
    print("| setup | workers started | gunicorn CPU s | CPU s per worker started | p50 ms | p99 ms "
          "| slowest ms | closed unanswered |")
    print("|---|---|---|---|---|---|---|---|")
    for name, runs in results.items():
        started = sum(run["started"] for run in runs)
        cpu = sum(run["cpu"] for run in runs)
        print(f"| {name} | {started} | {cpu:.1f} | {cpu / max(started, 1):.2f} | "
              f"{statistics.median(run['p50'] for run in runs):.1f} | "
              f"{statistics.median(run['p99'] for run in runs):.1f} | "
              f"{max(run['max'] for run in runs):.0f} | {sum(run['closed'] for run in runs)} |")
    print("\nCPU s per worker started: the whole run's CPU (the requests' share included) over the "
          "workers started, so it overstates a start by the requests' cost: compare the rows.")


if __name__ == "__main__":
    main()
