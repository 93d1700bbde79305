"""gunicorn settings of `make bench`: none beyond its command line (scripts/bench.sh).

It stands in for the project's gunicorn.conf.py, which gunicorn would otherwise read from the
working directory: the benchmark wants plain sync workers as issue 13 measured them, no access
log on the terminal, and no max_requests recycling (its RSS line is about long-lived workers).
"""
