"""Demo data for `make run`, the screenshots and the benchmarks (manage.py seed_demo). The top app
below the project: it builds on every other app and none imports it."""
