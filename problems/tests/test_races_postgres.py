"""A seller's refund and the buyer's escalation arriving at once, on PostgreSQL where
select_for_update really locks (skipped on SQLite): whichever wins the report's lock, the report
ends closed as refunded, with one refund, never left with Support for a refunded order."""

import pytest

from core.errors import Conflict
from problems.models import ProblemOutcome, ProblemStatus
from problems.services import problem_escalate, problem_refund
from testing.threads import run_at_once

pytestmark = pytest.mark.postgres


def test_a_full_refund_and_an_escalation_at_once_end_refunded(transactional_db, sale, reported):
    report = reported(sale)
    due = report.seller_due_at  # the seller's time is up: both steps are allowed

    outcomes = run_at_once(
        [
            lambda: problem_escalate(report_id=report.pk, buyer=sale.buyer, now=due),
            lambda: problem_refund(report_id=report.pk, seller=sale.seller),
            lambda: problem_escalate(report_id=report.pk, buyer=sale.buyer, now=due),
        ]
    )

    unexpected = [repr(o) for o in outcomes if isinstance(o, Exception) and not isinstance(o, Conflict)]
    assert unexpected == []
    report.refresh_from_db()
    assert (report.status, report.outcome) == (ProblemStatus.CLOSED, ProblemOutcome.REFUNDED)
    assert sale.refunds.count() == 1 and report.refunded_cents == 5000
    assert sale.audit_events.filter(action="problem.refunded").count() == 1
    assert sale.audit_events.filter(action="problem.escalated").count() <= 1
