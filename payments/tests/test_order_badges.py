"""The status badge: one tone per status (payments.models.ORDER_STATUS_BADGES), read by the
order pages, the lists, the dashboard and admin."""

import pytest
from django.contrib import admin

from payments.models import Order, OrderStatus

S = OrderStatus

SITE_CLASS = {
    S.PAID: "badge-ok",
    S.SHIPPED: "badge-ok",
    S.COMPLETED: "badge-ok",
    S.PENDING_PAYMENT: "badge-warn",
    S.PARTIALLY_REFUNDED: "badge-warn",
    S.DISPUTED: "badge-bad",
    S.DISPUTE_LOST: "badge-bad",
    S.PAYMENT_FAILED: "badge-bad",
    S.CANCELLED: "",
    S.REFUNDED: "",
}
ADMIN_TONE = {**{status: css.removeprefix("badge-") for status, css in SITE_CLASS.items()},
              S.CANCELLED: "warn", S.REFUNDED: "warn"}


def order(status: str, *, refund_waiting: bool = False) -> Order:
    row = Order(status=status)
    row.__dict__["refunds_waiting"] = refund_waiting  # what with_refund_waiting annotates
    return row


def test_every_status_has_a_badge_on_the_site_and_in_admin():
    assert set(SITE_CLASS) == set(S.values) == set(ADMIN_TONE)


@pytest.mark.parametrize("status", list(S))
def test_the_site_badge_of_each_status(status):
    assert order(status).badge == SITE_CLASS[status]


@pytest.mark.parametrize("status", list(S))
def test_admin_badges_have_a_tone_for_every_status(status):
    html = admin.site._registry[Order].status_badge(order(status))
    assert f'class="badge badge-{ADMIN_TONE[status]}"' in html


@pytest.mark.parametrize("status", [S.PAID, S.SHIPPED, S.COMPLETED, S.PARTIALLY_REFUNDED, S.REFUNDED])
def test_a_refund_pending_at_stripe_is_a_warning_everywhere(status):
    row = order(status, refund_waiting=True)
    assert row.badge == "badge-warn"
    assert 'class="badge badge-warn">Refund pending<' in admin.site._registry[Order].status_badge(row)


@pytest.mark.parametrize("status", [S.DISPUTED, S.DISPUTE_LOST])
def test_a_disputed_order_keeps_its_badge_while_a_refund_waits(status):
    assert order(status, refund_waiting=True).badge == "badge-bad"
