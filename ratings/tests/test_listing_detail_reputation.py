"""The listing page reads the seller's reputation (ratings' template tag) once, then from the
cache, in a constant number of queries however many stubs and sales the seller has."""

import pytest

from marketplace.tests.factories import ListingFactory
from payments.tests.factories import PaidOrderFactory

pytestmark = pytest.mark.django_db


def test_the_detail_page_query_count_is_constant_and_the_reputation_is_read_once(
    client, django_assert_num_queries
):
    listing = ListingFactory()
    other = ListingFactory(seller=listing.seller)

    def get():  # with a session cookie: never answered from the anonymous page cache
        client.cookies["sessionid"] = "no-such-session"
        return client.get(f"/listings/{listing.pk}/")

    # session, listing (and whether its stub has photos besides the cover: none here, so no
    # gallery query), more from the seller + the reputation (summary with stubs sold; no feedback
    # to read) + what stubs like it sold for (payments.selectors.sold_prices; cached until such a
    # sale)
    with django_assert_num_queries(5):
        get()
    # the reputation, the sold prices and the seller's other listings (marketplace.more_from_seller)
    # now come from the cache
    with django_assert_num_queries(2):
        get()
    ListingFactory.create_batch(10, seller=listing.seller)
    PaidOrderFactory.create_batch(3, seller=listing.seller, listing__seller=listing.seller)
    with django_assert_num_queries(4):  # the seller sold: read once more, no more than before
        response = get()
    assert response.context["reputation"].stubs_sold == 3
    more = response.context["more_from_seller"]
    assert len(more) == 4 and listing not in more and other not in more  # the seller's newest four
