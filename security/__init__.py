"""The adversarial suite, run by `make test`: who may do what, races, money, junk, markup.

    test_authorization_matrix.py   every URL pattern x nine roles, one expected status a cell
    test_csrf_and_hidden_things.py CSRF on every write; hidden listings; forged links
    test_parallel_requests.py      bursts of real threads on PostgreSQL (checkout, refund,
                                   ship/complete, duplicate webhooks)
    test_money_properties.py       hypothesis: fee, fee refunds, partial refunds, dollars
    test_json_fuzz.py              hypothesis: junk bodies/queries/headers, signed junk events
    test_xss.py                    markup in every user text through pages, emails, admin

Run: .venv/bin/pytest security -q -n 2   (PostgreSQL: scripts/test_postgres.sh security,
or `source scripts/lib.sh; pg_start` then pytest with DATABASE_URL; -m postgres for the
bursts only). HYPOTHESIS_PROFILE=thorough runs 1000 cases per property and fuzz test.
"""
