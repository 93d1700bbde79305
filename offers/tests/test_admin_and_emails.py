"""Staff read offers in admin and change nothing there; every step's email goes to the side that
waits for it, names the stub and the amounts, and never the seller's hidden minimum."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from marketplace.models import Listing
from marketplace.services import listing_release
from offers import services
from offers.models import Offer, OfferStatus
from payments.staff import FINANCE, SUPPORT
from payments.tests.factories import staff_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("group", [SUPPORT, FINANCE])
def test_support_and_finance_read_offers_and_cannot_change_them(login, group, listing, buyer):
    offer = services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=4000)
    client = login(staff_member(group))
    assert client.get("/admin/offers/offer/").status_code == 200
    assert client.get(f"/admin/offers/offer/{offer.pk}/change/").status_code == 200
    assert client.get("/admin/offers/offer/add/").status_code == 403
    assert client.get(f"/admin/offers/offer/{offer.pk}/delete/").status_code == 403
    changed = client.post(
        f"/admin/offers/offer/{offer.pk}/change/", {"status": "accepted", "amount_cents": 1}
    )
    assert changed.status_code == 403
    assert Offer.objects.get().status == OfferStatus.PENDING


def test_staff_without_a_group_see_no_offers(login, listing, buyer):
    services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=4000)
    assert login(staff_member()).get("/admin/offers/offer/").status_code == 403


def test_each_step_emails_the_side_that_waits_and_never_the_minimum(
    listing, buyer, buyer2, seller, committed
):
    Listing.objects.filter(pk=listing.pk).update(offer_minimum_cents=3333)
    sent = []

    def step(action):
        with committed():
            action()
        sent.extend((m.to[0], m.subject) for m in mail.outbox)
        mail.outbox.clear()

    offer = services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=4000)
    step(lambda: services.offer_counter(offer_id=offer.pk, seller=seller, amount_cents=4600))
    step(lambda: services.offer_decline(offer_id=offer.pk, user=buyer))
    again = services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=4100)
    step(lambda: services.offer_withdraw(offer_id=again.pk, buyer=buyer))
    late = services.offer_make(listing_id=listing.pk, buyer=buyer2, amount_cents=4200)
    services.offer_counter(offer_id=late.pk, seller=seller, amount_cents=4700)
    Offer.objects.filter(pk=late.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    step(lambda: services.offers_sweep())
    third = services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=4300)
    step(lambda: services.offer_accept(offer_id=third.pk, user=seller, amount_cents=4300))
    listing_release(listing_id=listing.pk, buyer=buyer)
    step(lambda: services.offers_sweep())

    assert sent == [
        ("buyer@example.com", f"A counter-offer of $46.00 for {listing.stub.event_name}"),
        ("seller@example.com", f"Offer declined: {listing.stub.event_name}"),
        ("seller@example.com", f"Offer withdrawn: {listing.stub.event_name}"),
        ("seller@example.com", f"The offer on {listing.stub.event_name} expired"),
        ("buyer@example.com", f"Offer accepted: {listing.stub.event_name} for $43.00"),
        ("buyer@example.com", f"Your hold on {listing.stub.event_name} ended"),
    ]


def test_no_email_or_page_names_the_hidden_minimum(listing, buyer, seller, committed, login):
    Listing.objects.filter(pk=listing.pk).update(offer_minimum_cents=3333)
    with committed():
        low = services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=3000)
        high = services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=4000)
        services.offer_decline(offer_id=high.pk, user=seller)
    for message in mail.outbox:
        bodies = [message.body, *(content for content, _ in message.alternatives)]
        assert not any("33.33" in body for body in bodies), message.subject
    client = login(buyer)
    for path in (
        f"/offers/{low.pk}/",
        "/offers/",
        f"/listings/{listing.pk}/",
        f"/listings/{listing.pk}/offer/",
    ):
        assert "33.33" not in client.get(path).content.decode(), path
    assert "33.33" in login(seller).get(f"/listings/{listing.pk}/").content.decode()  # the seller's own
