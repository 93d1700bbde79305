"""The offer rules through offers.services: making, answering, expiry, the hidden minimum, the
open-offer cap, the hold an acceptance makes and the price checkout then charges, voiding."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.services import listing_withdraw
from marketplace.tests.factories import ListingFactory
from offers import services
from offers.models import Offer, OfferStatus
from payments.agreed_prices import listing_price_for, listing_total_for
from payments.models import AuditEvent

pytestmark = pytest.mark.django_db


def make(listing, buyer, cents=4000, **kwargs):
    return services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=cents, **kwargs)


def test_an_offer_waits_for_the_seller_who_is_emailed(listing, buyer, seller, committed):
    with committed():
        offer = make(listing, buyer)
    assert (offer.status, offer.amount_cents, offer.seller) == (OfferStatus.PENDING, 4000, seller)
    waits = offer.expires_at - offer.created_at
    assert abs(waits - datetime.timedelta(hours=48)) < datetime.timedelta(seconds=5)
    assert [m.to for m in mail.outbox] == [["seller@example.com"]]
    assert "$40.00" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="offer.made").count() == 1


def test_an_offer_below_the_hidden_minimum_is_declined_without_saying_the_minimum(listing, buyer, committed):
    Listing.objects.filter(pk=listing.pk).update(offer_minimum_cents=3500)
    with committed():
        offer = make(listing, buyer, 3400)
    assert (offer.status, offer.declined_automatically) == (OfferStatus.DECLINED, True)
    assert mail.outbox == []  # the seller is not bothered
    assert make(listing, buyer, 3400).pk == offer.pk  # a double submit is the same offer
    assert make(listing, buyer, 3500).status == OfferStatus.PENDING


@pytest.mark.parametrize("cents", [0, 49, 5000, 6000, 100_000_000, "4000", 40.0, True, None])
def test_bad_amounts_are_refused(listing, buyer, cents):
    with pytest.raises((services.InvalidOfferAmount, services.OfferNotBelowPrice)):
        make(listing, buyer, cents)
    assert not Offer.objects.exists()


def test_the_seller_cannot_offer_on_their_own_listing(listing, seller):
    with pytest.raises(services.OwnListing):
        make(listing, seller)


def test_no_offer_where_the_seller_does_not_take_them(seller, buyer):
    with pytest.raises(services.OffersNotTaken):
        make(ListingFactory(seller=seller, price_cents=5000), buyer)


def test_no_offer_on_a_sold_listing(listing, buyer):
    Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.SOLD)
    with pytest.raises(services.ListingNotOnSale):
        make(listing, buyer)


def test_the_same_offer_twice_is_one_and_another_amount_is_refused_while_it_waits(listing, buyer):
    first = make(listing, buyer)
    again = make(listing, buyer)
    assert again.pk == first.pk and again.duplicate
    with pytest.raises(services.OfferOpenAlready):
        make(listing, buyer, 4100)


def test_a_buyer_has_at_most_three_open_offers(seller, buyer):
    listings = [ListingFactory(seller=seller, price_cents=5000, offers_enabled=True) for _ in range(4)]
    for listing in listings[:3]:
        make(listing, buyer)
    with pytest.raises(services.TooManyOffers):
        make(listings[3], buyer)
    services.offer_withdraw(offer_id=Offer.objects.first().pk, buyer=buyer)
    assert make(listings[3], buyer).status == OfferStatus.PENDING


def test_an_overdue_offer_no_longer_counts_towards_the_cap(seller, buyer):
    listings = [ListingFactory(seller=seller, price_cents=5000, offers_enabled=True) for _ in range(4)]
    for listing in listings[:3]:
        make(listing, buyer)
    Offer.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert make(listings[3], buyer).status == OfferStatus.PENDING


def test_the_seller_accepts_and_the_stub_is_held_for_the_buyer_at_that_price(
    listing, buyer, seller, committed
):
    offer = make(listing, buyer)
    with committed():
        accepted = services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4000)
    listing.refresh_from_db()
    assert accepted.status == OfferStatus.ACCEPTED and accepted.agreed_cents == 4000
    assert (listing.status, listing.reserved_by) == (ListingStatus.RESERVED, buyer)
    assert listing.reserved_at == accepted.held_at
    assert listing_price_for(listing=listing, buyer_id=buyer.pk) == 4000
    assert listing_total_for(listing=listing, buyer_id=buyer.pk) == 4400  # shipping on top
    assert listing_price_for(listing=listing, buyer_id=UserFactory().pk) == 5000
    assert mail.outbox[-1].to == ["buyer@example.com"] and "/checkout/" in mail.outbox[-1].body
    again = services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4000)
    assert again.duplicate


def test_an_accept_must_confirm_the_amount_on_the_table(listing, buyer, seller):
    offer = make(listing, buyer)
    with pytest.raises(services.OfferAmountChanged):
        services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4500)
    assert Offer.objects.get().status == OfferStatus.PENDING


def test_the_buyer_cannot_accept_their_own_offer_nor_the_seller_a_counter(listing, buyer, seller):
    offer = make(listing, buyer)
    with pytest.raises(services.NotYourTurn):
        services.offer_accept(offer_id=offer.pk, user=buyer, amount_cents=4000)
    services.offer_counter(offer_id=offer.pk, seller=seller, amount_cents=4500)
    with pytest.raises(services.NotYourTurn):
        services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4500)


def test_a_counter_is_between_the_offer_and_the_price_and_the_buyer_accepts_it(
    listing, buyer, seller, committed
):
    offer = make(listing, buyer)
    for bad in (4000, 3000, 5000, 5200):
        with pytest.raises(services.InvalidCounter):
            services.offer_counter(offer_id=offer.pk, seller=seller, amount_cents=bad)
    with committed():
        countered = services.offer_counter(offer_id=offer.pk, seller=seller, amount_cents=4500)
    assert countered.status == OfferStatus.COUNTERED and countered.turn_of() == buyer.pk
    assert mail.outbox[-1].to == ["buyer@example.com"] and "$45.00" in mail.outbox[-1].body
    assert services.offer_counter(offer_id=offer.pk, seller=seller, amount_cents=4500).duplicate
    with committed():
        accepted = services.offer_accept(offer_id=offer.pk, user=buyer, amount_cents=4500)
    assert accepted.agreed_cents == 4500
    assert mail.outbox[-1].to == ["seller@example.com"]
    listing.refresh_from_db()
    assert listing_total_for(listing=listing, buyer_id=buyer.pk) == 4900


def test_declines_by_either_side_are_emailed_and_twice_is_once(listing, buyer, seller, committed):
    offer = make(listing, buyer)
    with committed():
        declined = services.offer_decline(offer_id=offer.pk, user=seller)
    assert declined.status == OfferStatus.DECLINED and mail.outbox[-1].to == ["buyer@example.com"]
    assert services.offer_decline(offer_id=offer.pk, user=seller).duplicate
    second = make(listing, buyer, 4200)
    services.offer_counter(offer_id=second.pk, seller=seller, amount_cents=4800)
    with committed():
        services.offer_decline(offer_id=second.pk, user=buyer)
    assert mail.outbox[-1].to == ["seller@example.com"]


def test_an_answer_after_the_deadline_is_refused_and_the_offer_expires(listing, buyer, seller, committed):
    offer = make(listing, buyer)
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with committed(), pytest.raises(services.OfferExpired):
        services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4000)
    assert Offer.objects.get().status == OfferStatus.EXPIRED
    assert mail.outbox[-1].to == ["buyer@example.com"] and "expired" in mail.outbox[-1].subject
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE  # nothing held
    with pytest.raises(services.OfferExpired):
        services.offer_decline(offer_id=offer.pk, user=seller)


def test_the_sweep_expires_overdue_offers_and_lapses_an_unpaid_acceptance(
    listing, buyer, buyer2, seller, committed
):
    waiting = make(ListingFactory(seller=seller, price_cents=5000, offers_enabled=True), buyer2)
    offer = make(listing, buyer)
    services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4000)
    Offer.objects.filter(pk=waiting.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert services.offers_sweep() == {"expired": 1, "lapsed": 0, "void": 0}
    # The hold ends unpaid: the release sweep frees the listing, then the offer lapses.
    from marketplace.services import listing_release

    listing_release(listing_id=listing.pk, buyer=buyer)
    with committed():
        assert services.offers_sweep() == {"expired": 0, "lapsed": 1, "void": 0}
    assert Offer.objects.get(pk=offer.pk).status == OfferStatus.LAPSED
    listing.refresh_from_db()
    assert listing_price_for(listing=listing, buyer_id=buyer.pk) == 5000


def test_withdrawing_the_listing_voids_its_offers_and_tells_the_buyers(
    listing, buyer, buyer2, seller, committed
):
    make(listing, buyer)
    make(listing, buyer2, 4200)
    with committed():
        listing_withdraw(listing_id=listing.pk, seller=seller)
    assert set(Offer.objects.values_list("status", flat=True)) == {OfferStatus.VOID}
    assert sorted(m.to[0] for m in mail.outbox if "no longer on sale" in m.subject) == [
        "buyer2@example.com", "buyer@example.com"]


def test_an_offer_while_another_buyer_holds_the_stub_is_taken_but_cannot_be_accepted(
    listing, buyer, buyer2, seller
):
    from marketplace.services import listing_reserve

    offer = make(listing, buyer)
    listing_reserve(listing_id=listing.pk, buyer=buyer2)
    with pytest.raises(services.ListingHeld):
        services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4000)
    assert Offer.objects.get().status == OfferStatus.PENDING


def test_a_second_accept_on_the_same_listing_is_refused(listing, buyer, buyer2, seller):
    first, second = make(listing, buyer), make(listing, buyer2, 4100)
    services.offer_accept(offer_id=first.pk, user=seller, amount_cents=4000)
    with pytest.raises(services.ListingHeld):
        services.offer_accept(offer_id=second.pk, user=seller, amount_cents=4100)
    assert Offer.objects.get(pk=second.pk).status == OfferStatus.PENDING


def test_the_minimum_is_checked_against_the_price(listing, seller):
    from marketplace.offer_terms import InvalidOfferMinimum, listing_offer_terms_set

    for bad in (49, 5000, 6000):
        with pytest.raises(InvalidOfferMinimum):
            listing_offer_terms_set(listing_id=listing.pk, seller=seller, enabled=True, minimum_cents=bad)
    listing_offer_terms_set(listing_id=listing.pk, seller=seller, enabled=True, minimum_cents=3000)
    listing.refresh_from_db()
    assert listing.offer_minimum_cents == 3000
    listing_offer_terms_set(listing_id=listing.pk, seller=seller, enabled=False, minimum_cents=3000)
    listing.refresh_from_db()
    assert (listing.offers_enabled, listing.offer_minimum_cents) == (False, None)


def test_the_offer_terms_are_frozen_while_a_buyer_holds_the_stub(listing, buyer, seller):
    from marketplace.offer_terms import OfferTermsLocked, listing_offer_terms_set

    offer = make(listing, buyer)
    services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4000)
    with pytest.raises(OfferTermsLocked):
        listing_offer_terms_set(listing_id=listing.pk, seller=seller, enabled=False, minimum_cents=None)
    listing.refresh_from_db()
    assert listing_price_for(listing=listing, buyer_id=buyer.pk) == 4000


def test_an_offer_at_or_above_a_lowered_price_cannot_be_accepted(listing, buyer, seller):
    from marketplace.services import listing_update

    offer = make(listing, buyer, 4000)
    listing_update(listing_id=listing.pk, seller=seller, price_cents=3900)
    with pytest.raises(services.OfferNotBelowPriceNow):
        services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4000)
    assert Offer.objects.get().status == OfferStatus.PENDING
