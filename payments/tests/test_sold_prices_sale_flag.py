"""The snapshot's completed_sale flag and the groups' summary rows, which the sold-price history
reads instead of the orders: order_transition sets the flag when the order completes and clears it
when it stops being completed (refunded in full or in part, disputed, lost), and counts the sale's
groups again, in the same transaction; migrations 0018 and 0019 fill both for the orders
completed before them."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.db import transaction

from payments.models import OrderSnapshot, OrderStatus, SoldPriceSummary
from payments.selectors.sold_prices import (
    _sold_prices_read,
    comparable_group,
    event_group,
    sold_prices_for_groups,
)
from payments.services.orders import ALLOWED_TRANSITIONS, order_transition
from payments.services.sold_prices import sold_price_summaries_recount
from payments.signals import order_status_changed
from payments.tests.factories import OrderFactory
from payments.tests.sale_support import sale

pytestmark = pytest.mark.django_db

S = OrderStatus
PRINCE_1985 = comparable_group(performer="Prince", event_name="", event_date=datetime.date(1985, 6, 1))
migration = importlib.import_module("payments.migrations.0018_snapshot_completed_sale")


def flag(order) -> bool:
    return OrderSnapshot.objects.get(order=order).completed_sale


def count() -> int:
    return sold_prices_for_groups(groups=[PRINCE_1985])[PRINCE_1985].count


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(before, after) for before, afters in ALLOWED_TRANSITIONS.items() for after in sorted(afters)],
)
def test_every_transition_leaves_the_flag_saying_whether_the_order_is_completed(from_status, to_status):
    order = sale(price_cents=5000, status=from_status)
    order_transition(order=order, to=to_status)
    assert flag(order) is (to_status == S.COMPLETED)
    assert count() == (1 if to_status == S.COMPLETED else 0)


def test_a_sale_completes_is_refunded_in_part_is_put_back_and_is_then_lost_in_a_dispute():
    order = sale(price_cents=5000, status=S.SHIPPED)
    assert not flag(order)
    order_transition(order=order, to=S.COMPLETED)
    assert flag(order) and count() == 1
    # A partial refund: the buyer no longer paid what the listing asked (not a sale).
    order_transition(order=order, to=S.PARTIALLY_REFUNDED)
    assert not flag(order) and count() == 0
    # The refund failed: the order is back where it was, a sale again.
    order_transition(order=order, to=S.COMPLETED)
    assert flag(order) and count() == 1
    order_transition(order=order, to=S.DISPUTED)
    assert not flag(order) and count() == 0
    order_transition(order=order, to=S.DISPUTE_LOST)
    assert not flag(order) and count() == 0


def test_a_dispute_won_on_a_completed_order_makes_it_a_sale_again():
    order = sale(price_cents=5000)
    order_transition(order=order, to=S.DISPUTED)
    assert not flag(order)
    order_transition(order=order, to=order.status_before_dispute)
    assert order.status == S.COMPLETED and flag(order) and count() == 1


def test_a_completion_that_rolls_back_leaves_the_flag_as_it_was():
    order = sale(price_cents=5000, status=S.SHIPPED)

    def refuse(**_kwargs):
        raise RuntimeError("a receiver refuses the move")

    order_status_changed.connect(refuse, dispatch_uid="test_refuse")
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            order_transition(order=order, to=S.COMPLETED)
    finally:
        order_status_changed.disconnect(dispatch_uid="test_refuse")
    assert not flag(order) and count() == 0


def test_an_order_without_a_snapshot_moves_as_before():
    order = OrderFactory(status=S.SHIPPED)
    order_transition(order=order, to=S.COMPLETED)
    order.refresh_from_db()
    assert order.status == S.COMPLETED and not OrderSnapshot.objects.filter(order=order).exists()


def test_the_migration_marks_the_snapshots_of_the_orders_completed_now_and_no_other():
    completed = [sale(price_cents=cents) for cents in (1000, 2000)]
    others = [sale(price_cents=9000, status=s) for s in (S.SHIPPED, S.REFUNDED, S.PARTIALLY_REFUNDED)]
    OrderSnapshot.objects.update(completed_sale=False)  # as they were before the column

    SoldPriceSummary.objects.all().delete()

    migration.completed_sales_mark(apps, None)
    sold_price_summaries_recount()  # migration 0019's data step

    assert [flag(order) for order in completed] == [True, True]
    assert [flag(order) for order in others] == [False, False, False]
    assert count() == 2


def test_counting_every_group_from_nothing_gives_the_figures_kept_sale_by_sale():
    day = datetime.date(1977, 5, 25)
    star_wars = event_group(event_name="Star Wars", event_date=day)
    madonna = comparable_group(performer="Madonna", event_name="", event_date=day)
    for number, cents in enumerate((9000, 3000, 5000, 12000, 4000, 4001)):
        sale(price_cents=cents, paid_on=datetime.date(2026, 1, 1) + datetime.timedelta(days=number))
        sale(price_cents=cents + 1, performer="", event_name="Star Wars", event_date=day)
        sale(price_cents=cents + 2, performer="Madonna", event_name="STAR WARS", event_date=day)
    refunded = sale(price_cents=99999, performer="", event_name="Star Wars", event_date=day)
    order_transition(order=refunded, to=S.REFUNDED)
    groups = [PRINCE_1985, star_wars, madonna]
    kept = _sold_prices_read(groups)
    assert [kept[group].count for group in groups] == [6, 12, 6]

    assert sold_price_summaries_recount() == 4  # the three, and Prince's tour as an event

    assert _sold_prices_read(groups) == kept
