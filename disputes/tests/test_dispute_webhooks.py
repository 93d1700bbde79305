"""Stripe's dispute events reach the disputes app through payments' webhook pipeline: registered
from DisputesConfig.ready, once each, and applied before any best-effort follow-up of the same
event (the seller's balance re-read after charge.dispute.funds_withdrawn)."""

from disputes.services import dispute_event_apply
from payments.services import webhooks

DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
                  "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated")


def test_each_dispute_event_is_the_disputes_apps_to_apply_once():
    for event_type in DISPUTE_EVENTS:
        assert webhooks.HANDLERS[event_type].count(dispute_event_apply) == 1, event_type
        assert (event_type, dispute_event_apply) not in webhooks._BEST_EFFORT
    assert not set(DISPUTE_EVENTS) & set(webhooks.PAYMENT_HANDLERS)


def test_the_dispute_is_applied_before_the_best_effort_handlers_of_the_same_event():
    for event_type in DISPUTE_EVENTS:
        handlers = webhooks.HANDLERS[event_type]
        assert handlers[0] is dispute_event_apply, event_type
        assert all((event_type, handler) in webhooks._BEST_EFFORT for handler in handlers[1:]), event_type
