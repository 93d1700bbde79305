"""The pytest hooks of testing/paid_snapshot.py (registered by the root conftest): open the
shared purchase's outer transaction before a taking test's own, close it after the last one in
a row, and run a module's taking tests one after another so one purchase serves them all."""

import pytest

from testing import paid_snapshot


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Within each module, the tests that take the same shared purchase run in a row (at the
    place of the first of them, each group keeping its order): otherwise every test between two
    of them closes the purchase's transaction and the next one makes it again."""
    grouped, placed = [], {}
    for item in items:
        build = paid_snapshot.build_of(item)
        if build is None:
            grouped.append(item)
            continue
        key = (item.nodeid.split("::")[0], build)
        if key not in placed:
            placed[key] = []
            grouped.append(placed[key])
        placed[key].append(item)
    items[:] = [i for entry in grouped for i in (entry if isinstance(entry, list) else [entry])]


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    if fixturedef.argname == "_django_db_helper":
        build = paid_snapshot.build_of(request.node)
        if paid_snapshot.open_build() not in (None, build):
            paid_snapshot.close()
        if build is not None and paid_snapshot.open_build() is None:
            request.getfixturevalue("django_db_setup")
            paid_snapshot.start(build, request.getfixturevalue("django_db_blocker"))
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        build = paid_snapshot.open_build()
        if build is not None and (nextitem is None or paid_snapshot.build_of(nextitem) is not build):
            paid_snapshot.close()


def pytest_sessionfinish(session):
    if paid_snapshot.open_build() is not None:
        paid_snapshot.close()


