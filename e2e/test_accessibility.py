"""axe-core (bundled by axe-playwright-python) on every page, as each kind of visitor sees it
(anonymous, a buyer, a seller, Finance staff in admin), at 390 px and 1280 px: no serious or
critical violation anywhere, and no console error or CSP violation.

With SCREENSHOTS_DIR set (scripts/screenshots.sh: docs/screenshots/), it also saves a full-page
screenshot of each page at both widths, drawn from demo data (demo.catalogue), so the README's
pictures show what a newcomer sees.
"""

import os
import random
from pathlib import Path

import pytest
import stripe
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.tests.factories import SellerFactory, UserFactory
from demo import catalogue as demo
from demo.conversations import create_demo_conversations
from demo.orders import demo_order_pay
from disputes.models import Dispute
from disputes.services import dispute_seller_note_save
from e2e.browser import log_in
from marketplace.models import Category
from marketplace.offer_terms import listing_offer_terms_set
from marketplace.photos import stub_photos_add
from marketplace.tests.images import image_upload
from marketplace.watchlist import saved_search_create, unsubscribe_token, watch_add
from messaging.models import Conversation
from offers.services import offer_counter, offer_make
from payments.models import RefundApproval
from payments.services.fulfilment import order_ship
from payments.services.refunds import refund_request
from payments.staff import FINANCE, SUPPORT, staff_groups_ensure

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
BLOCKING = {"serious", "critical"}
# The pages the README shows (every page is checked; these are also photographed).
MAIN_PAGES = {"browse", "listing", "seller", "checkout", "order-shipped", "order-rated", "orders",
              "watching", "photos", "sell", "dashboard", "password-reset", "password-reset-sent",
              "admin-todo", "dispute-confirm", "dispute-accept-confirm", "approval-confirm", "messages",
              "conversation", "offers-seller", "offer"}
AXE = Axe()
DAY = 86400


@pytest.fixture
def world(stripe_live, settings, tmp_path):
    """Demo sellers, stubs with drawn pictures, orders at each step with ratings, a buyer who
    watches one stub and saved a search, a payout Stripe made to the seller, an order the
    buyer's bank disputed (shipped with tracking, the seller's side added), and Finance staff."""
    settings.MEDIA_ROOT = tmp_path
    rng = random.Random(11)
    account = stripe_live.seller_account()
    maggie = SellerFactory(username="maggie_okafor", first_name="Margaret", last_name="Okafor",
                           stripe_account_id=account["id"],
                           seller_bio="Thirty years of concert stubs from the Spectrum and the Garden.")
    buyer = UserFactory(username="ann", first_name="Ann", email="ann@example.com")
    rosa = UserFactory(username="rosa", first_name="Rosa")
    listings = []
    for index, category in enumerate([Category.CONCERT] * 5 + [Category.SPORTS, Category.THEATRE,
                                                               Category.FESTIVAL, Category.FILM]):
        listings.append(demo.create_demo_listing(
            seller=maggie, stub=demo.demo_stub(rng, category, index=index),
            shipping_cents=rng.choice(demo.SHIPPING_CHOICES),
        ))
    sandbox = stripe_live.sandbox

    # A stub of its own for the dispute, sold and shipped with tracking first: its money is what
    # Stripe pays out to the seller for the dashboard's payouts panel, past the account's payout
    # delay and the next midnight (as connect/tests/test_dashboard_payouts.py does).
    to_dispute = demo.create_demo_listing(seller=maggie, stub=demo.demo_stub(rng, Category.CONCERT, index=9),
                                          shipping_cents=rng.choice(demo.SHIPPING_CHOICES))
    disputed = demo_order_pay(listing_id=to_dispute.pk, buyer=rosa, shipping={
        "shipping_name": "Rosa", "shipping_line1": "12 Elm Street", "shipping_city": "Springfield",
        "shipping_state": "IL", "shipping_postal_code": "62701", "shipping_country": "US"})
    order_ship(order_id=disputed.pk, seller=maggie, tracking_number="1Z999AA10123456784")
    sandbox.automatic_payouts = True
    delay = sandbox.get(account["id"])["settings"]["payouts"]["schedule"]["delay_days"]
    sandbox.advance_time((delay + 1) * DAY)
    sandbox.automatic_payouts = False
    assert stripe_live.flush()

    # The other sales after the payout: their money is still pending when the buyer's bank
    # disputes the first one, and covers the dispute. (A dispute opened before the clock moves
    # would pass its evidence deadline, a week, with the delay; and one that the pending money
    # did not cover would take the balance below zero, and the seller's stubs could no longer
    # be bought: the checkout page would show that instead of its form.)
    orders = demo.create_demo_orders(listings=listings[-6:], buyers=[buyer, rosa], rng=rng)
    intent = stripe.PaymentIntent.retrieve(disputed.payment_intent_id, stripe_account=account["id"])
    sandbox.open_dispute(intent.latest_charge, reason="product_not_received")
    assert stripe_live.flush()
    dispute_seller_note_save(order_id=disputed.pk, seller=maggie,
                             note="Posted first class with tracking; it shows as delivered.")

    on_sale = listings[0]
    stub_photos_add(listing_id=on_sale.pk, seller=maggie, files=[image_upload("PNG"), image_upload("WEBP")])
    watch_add(user=buyer, listing_id=on_sale.pk)
    search = saved_search_create(user=buyer, params={"q": "Springsteen"})
    shipped = next(order for order in orders if order.status == "shipped" and order.buyer == buyer)
    completed = next(order for order in orders if order.status == "completed" and order.buyer == buyer)
    paid = next(order for order in orders if order.status == "paid")

    # Questions on the stubs still on sale (one answered, one with an email address flagged for
    # Support) and messages on the shipped order, as seed_demo makes them.
    create_demo_conversations(listings=listings[:3], buyers=[buyer, rosa], orders=[shipped])
    ann_asked = Conversation.objects.filter(kind="listing", buyer=buyer).order_by("pk").first()
    rosa_asked = Conversation.objects.get(kind="listing", buyer=rosa)

    # Offers on the first three stubs (the listing page shows the panel): Ann's countered, waiting
    # for her answer, and Rosa's waiting for the seller's.
    for listing in listings[:3]:
        listing_offer_terms_set(listing_id=listing.pk, seller=maggie, enabled=True, minimum_cents=None)
    price = listings[1].price_cents
    countered = offer_make(listing_id=listings[1].pk, buyer=buyer, amount_cents=price * 3 // 4)
    countered = offer_counter(offer_id=countered.pk, seller=maggie, amount_cents=price * 9 // 10)
    waiting = offer_make(listing_id=listings[2].pk, buyer=rosa, amount_cents=listings[2].price_cents * 4 // 5)

    staff_groups_ensure()
    finance = UserFactory(username="fiona", first_name="Fiona", is_staff=True)
    finance.groups.add(Group.objects.get(name=FINANCE))
    # Support asks to refund the paid order in full, above its limit: a request for Finance.
    settings.SUPPORT_REFUND_LIMIT_CENTS = 5000
    support = UserFactory(username="sam", first_name="Sam", is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    asked = refund_request(order_id=paid.pk, actor=support, reason="not_as_described",
                           buyer_note="Sorry: the stub was not the one in the photos.")
    assert isinstance(asked, RefundApproval), "the demo's paid order must cost more than the limit"
    return {
        "site": stripe_live.site_url, "seller": maggie, "buyer": buyer, "listing": on_sale,
        "shipped": shipped, "completed": completed, "paid": paid,
        "unsubscribe": unsubscribe_token(kind="search", pk=search.pk),
        "staff": finance, "dispute": Dispute.objects.get(order=disputed),
        "asked": ann_asked, "to_ask": rosa_asked.listing,
        "order_conversation": Conversation.objects.get(order=shipped),
        "countered": countered, "waiting": waiting,
    }


def pages_for(world) -> dict[str, list[tuple]]:
    """(name, path) per visitor: anonymous, the buyer, the seller, Finance staff. A third item,
    (button, selector), presses that button on the page (or, for a callable, lets it press) and
    sweeps the page it leads to, which must show the selector (the confirmation pages answer a
    POST: no URL of their own)."""
    listing = world["listing"]
    dispute = f"/admin/disputes/dispute/{world['dispute'].pk}/change/"
    return {
        "": [
            ("browse", "/"),
            ("browse-filtered", "/?q=Springsteen&category=concert"),
            ("browse-filter-error", "/?min_price=abc&max_price=-1"),
            ("listing", f"/listings/{listing.pk}/"),
            ("seller", f"/sellers/{world['seller'].username}/"),
            ("login", "/accounts/login/"),
            ("signup", "/accounts/signup/"),
            ("unsubscribe", f"/unsubscribe/{world['unsubscribe']}/"),
            ("not-found", "/listings/999999/"),
            ("password-reset", "/accounts/password/reset/"),
            ("password-reset-sent", "/accounts/password/reset/sent/"),
        ],
        "ann": [
            ("listing-buyer", f"/listings/{listing.pk}/"),
            ("checkout", f"/checkout/{listing.pk}/"),
            ("checkout-3ds-failed", f"/checkout/{listing.pk}/?payment=authentication_failed"),
            ("orders", "/orders/"),
            ("order-shipped", f"/orders/{world['shipped'].pk}/"),
            ("order-rated", f"/orders/{world['completed'].pk}/"),
            ("watching", "/watching/"),
            ("saved-searches", "/saved-searches/"),
            ("profile", "/accounts/profile/"),
            ("messages", "/messages/"),
            ("conversation", f"/messages/{world['asked'].pk}/"),
            ("order-conversation", f"/messages/{world['order_conversation'].pk}/"),
            ("ask", f"/listings/{world['to_ask'].pk}/ask/"),
            ("offers", "/offers/"),
            ("offer", f"/offers/{world['countered'].pk}/"),
            ("offer-make", f"/listings/{world['waiting'].listing_id}/offer/"),
        ],
        world["seller"].username: [
            ("dashboard", "/dashboard/"),
            ("sell", "/listings/new/"),
            ("edit", f"/listings/{listing.pk}/edit/"),
            ("photos", f"/listings/{listing.pk}/photos/"),
            ("photo-delete", f"/listings/{listing.pk}/photos/delete/?slot=1"),
            ("order-to-ship", f"/orders/{world['paid'].pk}/"),
            ("sales", "/orders/"),
            ("messages-seller", "/messages/"),
            ("conversation-seller", f"/messages/{world['asked'].pk}/"),
            ("offers-seller", "/offers/"),
            ("offer-seller", f"/offers/{world['waiting'].pk}/"),
        ],
        world["staff"].username: [
            ("admin-todo", "/admin/"),
            ("disputes", "/admin/disputes/dispute/?state=open"),
            ("dispute", dispute),
            ("dispute-confirm", dispute, ("Submit evidence to the bank", "#confirm-submit")),
            ("dispute-accept-confirm", dispute, ("Accept the dispute", "#confirm-accept")),
            ("approval-confirm", "/admin/payments/refundapproval/",
             (first_request("approve"), "#confirm-approve")),
            ("approval-decline-confirm", "/admin/payments/refundapproval/",
             (first_request("decline"), "#confirm-decline")),
            ("message-reports", "/admin/messaging/messagereport/?status=open"),
        ],
    }




def first_request(action):
    """Finance ticks the first of Support's refund requests and runs `action` on it."""

    def press(page):
        page.locator("#result_list tbody input.action-select").first.check()
        page.locator("select[name=action]").select_option(action)
        page.get_by_role("button", name="Go").click()

    return press


def blocking_violations(page) -> list[str]:
    options = {"resultTypes": ["violations"]}
    results = AXE.run(page, options=options)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in BLOCKING:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['impact']} {violation['id']}: {violation['help']} at {targets}")
    return found


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_has_no_serious_or_critical_axe_violation(browser, world, width, console_watcher):
    screenshots = os.environ.get("SCREENSHOTS_DIR")
    problems = {}
    console: list[str] = []
    for username, pages in pages_for(world).items():
        context = browser.new_context(viewport=WIDTHS[width])
        page = context.new_page()
        page.set_default_timeout(10_000)
        console_watcher(page, console)
        if username:
            log_in(page, world["site"], username)
        for name, path, *press in pages:
            page.goto(f"{world['site']}{path}")
            if press:
                button, shows = press[0]
                with page.expect_navigation():
                    if callable(button):
                        button(page)
                    else:
                        page.get_by_role("button", name=button).click()
                expect(page.locator(shows)).to_be_visible()
            page.wait_for_load_state("networkidle")
            found = blocking_violations(page)
            if found:
                problems[f"{name} ({path}) as {username or 'anonymous'}"] = found
            if screenshots and name in MAIN_PAGES:
                Path(screenshots).mkdir(parents=True, exist_ok=True)
                target = Path(screenshots) / f"{name}-{WIDTHS[width]['width']}.png"
                page.screenshot(path=str(target), full_page=True)
        context.close()
    assert not problems, "\n".join(f"{where}:\n  " + "\n  ".join(found) for where, found in problems.items())
    assert not console, "the browser reported problems:\n" + "\n".join(console)
