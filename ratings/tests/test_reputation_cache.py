"""The reputation cache (ratings.selectors.seller_reputation) is filed under the seller's own
versions: a save elsewhere in the catalogue leaves it, the seller's sale or feedback does not."""

import pytest

from marketplace.models import ListingStatus
from marketplace.services import listing_update
from marketplace.tests.factories import ListingFactory
from payments.models import OrderStatus
from payments.services.orders import order_transition
from payments.tests.factories import OrderFactory, PaidOrderFactory
from ratings.models import SellerRating
from ratings.selectors import seller_reputation
from ratings.services import feedback_leave

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(settings):
    settings.PAGE_CACHE_SECONDS = 300
    return PaidOrderFactory(status=OrderStatus.COMPLETED)


def test_edits_and_other_sales_leave_the_reputation_in_the_cache(order, django_assert_num_queries):
    seller_reputation(seller_id=order.seller_id)
    other = ListingFactory()
    own = ListingFactory(seller=order.seller)
    listing_update(listing_id=other.pk, seller=other.seller, price_cents=4321)
    listing_update(listing_id=own.pk, seller=own.seller, price_cents=4321)  # not a sale
    PaidOrderFactory()  # another seller's sale
    with django_assert_num_queries(0):
        assert seller_reputation(seller_id=order.seller_id).stubs_sold == 1


def test_the_sellers_own_sale_shows_in_stubs_sold_at_once(order):
    assert seller_reputation(seller_id=order.seller_id).stubs_sold == 1
    sale = PaidOrderFactory(seller=order.seller, listing__seller=order.seller)
    assert sale.listing.status == ListingStatus.SOLD
    assert seller_reputation(seller_id=order.seller_id).stubs_sold == 2


def test_new_feedback_shows_at_once(order):
    assert seller_reputation(seller_id=order.seller_id).count == 0
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=5, comment="Lovely.")
    reputation = seller_reputation(seller_id=order.seller_id)
    assert (reputation.count, [item.comment for item in reputation.recent]) == (1, ["Lovely."])


def test_with_the_cache_off_it_is_read_every_time(order, settings, django_assert_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    seller_reputation(seller_id=order.seller_id)
    with django_assert_num_queries(1):  # no feedback: the summary with the stubs sold only
        seller_reputation(seller_id=order.seller_id)


def test_a_refund_shows_in_stubs_sold_at_once_though_no_listing_is_saved(order):
    """Nothing but the order changes on a refund: only its status change moves the seller's
    versions on (ratings.selectors.reputation_follow_order_status), and the copy lives ten
    minutes."""
    listing_saves = order.listing.updated_at
    assert seller_reputation(seller_id=order.seller_id).stubs_sold == 1
    order_transition(order=order, to=OrderStatus.REFUNDED)
    order.listing.refresh_from_db()
    assert order.listing.updated_at == listing_saves
    assert seller_reputation(seller_id=order.seller_id).stubs_sold == 0
    order_transition(order=order, to=OrderStatus.COMPLETED)  # the refund failed at Stripe
    assert seller_reputation(seller_id=order.seller_id).stubs_sold == 1


def test_a_payment_and_a_lost_dispute_show_at_once(order):
    pending = OrderFactory(seller=order.seller, listing__seller=order.seller)
    assert seller_reputation(seller_id=order.seller_id).stubs_sold == 1
    order_transition(order=pending, to=OrderStatus.PAID)
    assert seller_reputation(seller_id=order.seller_id).stubs_sold == 2
    order_transition(order=pending, to=OrderStatus.DISPUTED)
    assert seller_reputation(seller_id=order.seller_id).stubs_sold == 2
    order_transition(order=pending, to=OrderStatus.DISPUTE_LOST)
    assert seller_reputation(seller_id=order.seller_id).stubs_sold == 1


def test_the_copy_outlives_a_cached_page_and_not_the_versions_it_is_filed_under(order, settings, monkeypatch):
    from marketplace import page_cache
    from ratings import selectors

    settings.PAGE_CACHE_SECONDS = 30
    filed = {}
    monkeypatch.setattr(selectors, "cache_set", lambda key, value, seconds: filed.update({key: seconds}))
    seller_reputation(seller_id=order.seller_id)
    assert list(filed.values()) == [selectors.REPUTATION_SECONDS]
    assert settings.PAGE_CACHE_SECONDS < selectors.REPUTATION_SECONDS < page_cache.DEPENDENCY_SECONDS


def test_the_summary_reads_as_the_orm_reads_it(order, settings):
    """The rating summary and the stubs sold are read in one statement of our own: the average
    has the column's two decimal places, as SellerRating gives it."""
    settings.PAGE_CACHE_SECONDS = 0
    feedback_leave(order_id=order.pk, buyer=order.buyer, rating=4, comment="Good.")
    second = PaidOrderFactory(status=OrderStatus.COMPLETED, seller=order.seller)
    feedback_leave(order_id=second.pk, buyer=second.buyer, rating=5, comment="")
    PaidOrderFactory(seller=order.seller)  # paid, not completed: sold all the same
    OrderFactory(seller=order.seller)  # not paid: not sold
    summary = SellerRating.objects.get(seller=order.seller)

    reputation = seller_reputation(seller_id=order.seller_id)

    assert (reputation.average, str(reputation.average), reputation.count) == (
        summary.average, "4.50", summary.count)
    assert reputation.stubs_sold == 3
    assert [item.comment for item in reputation.recent] == ["", "Good."]


def test_a_seller_without_a_rating_row_has_none(settings, django_assert_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    seller = ListingFactory().seller
    with django_assert_num_queries(1):
        reputation = seller_reputation(seller_id=seller.pk)
    assert (reputation.average, reputation.count, reputation.stubs_sold) == (None, 0, 0)
    assert reputation.recent == []
