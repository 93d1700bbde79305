"""What comparable stubs sold for, on the listing page: the figures, the
chart, no buyer, and the anonymous page cache following a sale."""

import re

import pytest

from marketplace.models import ListingStatus
from payments.models import OrderStatus
from payments.services.orders import order_transition
from payments.tests.sale_support import sale

pytestmark = pytest.mark.django_db


def sold_panel(response) -> str:
    html = response.content.decode()
    match = re.search(r'<section class="panel sold-prices".*?</section>', html, re.S)
    return match.group(0) if match else ""


def test_the_listing_page_shows_count_lowest_median_highest_and_the_latest_sales(
    client, on_sale, sold_like_it
):
    panel = sold_panel(client.get(f"/listings/{on_sale.pk}/"))
    assert "What Prince stubs from 1985 sold for" in panel
    figures = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", panel)
    assert figures == [("Sold here", "3"), ("Lowest", "$40.00"), ("Median", "$60.00"), ("Highest", "$125.00")]
    assert re.findall(r'<time datetime="([\d-]+)">', panel) == ["2026-10-03", "2026-10-02", "2026-10-01"]
    assert panel.count('<rect class="bar"') == 3
    assert '<line class="median"' in panel


def test_the_listing_page_never_shows_who_bought_or_when_to_the_minute(client, on_sale, sold_like_it):
    panel = sold_panel(client.get(f"/listings/{on_sale.pk}/"))
    assert panel
    for order in sold_like_it:
        for secret in (
            order.buyer.username,
            order.buyer.email,
            order.shipping_name,
            f"#{order.pk}",
            f"/orders/{order.pk}",
        ):
            assert secret not in panel
    assert "15:42" not in panel and "3:42" not in panel


def test_the_listing_page_has_no_history_panel_when_nothing_like_it_sold(client, on_sale):
    sale(price_cents=4000, performer="Madonna")
    assert sold_panel(client.get(f"/listings/{on_sale.pk}/")) == ""


def test_a_listing_being_paid_for_is_not_shown_as_a_sale_of_its_price(client, sold_like_it):
    paid = sale(price_cents=99900, status=OrderStatus.PAID)
    paid.listing.status = ListingStatus.SOLD
    panel = sold_panel(client.get(f"/listings/{paid.listing.pk}/"))
    assert "$999.00" not in panel
    assert ("Sold here", "3") in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", panel)


def test_an_anonymous_copy_of_a_listing_page_is_not_served_after_a_sale_like_it_completes(
    client, on_sale, sold_like_it
):
    shipped = sale(price_cents=20000, status=OrderStatus.SHIPPED)
    assert "<dt>Sold here</dt><dd>3</dd>" in sold_panel(client.get(f"/listings/{on_sale.pk}/"))
    assert "<dt>Sold here</dt><dd>3</dd>" in sold_panel(client.get(f"/listings/{on_sale.pk}/"))
    order_transition(order=shipped, to=OrderStatus.COMPLETED)
    assert "<dt>Sold here</dt><dd>4</dd>" in sold_panel(client.get(f"/listings/{on_sale.pk}/"))
