"""Requests that arrive at the same moment: real threads, each with its own database connection,
through the test client into the real views (PostgreSQL: real row locks; SQLite serialises every
writer, so there is no race to lose there and these are skipped).

Each burst waits on a barrier so the requests leave together. What is checked is the outcome
(rows, Stripe objects in the sandbox, emails), never timing.
"""

import json
import uuid

import pytest
from django.core import mail
from django.test import Client

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import AuditEvent, Order, OrderStatus, Payment
from payments.tests.factories import sandbox_seller_onboarded, shipping_address
from payments.tests.webhook_support import (
    CONNECT_PATH,
    deliver,
    endpoints_register,
    pay,
    post_event,
    sandbox_order,
    sandbox_refunds,
)
from testing.threads import run_at_once

# A burst from one address is the point here: rate limits off.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("no_rate_limits")]


def burst(requests: list) -> list:
    """Run each `request(client)` in its own thread, all released at once; returns the
    responses (or the exception a thread raised) in the order given."""
    clients = [Client() for _ in requests]
    return run_at_once([lambda request=request, client=client: request(client)
                        for request, client in zip(requests, clients, strict=True)], timeout=120)


def statuses(results) -> list:
    return sorted(r.status_code if hasattr(r, "status_code") else repr(r) for r in results)


def as_user(user, method: str, path: str, body: dict | None = None, **headers):
    def request(client):
        client.force_login(user)
        return getattr(client, method)(path, json.dumps(body or {}), content_type="application/json",
                                       HTTP_ACCEPT="application/json", **headers)
    return request


def paid_order(sandbox):
    endpoints_register(sandbox, Client())
    order = sandbox_order(sandbox)
    pay(order)
    deliver(sandbox)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


# -- checkout ---------------------------------------------------------------------------------

BUYERS = 8


def test_eight_buyers_pressing_buy_on_one_stub_at_once_make_one_order_and_one_payment_intent(
    stripe_sandbox,
):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    listing = ListingFactory(seller=seller)
    buyers = UserFactory.create_batch(BUYERS)
    body = {"listing_id": listing.pk, **shipping_address()}

    results = burst([as_user(b, "post", "/payments/create-payment-intent/", body) for b in buyers])

    assert statuses(results) == [200] + [409] * (BUYERS - 1)
    (winner,) = [r for r in results if r.status_code == 200]
    orders = list(Order.objects.filter(listing=listing))
    assert [o.pk for o in orders] == [winner.json()["order_id"]]
    held = Listing.objects.get(pk=listing.pk)
    assert held.status == ListingStatus.RESERVED and held.reserved_by_id == orders[0].buyer_id
    import stripe

    intents = stripe.PaymentIntent.list(stripe_account=seller.stripe_account_id, limit=100).data
    assert [i.id for i in intents] == [orders[0].payment_intent_id]


def test_one_buyer_double_clicking_buy_gets_one_order_and_the_same_payment_intent(stripe_sandbox):
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox))
    buyer = UserFactory()
    body = {"listing_id": listing.pk, **shipping_address()}

    results = burst([as_user(buyer, "post", "/payments/create-payment-intent/", body)] * 4)

    assert all(getattr(r, "status_code", 500) < 500 for r in results), statuses(results)
    ok = [r.json() for r in results if r.status_code == 200]
    assert ok, statuses(results)
    assert len({(o["order_id"], o["client_secret"]) for o in ok}) == 1
    assert Order.objects.filter(listing=listing).count() == 1


def test_one_buyer_grabbing_eight_stubs_at_once_holds_no_more_than_the_cap(stripe_sandbox, settings):
    """The cap on live holds (marketplace/tests/test_hold_limits.py), in parallel: it must be
    judged under a lock, or a burst of checkouts (one per stub) gets past a count taken before
    any of them wrote."""
    settings.MAX_ACTIVE_RESERVATIONS_PER_BUYER = 3
    seller = sandbox_seller_onboarded(stripe_sandbox)
    listings = ListingFactory.create_batch(8, seller=seller)
    buyer = UserFactory()

    results = burst([as_user(buyer, "post", "/payments/create-payment-intent/",
                             {"listing_id": listing.pk, **shipping_address()}) for listing in listings])

    assert statuses(results) == [200] * 3 + [409] * 5
    assert Listing.objects.filter(reserved_by=buyer, status=ListingStatus.RESERVED).count() == 3
    assert Order.objects.filter(buyer=buyer).count() == 3


# -- refunds ----------------------------------------------------------------------------------

def test_six_parallel_refunds_of_the_same_amount_make_one_refund(stripe_sandbox):
    """Six parallel POSTs of {"amount": 500} once made two $5 refunds: the key
    included the refunded total, which the webhook changed between clicks. So: three clicks at
    once, Stripe's webhooks arrive, three more at once (all within the same minute)."""
    order = paid_order(stripe_sandbox)
    click = as_user(order.seller, "post", f"/payments/orders/{order.pk}/refund/", {"amount": 500})

    first = burst([click] * 3)
    deliver(stripe_sandbox)  # charge.refunded: the order's refunded total is now 500
    second = burst([click] * 3)
    deliver(stripe_sandbox)

    codes = statuses(first + second)
    assert all(isinstance(c, int) and c < 500 for c in codes), codes
    assert 201 in codes, codes
    refunds = sandbox_refunds(stripe_sandbox, order)
    assert [r["amount"] for r in refunds] == [500], refunds


def test_six_parallel_refunds_with_different_keys_never_refund_more_than_was_paid(stripe_sandbox):
    """Deliberate, distinct refunds (their own Idempotency-Key) of 2,000 cents each on a 5,000
    cent order, all at once: at most two fit; the lock must judge them one after the other."""
    order = paid_order(stripe_sandbox)
    requests = [
        as_user(order.seller, "post", f"/payments/orders/{order.pk}/refund/", {"amount": 2000},
                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
        for _ in range(6)
    ]

    results = burst(requests)
    deliver(stripe_sandbox)

    codes = statuses(results)
    assert all(isinstance(c, int) and c < 500 for c in codes), codes
    refunds = [r for r in sandbox_refunds(stripe_sandbox, order) if r.get("status") != "failed"]
    assert sum(r["amount"] for r in refunds) <= order.amount_cents
    assert codes.count(201) == len(refunds) == 2, (codes, refunds)


# -- ship and complete ------------------------------------------------------------------------

def test_the_seller_double_clicking_ship_ships_once_and_emails_the_buyer_once(stripe_sandbox):
    order = paid_order(stripe_sandbox)
    mail.outbox.clear()
    ship = as_user(order.seller, "post", f"/payments/orders/{order.pk}/ship/", {"tracking_number": "1Z999"})

    results = burst([ship] * 4)

    assert statuses(results) == [200, 409, 409, 409]
    assert list(AuditEvent.objects.filter(order=order, to_status=OrderStatus.SHIPPED)
                .values_list("to_status", flat=True)) == [OrderStatus.SHIPPED]
    assert len([m for m in mail.outbox if order.buyer.email in m.to]) == 1


def test_the_buyer_double_clicking_received_completes_once(stripe_sandbox):
    order = paid_order(stripe_sandbox)
    Client().force_login(order.seller)
    seller = Client()
    seller.force_login(order.seller)
    assert seller.post(f"/payments/orders/{order.pk}/ship/", "{}", content_type="application/json",
                       HTTP_ACCEPT="application/json").status_code == 200
    complete = as_user(order.buyer, "post", f"/payments/orders/{order.pk}/complete/")

    results = burst([complete] * 4)

    assert statuses(results) == [200, 409, 409, 409]
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert AuditEvent.objects.filter(order=order, to_status=OrderStatus.COMPLETED).count() == 1


# -- duplicate webhook deliveries -------------------------------------------------------------

def deliver_at_once(events: list[dict], copies: int) -> list:
    return burst([(lambda client, e=e: post_event(client, e, path=CONNECT_PATH))
                  for e in events for _ in range(copies)])


def test_a_success_event_delivered_eight_times_at_once_pays_once(stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    (event,) = stripe_sandbox.events(type="payment_intent.succeeded")

    results = deliver_at_once([event], copies=8)

    assert statuses(results) == [200] * 8
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.filter(order=order).count() == 1
    assert AuditEvent.objects.filter(order=order, to_status=OrderStatus.PAID).count() == 1


def test_a_refund_event_delivered_eight_times_at_once_counts_the_money_once(stripe_sandbox):
    from payments import stripe_api

    order = sandbox_order(stripe_sandbox)
    pay(order)
    (succeeded,) = stripe_sandbox.events(type="payment_intent.succeeded")
    assert statuses(deliver_at_once([succeeded], copies=1)) == [200]
    stripe_api.refund_create(order=order, amount_cents=1500, idempotency_key=f"partial-{order.pk}")
    refund_events = [e for e in stripe_sandbox.events()
                     if e["type"] in ("charge.refunded", "refund.created", "charge.refund.updated")]

    results = deliver_at_once(refund_events, copies=8)

    assert all(isinstance(c, int) and c < 500 for c in statuses(results)), statuses(results)
    order.refresh_from_db()
    assert order.payment.amount_refunded_cents == 1500
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert AuditEvent.objects.filter(order=order, to_status=OrderStatus.PARTIALLY_REFUNDED).count() == 1


# -- per-user caps ----------------------------------------------------------------------------


def test_a_burst_of_forty_saved_searches_keeps_no_more_than_the_cap(settings):
    """Each save counts the user's searches under a lock on the user's row: without it, every
    request of a burst counts before any of them writes, and all get past the cap."""
    from marketplace.models import SavedSearch

    settings.MAX_SAVED_SEARCHES = 20
    user = UserFactory()

    def save(n):
        def request(client):
            client.force_login(user)
            return client.post("/saved-searches/", {"q": f"tour {n}"})
        return request

    results = burst([save(n) for n in range(40)])

    assert statuses(results) == [302] * 20 + [409] * 20
    assert SavedSearch.objects.filter(user=user).count() == 20


def test_a_burst_of_photo_uploads_keeps_no_more_than_the_cap_on_one_listing():
    """Every upload locks the listing row before it counts the photos there are."""
    from marketplace.models import MAX_STUB_PHOTOS, StubPhoto
    from marketplace.tests.images import image_upload

    listing = ListingFactory()
    seller = listing.seller

    def upload(n):
        def request(client):
            client.force_login(seller)
            photo = image_upload("PNG", size=(40, 30), name=f"photo{n}.png")
            return client.post(f"/listings/{listing.pk}/photos/", {"photos": [photo]})
        return request

    results = burst([upload(n) for n in range(MAX_STUB_PHOTOS + 4)])

    assert all(isinstance(code, int) and code < 500 for code in statuses(results)), statuses(results)
    stub = listing.stub
    stub.refresh_from_db()
    assert (1 if stub.photo else 0) + StubPhoto.objects.filter(stub=stub).count() == MAX_STUB_PHOTOS
