"""Every offers route through the real views: who may see and answer an offer, bad amounts,
double submits, the open-offer cap, late answers, offers on a sold stub, the confirmation steps,
the listing form's terms and the hidden minimum staying hidden."""

import datetime
import json

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from marketplace.models import Listing, ListingStatus
from marketplace.tests.factories import ListingFactory
from offers import services
from offers.models import Offer, OfferStatus

pytestmark = pytest.mark.django_db


def post_json(client, path, body):
    return client.post(
        path, json.dumps(body), content_type="application/json", HTTP_ACCEPT="application/json"
    )


def offer_on(listing, buyer, cents=4000):
    return services.offer_make(listing_id=listing.pk, buyer=buyer, amount_cents=cents)


def test_a_buyer_offers_from_the_listing_page_confirming_the_amount(login, buyer, seller, listing, committed):
    client = login(buyer)
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert 'id="offer-form"' in page and f'action="/listings/{listing.pk}/offer/"' in page
    confirm = client.post(f"/listings/{listing.pk}/offer/", {"amount": "1,040.5"[2:]})  # "040.5"
    assert confirm.status_code == 200 and "$40.50" in confirm.content.decode()
    assert not Offer.objects.exists()  # nothing is sent before the confirmation
    with committed():
        sent = client.post(f"/listings/{listing.pk}/offer/", {"amount": "40.50", "confirm": "yes"})
    offer = Offer.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/offers/{offer.pk}/"
    assert (offer.amount_cents, offer.status) == (4050, OfferStatus.PENDING)
    assert [m.to for m in mail.outbox] == [["seller@example.com"]]
    again = client.post(f"/listings/{listing.pk}/offer/", {"amount": "40.50", "confirm": "yes"})
    assert again.status_code == 302 and Offer.objects.count() == 1  # a double submit is one offer


def test_the_listing_page_shows_no_offer_form_to_its_seller_nor_where_offers_are_off(
    login, seller, buyer, listing
):
    assert 'id="offer-form"' not in login(seller).get(f"/listings/{listing.pk}/").content.decode()
    plain = ListingFactory(seller=seller, price_cents=5000)
    assert 'id="offer-box"' not in login(buyer).get(f"/listings/{plain.pk}/").content.decode()
    anonymous = Client().get(f"/listings/{listing.pk}/").content.decode()
    assert "Log in to make an offer" in anonymous and 'id="offer-form"' not in anonymous


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(listing):
    response = Client().get(f"/listings/{listing.pk}/offer/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert post_json(Client(), f"/listings/{listing.pk}/offer/", {"amount": "40.00"}).status_code == 403


def test_the_seller_cannot_offer_on_their_own_listing(login, seller, listing):
    assert login(seller).get(f"/listings/{listing.pk}/offer/").status_code == 409
    response = post_json(login(seller), f"/listings/{listing.pk}/offer/", {"amount": "40.00"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "own_listing"


@pytest.mark.parametrize(
    "amount", ["", "abc", "40,00", "-5", "1e3", "40.005", "0.49", "50.00", "50", "75.00", "1000000000", "٤٠"]
)
def test_bad_amounts_are_a_clear_400(login, buyer, listing, amount):
    client = login(buyer)
    response = post_json(client, f"/listings/{listing.pk}/offer/", {"amount": amount})
    assert response.status_code == 400, (amount, response.content)
    assert response.json()["error"]["code"] in ("invalid_amount", "offer_not_below_price")
    page = client.post(f"/listings/{listing.pk}/offer/", {"amount": amount, "confirm": "yes"})
    assert page.status_code == 400
    assert not Offer.objects.exists()


@pytest.mark.parametrize("body", [{"amount": 40}, {"amount": None}, {"amount": ["40.00"]}, {}, []])
def test_amounts_that_are_not_dollar_text_are_refused(login, buyer, listing, body):
    response = post_json(login(buyer), f"/listings/{listing.pk}/offer/", body)
    assert response.status_code == 400


def test_a_fourth_open_offer_is_refused(login, buyer, seller):
    listings = [ListingFactory(seller=seller, price_cents=5000, offers_enabled=True) for _ in range(4)]
    client = login(buyer)
    for listing in listings[:3]:
        assert post_json(client, f"/listings/{listing.pk}/offer/", {"amount": "40.00"}).status_code == 201
    response = post_json(client, f"/listings/{listings[3].pk}/offer/", {"amount": "40.00"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "too_many_offers"


def test_no_offer_on_a_sold_listing(login, buyer, listing):
    Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.SOLD)
    response = post_json(login(buyer), f"/listings/{listing.pk}/offer/", {"amount": "40.00"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "listing_not_on_sale"


def test_no_offer_on_a_withdrawn_listing_which_is_hidden(login, buyer, listing):
    Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.WITHDRAWN)
    assert post_json(login(buyer), f"/listings/{listing.pk}/offer/", {"amount": "40.00"}).status_code == 404


def test_an_offer_below_the_minimum_is_declined_and_the_minimum_never_shows(login, buyer, listing):
    Listing.objects.filter(pk=listing.pk).update(offer_minimum_cents=3777)
    client = login(buyer)
    response = client.post(
        f"/listings/{listing.pk}/offer/", {"amount": "30.00", "confirm": "yes"}, follow=True
    )
    text = response.content.decode()
    assert "The seller has declined this offer" in text
    for page in (
        text,
        client.get(f"/listings/{listing.pk}/").content.decode(),
        client.get("/offers/").content.decode(),
        client.get(f"/api/listings/{listing.pk}/", HTTP_ACCEPT="application/json").content.decode(),
        Client().get(f"/listings/{listing.pk}/").content.decode(),
    ):
        assert "37.77" not in page and "3777" not in page
    assert Offer.objects.get().status == OfferStatus.DECLINED


def test_strangers_and_other_buyers_cannot_see_or_answer_an_offer(login, buyer, buyer2, stranger, listing):
    offer = offer_on(listing, buyer)
    for user in (buyer2, stranger):
        client = login(user)
        assert client.get(f"/offers/{offer.pk}/").status_code == 404
        for action in ("accept", "decline", "counter", "withdraw"):
            response = post_json(client, f"/offers/{offer.pk}/{action}/", {"amount": "40.00"})
            assert response.status_code == 404, (action, response.content)
    assert "Offers on your stubs" in login(stranger).get("/offers/").content.decode()
    assert f'data-offer="{offer.pk}"' not in login(stranger).get("/offers/").content.decode()
    assert Offer.objects.get().status == OfferStatus.PENDING
    assert Client().get(f"/offers/{offer.pk}/").status_code == 302
    assert post_json(Client(), f"/offers/{offer.pk}/accept/", {"amount": "40.00"}).status_code == 403


def test_the_seller_counters_after_confirming_and_the_buyer_accepts_and_goes_to_checkout(
    login, buyer, seller, listing, committed
):
    offer = offer_on(listing, buyer)
    as_seller, as_buyer = login(seller), login(buyer)
    page = as_seller.get(f"/offers/{offer.pk}/").content.decode()
    assert 'id="offer-accept"' in page and "Accept $40.00" in page and 'id="counter-form"' in page
    assert "$40.00" in as_seller.get("/offers/").content.decode()
    assert "1 waiting for your answer" in as_seller.get("/dashboard/").content.decode()
    confirm = as_seller.post(f"/offers/{offer.pk}/counter/", {"amount": "45"})
    assert confirm.status_code == 200 and "Counter at $45.00" in confirm.content.decode()
    with committed():
        done = as_seller.post(f"/offers/{offer.pk}/counter/", {"amount": "45.00", "confirm": "yes"})
    assert done.status_code == 302 and Offer.objects.get().counter_cents == 4500
    assert 'id="offer-accept"' not in as_seller.get(f"/offers/{offer.pk}/").content.decode()
    assert "Accept $45.00" in as_buyer.get(f"/offers/{offer.pk}/").content.decode()
    stale = as_buyer.post(f"/offers/{offer.pk}/accept/", {"amount": "40.00"})
    assert stale.status_code == 409  # the amount confirmed is not the one on the table
    with committed():
        accepted = as_buyer.post(f"/offers/{offer.pk}/accept/", {"amount": "45.00"})
    assert accepted.status_code == 302 and accepted["Location"] == f"/checkout/{listing.pk}/"
    checkout = as_buyer.get(f"/checkout/{listing.pk}/").content.decode()
    assert "$45.00" in checkout and "Pay $49.00" in checkout and "your accepted offer" in checkout
    assert "Pay $49.00" in as_buyer.get(f"/offers/{offer.pk}/").content.decode()
    again = post_json(as_buyer, f"/offers/{offer.pk}/accept/", {"amount": "45.00"})
    assert again.status_code == 200 and again.json()["duplicate"] is True


def test_the_buyer_cannot_answer_their_own_offer_nor_the_seller_withdraw_it(login, buyer, seller, listing):
    offer = offer_on(listing, buyer)
    as_buyer = login(buyer)
    for action in ("accept", "decline"):
        response = post_json(as_buyer, f"/offers/{offer.pk}/{action}/", {"amount": "40.00"})
        assert response.status_code == 409 and response.json()["error"]["code"] == "not_your_turn"
    assert post_json(as_buyer, f"/offers/{offer.pk}/counter/", {"amount": "45.00"}).status_code == 409
    assert post_json(login(seller), f"/offers/{offer.pk}/withdraw/", {}).status_code == 409
    assert Offer.objects.get().status == OfferStatus.PENDING


def test_bad_counter_amounts_are_a_400(login, buyer, seller, listing):
    offer = offer_on(listing, buyer)
    client = login(seller)
    for amount in ("", "x", "39.00", "40.00", "50.00", "1,00"):
        response = post_json(client, f"/offers/{offer.pk}/counter/", {"amount": amount})
        assert response.status_code == 400, amount
    assert Offer.objects.get().status == OfferStatus.PENDING


def test_an_expired_offer_answered_is_refused_and_marked_expired(login, buyer, seller, listing, committed):
    offer = offer_on(listing, buyer)
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    with committed():
        response = post_json(login(seller), f"/offers/{offer.pk}/accept/", {"amount": "40.00"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "offer_expired"
    assert Offer.objects.get().status == OfferStatus.EXPIRED
    assert mail.outbox[-1].to == ["buyer@example.com"]
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.ACTIVE  # nothing held
    html = login(seller).post(f"/offers/{offer.pk}/decline/")
    assert html.status_code == 409 and "expired" in html.content.decode()


def test_decline_and_withdraw_through_the_pages_twice_are_once(login, buyer, seller, listing):
    offer = offer_on(listing, buyer)
    as_seller = login(seller)
    assert as_seller.post(f"/offers/{offer.pk}/decline/").status_code == 302
    assert as_seller.post(f"/offers/{offer.pk}/decline/").status_code == 302
    assert Offer.objects.get().status == OfferStatus.DECLINED
    second = offer_on(listing, buyer, 4200)
    as_buyer = login(buyer)
    assert as_buyer.post(f"/offers/{second.pk}/withdraw/").status_code == 302
    assert post_json(as_buyer, f"/offers/{second.pk}/withdraw/", {}).json()["duplicate"] is True
    assert Offer.objects.get(pk=second.pk).status == OfferStatus.WITHDRAWN


def test_answers_on_a_listing_sold_meanwhile_are_refused(login, buyer, seller, listing, committed):
    offer = offer_on(listing, buyer)
    with committed():
        Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.SOLD)  # past save(): the sweep
        services.offers_sweep()
    response = post_json(login(seller), f"/offers/{offer.pk}/accept/", {"amount": "40.00"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "offer_closed"
    assert Offer.objects.get().status == OfferStatus.VOID
    assert "no longer on sale" in mail.outbox[-1].subject


def test_making_offers_is_rate_limited_and_confirmation_pages_do_not_count(login, buyer, seller, settings):
    settings.OFFER_RATE_PER_USER = "2/h"
    client = login(buyer)
    listings = [ListingFactory(seller=seller, price_cents=5000, offers_enabled=True) for _ in range(3)]
    for listing in listings:
        assert client.post(f"/listings/{listing.pk}/offer/", {"amount": "10.00"}).status_code == 200
    codes = [
        client.post(f"/listings/{listing.pk}/offer/", {"amount": "10.00", "confirm": "yes"}).status_code
        for listing in listings
    ]
    assert codes == [302, 302, 429]
    assert Offer.objects.count() == 2


def test_the_listing_form_sets_offers_and_the_hidden_minimum(login, seller, listing):
    client = login(seller)
    form = client.get(f"/listings/{listing.pk}/edit/").content.decode()
    assert "Accept offers" in form and "Never shown to buyers" in form
    stub = listing.stub
    fields = {
        "event_name": stub.event_name,
        "performer": stub.performer,
        "venue": stub.venue,
        "city": stub.city,
        "event_date": stub.event_date.isoformat(),
        "category": stub.category,
        "condition": stub.condition,
        "description": stub.description,
        "price": "50.00",
        "shipping": "4.00",
    }
    bad = client.post(
        f"/listings/{listing.pk}/edit/", {**fields, "accept_offers": "on", "offer_minimum": "60.00"}
    )
    assert bad.status_code == 400 and "below your price" in bad.content.decode()
    bad = client.post(
        f"/listings/{listing.pk}/edit/", {**fields, "accept_offers": "on", "offer_minimum": "3,00"}
    )
    assert bad.status_code == 400
    ok = client.post(
        f"/listings/{listing.pk}/edit/", {**fields, "accept_offers": "on", "offer_minimum": "30.00"}
    )
    assert ok.status_code == 302
    listing.refresh_from_db()
    assert (listing.offers_enabled, listing.offer_minimum_cents) == (True, 3000)
    client.post(f"/listings/{listing.pk}/edit/", fields)
    listing.refresh_from_db()
    assert (listing.offers_enabled, listing.offer_minimum_cents) == (False, None)


def test_the_offers_page_lists_both_sides_in_a_constant_number_of_queries(
    login, buyer, seller, django_assert_max_num_queries
):
    client = login(seller)
    listings = [ListingFactory(seller=seller, price_cents=5000, offers_enabled=True) for _ in range(3)]
    offer_on(listings[0], buyer)
    client.get("/offers/")
    with django_assert_max_num_queries(12) as few:
        client.get("/offers/")
    for listing in listings[1:]:
        offer_on(listing, buyer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/offers/").status_code == 200


def test_a_new_listing_can_take_offers_with_a_hidden_minimum(login, seller):
    from marketplace.tests.images import image_upload, photo_tasks_run
    from marketplace.tests.test_listing_edit import listing_form_data

    client = login(seller)
    form = {**listing_form_data(price="80.00"), "accept_offers": "on", "offer_minimum": "60"}
    with photo_tasks_run():
        refused = client.post(
            "/listings/new/", {**form, "offer_minimum": "80.00", "photos": [image_upload()]}
        )
        listed = client.post("/listings/new/", {**form, "photos": [image_upload()]})
    assert refused.status_code == 400 and "below your price" in refused.content.decode()
    listing = Listing.objects.get()
    assert listed.status_code == 302
    assert (listing.offers_enabled, listing.offer_minimum_cents) == (True, 6000)


def test_the_listing_page_offers_the_buyer_the_accepted_price(login, buyer, buyer2, seller, listing):
    offer = offer_on(listing, buyer)
    services.offer_accept(offer_id=offer.pk, user=seller, amount_cents=4000)
    page = login(buyer).get(f"/listings/{listing.pk}/").content.decode()
    assert (
        "Buy for $44.00</a>" in page and "your accepted offer" in page and 'id="offer-box-accepted"' in page
    )
    other = login(buyer2).get(f"/listings/{listing.pk}/").content.decode()
    assert "Buy for" not in other and "Reserved" in other


def test_the_listing_api_says_whether_a_listing_takes_offers_and_never_the_minimum(client, listing):
    Listing.objects.filter(pk=listing.pk).update(offer_minimum_cents=3777)
    data = client.get(f"/api/listings/{listing.pk}/", HTTP_ACCEPT="application/json").json()
    assert data["offers_enabled"] is True
    assert "offer_minimum_cents" not in data and "3777" not in json.dumps(data)


def test_an_overdue_offer_shows_as_expired_with_no_answer_forms(login, buyer, seller, listing):
    offer = offer_on(listing, buyer)
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    page = login(seller).get(f"/offers/{offer.pk}/").content.decode()
    assert "Expired" in page and 'id="offer-answer"' not in page
    assert Offer.objects.get().status == OfferStatus.EXPIRED


def test_no_offer_panel_while_the_seller_cannot_take_payments(login, buyer, listing):
    type(listing.seller).objects.filter(pk=listing.seller_id).update(stripe_onboarding_completed=False)
    client = login(buyer)
    assert 'id="offer-box"' not in client.get(f"/listings/{listing.pk}/").content.decode()
    response = post_json(client, f"/listings/{listing.pk}/offer/", {"amount": "40.00"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "listing_unavailable"
