"""`listing_url` and `seller_url` (marketplace/templatetags/listing_links.py) give what reverse() gives."""

from types import SimpleNamespace

import pytest
from django.urls import reverse

from marketplace.templatetags.listing_links import listing_url, seller_url


@pytest.mark.parametrize("name", ["marketplace:listing_detail", "payments_pages:checkout", "messaging:ask"])
def test_a_listing_address_is_the_one_reverse_gives(name):
    listing = SimpleNamespace(pk=4207)
    expected = reverse(name, args=[4207])
    if name == "marketplace:listing_detail":
        assert listing_url(listing) == expected
    assert listing_url(listing, name) == expected


def test_a_seller_address_is_the_one_reverse_gives():
    seller = SimpleNamespace(username="ann.b+c@d-e")
    assert seller_url(seller) == reverse("marketplace:seller_profile", args=["ann.b+c@d-e"])
