# Stub Collector. `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the tests.
# The shell logic lives in scripts/*.sh; each target creates .venv (Python 3.11) when needed.

VENV_STAMP := .venv/.installed

.PHONY: run test test-all test-postgres e2e bench lint ci smoke venv help sqlite-snapshot serve smoke-serve smoke-hosts worker

help:
	@echo "make run            migrate, start the Stripe sandbox, seed demo data, serve on :8000"
	@echo "make test           unit and request tests (SQLite), a fixed sample of the exhaustive sweeps"
	@echo "make test-all       the same with every case of every sweep (CI runs it; testing/sample.py)"
	@echo "make test-postgres  the whole suite on a throwaway PostgreSQL 15 (WITH_REDIS=1 adds Redis)"
	@echo "make e2e            browser tests (Playwright + Debian's Chromium)"
	@echo "make bench          the benchmarks in bench/ (BENCH_LISTINGS=1000000; docs/performance.md)"
	@echo "make sqlite-snapshot  refresh the schema dump a new SQLite database starts from (make run)"
	@echo "make lint           ruff, and lint-imports (the app layers contract in .importlinter)"
	@echo "make smoke          make run on scratch ports/database, checked and stopped (CI runs it)"
	@echo "make serve          production-like stack on loopback: gunicorn, PostgreSQL, Redis, Celery worker + beat, sandbox"
	@echo "                    HOSTS=2: two app hosts (pages, webhooks, worker) behind nginx, files on S3 (moto)"
	@echo "make smoke-serve    make serve on scratch ports, buys a stub through it end to end, stops it (CI runs it)"
	@echo "make smoke-hosts    make serve HOSTS=2 (nginx, S3): session, photo, purchase, rate limit across hosts, one killed (CI runs it)"
	@echo "make worker         a Celery worker + beat for make run (needs CELERY_BROKER_URL=redis://…)"
	@echo "make ci             what CI runs (.ci/run)"

# Re-install only when a requirements or constraints file changed since the last install.
$(VENV_STAMP): requirements.txt requirements-dev.txt constraints.txt
	bash scripts/venv.sh

venv: $(VENV_STAMP)

run: $(VENV_STAMP)
	bash scripts/run.sh

# testing/sample.py: which sweeps make test samples, and how much of each.
test: $(VENV_STAMP)
	bash scripts/test.sh --sweeps=sample

test-all: $(VENV_STAMP)
	bash scripts/test.sh --sweeps=all

test-postgres: $(VENV_STAMP)
	bash scripts/test_postgres.sh

e2e: $(VENV_STAMP)
	bash scripts/e2e.sh

bench: $(VENV_STAMP)
	bash scripts/bench.sh

sqlite-snapshot: $(VENV_STAMP)
	.venv/bin/python scripts/sqlite_snapshot.py save

smoke: $(VENV_STAMP)
	bash scripts/smoke_run.sh

lint: $(VENV_STAMP)
	.venv/bin/ruff check .
	.venv/bin/lint-imports

ci:
	bash .ci/run

serve: $(VENV_STAMP)
	bash scripts/serve.sh

smoke-serve: $(VENV_STAMP)
	bash scripts/smoke_serve.sh

smoke-hosts: $(VENV_STAMP)
	bash scripts/smoke_hosts.sh

worker: $(VENV_STAMP)
	.venv/bin/celery -A stubcollector worker --beat --loglevel INFO --concurrency 2
