"""What stubs like this one sold for, in a real browser: the listing page draws the history's
chart (server-drawn SVG, styled by the stylesheet) and search results carry each card's line,
with no console error and no Content Security Policy violation (the `page` fixture checks)."""

import datetime

import pytest
from playwright.sync_api import expect

from e2e.browser import photograph
from marketplace.tests.factories import ListingFactory
from payments.tests.sale_support import sale

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_listing_with_sales_like_it_shows_their_chart_and_search_results_their_line(page, live_server):
    day = datetime.date(1984, 11, 4)
    for number, cents in enumerate((9000, 15000, 12000, 31000, 11000)):
        sale(
            price_cents=cents,
            event_date=day,
            paid_on=datetime.date(2026, 9, 1) + datetime.timedelta(days=9 * number),
        )
    listing = ListingFactory(
        stub__performer="Prince", stub__event_name="Purple Rain Tour", stub__event_date=day
    )

    page.goto(f"{live_server.url}/listings/{listing.pk}/")
    history = page.get_by_role("region", name="What Prince stubs from 1984 sold for")
    expect(history).to_be_visible()
    expect(history.locator("dd").nth(2)).to_have_text("$120.00")  # the median of five
    chart = history.get_by_role("img", name="Latest sales of Prince stubs from 1984")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(5)
    box = chart.bounding_box()
    assert box["width"] > 200 and box["height"] > 60  # drawn, and sized by the stylesheet
    # The median line is stroked by the stylesheet (no style attribute: the CSP forbids them).
    assert chart.locator("line.median").evaluate("line => getComputedStyle(line).strokeDasharray") != "none"
    expect(history.locator(".sold-prices-latest li")).to_have_count(5)
    photograph(page, "sold-prices")

    page.goto(f"{live_server.url}/?q=purple")
    card = page.locator("article.card", has=page.locator(f"a[href$='/listings/{listing.pk}/']"))
    expect(card.locator("[data-sold-prices]")).to_have_text(
        "5 like this sold · median $120.00 ($90.00–$310.00)"
    )
