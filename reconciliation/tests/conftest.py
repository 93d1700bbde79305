"""The reconciliation tests' set-up: real sandbox purchases (the root conftest's `paid_order`,
`webhook_sandbox`), a run over the last day, and a Finance member to act on what it finds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.staff import FINANCE
from payments.tests.factories import staff_member
from reconciliation.services.run import reconciliation_run


def reconcile(**kwargs):
    """A run over objects made since yesterday; returns the run and its differences by kind."""
    run = reconciliation_run(since=timezone.now() - timedelta(days=1), **kwargs)
    found: dict[str, list] = {}
    for difference in run.differences.select_related("order").order_by("pk"):
        found.setdefault(difference.kind, []).append(difference)
    return run, found


@pytest.fixture
def finance():
    return staff_member(FINANCE)
