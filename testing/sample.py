"""`--sweeps=sample`: a fixed share of each exhaustive sweep, so `make test` stays quick.

The suite holds a few sweeps whose every case is the same check on other input: the
authorization matrix (every route x nine roles, every admin model's pages), the junk-input sweep
of every route, markup through every page, CSRF and hidden pages through every route, webhooks in
every order (a payment and its refunds or its lost dispute), every dispute status, the
out-of-range-id loop over every route, and the hypothesis properties and fuzz tests. Together
they are more than half of the suite's CPU time. `make test` passes `--sweeps=sample` and runs:

- of each sweep in SWEEPS, every STRIDE-th case in collection order (the same cases on every
  run and in every xdist worker, whatever -k or -n say), counted as "deselected";
- of each sweep in WITHIN (a loop inside one test), every STRIDE-th case, through `within()`;
- every hypothesis test with a fifth of its examples (its explicit @example cases all run).

Everything else runs in full. `--sweeps=all` (the default, so a plain `pytest`, `make test-all`,
CI and `make test-postgres` are exhaustive) runs every case with every example. PYTEST_SWEEPS
sets the default. A case named on the command line by its node id always runs.
"""

import math
import os

import pytest
from hypothesis import settings

# test function -> keep one case in this many. The matrix's cells are ordered route by route,
# nine roles each: a stride prime to nine gives every route one or two roles, a different one or
# two from one route to the next, so every role is still asked of an eighth of the routes.
# The other sweeps repeat one check over routes, pages, models, event orders or input kinds.
SWEEPS = {
    "security/test_authorization_matrix.py::test_route_cell": 8,
    # The two sweeps whose every case sends hundreds of requests (each admin model's pages, each
    # route's junk input) keep one in twelve: their cases cost seconds each, not milliseconds.
    "security/test_authorization_matrix.py::test_admin_model_pages": 12,
    "stubcollector/tests/test_no_server_errors.py::test_no_route_answers_a_server_error_to_junk_input": 12,
    "security/test_xss.py::test_pages_show_user_text_as_text": 4,
    "security/test_csrf_and_hidden_things.py::test_a_post_without_a_csrf_token_is_refused": 3,
    "security/test_csrf_and_hidden_things.py::test_a_withdrawn_listing_is_seen_only_by_its_seller": 3,
    # The event-order sweeps run their permutations in itertools' (lexicographic) order: a stride
    # of (n-1)! keeps one order that starts with each event, every event still arriving first once.
    "payments/tests/test_payment_events_any_order.py::test_a_payment_and_two_partial_refunds_in_any_order": 2,
    "payments/tests/test_payment_events_any_order.py::test_a_payment_and_a_lost_dispute_in_any_order": 6,
    "disputes/tests/test_disputes_flow.py::test_every_stripe_dispute_status_moves_the_order_by_the_rules": 3,
    "disputes/tests/test_admin_staff_desk.py::test_the_order_search_finds_the_order_by_each_kind_of_term": 3,
}
# Sweeps inside one test (a loop over every route, say): the test asks `within(request, name,
# cases)` for its share; name -> keep one case in this many.
WITHIN = {
    "security/test_out_of_range_ids.py::routes": 8,
}
HYPOTHESIS_SHARE = 5  # a sampled run's hypothesis tests run max_examples / this, rounded up


def pytest_addoption(parser):
    parser.addoption(
        "--sweeps",
        choices=("all", "sample"),
        default=os.environ.get("PYTEST_SWEEPS", "all"),
        help="sample: a fixed share of each exhaustive sweep (testing/sample.py); all: every case",
    )


def _named_on_command_line(config) -> set[str]:
    return {arg.split("[")[0] for arg in config.args if "::" in arg}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """tryfirst: the stride counts every collected case, before -k or -m narrow the list, so
    the sample does not depend on them."""
    if config.getoption("sweeps") != "sample":
        return
    named = _named_on_command_line(config)
    seen = dict.fromkeys(SWEEPS, 0)
    keep, drop = [], []
    for item in items:
        function = item.nodeid.split("[")[0]
        stride = SWEEPS.get(function)
        if stride is None or function in named:
            keep.append(item)
        else:
            (keep if seen[function] % stride == 0 else drop).append(item)
            seen[function] += 1
        _sample_hypothesis(item)
    collected_files = {item.nodeid.split("::")[0] for item in items}
    stale = [f for f, count in seen.items() if not count and f.split("::")[0] in collected_files]
    if stale and not named:  # a file collected whole, without the function: renamed or gone
        raise pytest.UsageError(f"testing/sample.py names sweeps that are gone: {stale}")
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _sample_hypothesis(item):
    """Hypothesis keeps a test's settings on the function @given returns, made when its module
    was imported (a profile loaded now would come too late for them, and an explicit
    @settings(max_examples=...) overrides any profile): derive fewer examples from those."""
    test = getattr(item, "obj", None)
    if not getattr(test, "is_hypothesis_test", False):
        return
    if getattr(test, "_sampled_examples", False):  # one function, many parametrized items
        return
    own = test._hypothesis_internal_use_settings
    test._hypothesis_internal_use_settings = settings(
        own, max_examples=math.ceil(own.max_examples / HYPOTHESIS_SHARE)
    )
    test._sampled_examples = True


def within(request, name: str, cases):
    """The cases of a sweep that loops inside one test: every WITHIN[name]-th one with
    --sweeps=sample (the same ones on every run, whatever -k or -n say), all of them otherwise."""
    cases = list(cases)
    config = request.config
    named = request.node.nodeid.split("[")[0] in _named_on_command_line(config)
    if config.getoption("sweeps") != "sample" or named:
        return cases
    return cases[:: WITHIN[name]]
