"""The reputation cache (ratings.selectors.seller_reputation) is filed under the seller's own
versions: a save elsewhere in the catalogue leaves it, the seller's sale or feedback does not."""

import pytest

from marketplace.models import ListingStatus
from marketplace.services import listing_update
from marketplace.tests.factories import ListingFactory
from payments.models import OrderStatus
from payments.tests.factories import PaidOrderFactory
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
    with django_assert_num_queries(3):
        seller_reputation(seller_id=order.seller_id)
