"""testing/sample.py: what `make test` (--sweeps=sample) keeps of a sweep, and that a plain
pytest, `make test-all` and a case named on the command line keep everything."""

from types import SimpleNamespace

from testing.sample import SWEEPS, WITHIN, within

NAME = "security/test_out_of_range_ids.py::routes"


def request_for(sweeps: str, args=(), nodeid="security/test_out_of_range_ids.py::test_x"):
    config = SimpleNamespace(getoption=lambda name: {"sweeps": sweeps}[name], args=list(args))
    return SimpleNamespace(config=config, node=SimpleNamespace(nodeid=nodeid))


def test_a_sampled_run_keeps_every_nth_case_of_a_sweep_inside_a_test_from_the_first():
    cases = list(range(10))

    kept = within(request_for("sample"), NAME, cases)

    assert kept == cases[:: WITHIN[NAME]] and kept[0] == 0 and len(kept) < len(cases)


def test_every_case_runs_without_sampling_or_when_the_test_is_named():
    cases = list(range(10))

    assert within(request_for("all"), NAME, cases) == cases
    named = "security/test_out_of_range_ids.py::test_x"
    assert within(request_for("sample", args=[named], nodeid=named + "[a]"), NAME, cases) == cases


def test_the_authorization_matrix_stride_reaches_every_role():
    """Its cells come route by route, nine roles each: a stride sharing no factor with nine
    asks every role of some routes."""
    stride = SWEEPS["security/test_authorization_matrix.py::test_route_cell"]
    assert {cell % 9 for cell in range(0, 9 * 40, stride)} == set(range(9))
