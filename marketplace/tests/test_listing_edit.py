import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.models import Listing, ListingStatus
from marketplace.tests.factories import ListingFactory
from marketplace.tests.images import image_upload

pytestmark = pytest.mark.django_db


def listing_form_data(**overrides):
    data = {
        "event_name": "Live Aid",
        "performer": "Queen",
        "venue": "Wembley Stadium",
        "city": "London",
        "event_date": "1985-07-13",
        "category": "concert",
        "condition": "excellent",
        "description": "Folded once.",
        "price": "120.50",
    }
    return {**data, **overrides}


def sell_form_data(**overrides):
    """The sell form's fields with the one photo a new listing needs at least."""
    return {**listing_form_data(**overrides), "photos": [image_upload()]}


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/listings/new/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_non_seller_is_told_to_become_a_seller(client):
    client.force_login(UserFactory())
    response = client.get("/listings/new/")
    assert response.status_code == 403
    assert "/accounts/profile/" in response.content.decode()
    assert client.post("/listings/new/", listing_form_data()).status_code == 403
    assert not Listing.objects.exists()


def test_a_seller_lists_a_stub_with_the_price_in_dollars(client):
    seller = SellerFactory()
    client.force_login(seller)
    assert client.get("/listings/new/").status_code == 200
    response = client.post("/listings/new/", sell_form_data())
    listing = Listing.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/listings/{listing.pk}/"
    assert listing.seller == seller and listing.status == ListingStatus.ACTIVE
    assert listing.price_cents == 12050
    assert listing.stub.event_name == "Live Aid" and listing.stub.event_date == datetime.date(1985, 7, 13)


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("0.49", "lowest price Stripe can charge is $0.50"),
        ("1000000", "highest price Stripe can charge"),
        ("12.345", "at most two decimals"),
        ("abc", "Enter an amount in dollars"),
        ("1,50", "commas only between thousands"),
        ("1.500,00", "commas only between thousands"),
        ("", "This field is required"),
    ],
)
def test_prices_outside_stripe_limits_are_refused_with_a_clear_message(client, price, message):
    client.force_login(SellerFactory())
    response = client.post("/listings/new/", listing_form_data(price=price))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Listing.objects.exists()


@pytest.mark.parametrize(
    ("price", "cents"), [("0.50", 50), ("999999.99", 99_999_999), ("7", 700), ("1,500.00", 150_000)]
)
def test_prices_at_the_limits_are_accepted(client, price, cents):
    client.force_login(SellerFactory())
    client.post("/listings/new/", sell_form_data(price=price))
    assert Listing.objects.get().price_cents == cents


def test_missing_stub_facts_are_form_errors(client):
    client.force_login(SellerFactory())
    response = client.post("/listings/new/", listing_form_data(event_name="", category="bogus"))
    assert response.status_code == 400
    assert not Listing.objects.exists()


def test_the_owner_edits_facts_and_price(client):
    listing = ListingFactory(price_cents=5000)
    client.force_login(listing.seller)
    assert client.get(f"/listings/{listing.pk}/edit/").status_code == 200
    response = client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price="60", venue="Wembley"))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.price_cents == 6000 and listing.stub.venue == "Wembley"


def test_a_stranger_cannot_edit_someone_elses_listing(client):
    listing = ListingFactory(price_cents=5000)
    client.force_login(SellerFactory())
    assert client.get(f"/listings/{listing.pk}/edit/").status_code == 404
    assert client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price="1")).status_code == 404
    listing.refresh_from_db()
    assert listing.price_cents == 5000


def test_anonymous_visitor_cannot_edit(client):
    listing = ListingFactory()
    assert client.get(f"/listings/{listing.pk}/edit/").status_code == 302


def test_the_price_cannot_change_while_a_buyer_is_paying(client):
    listing = ListingFactory(
        price_cents=5000, status=ListingStatus.RESERVED, reserved_by=UserFactory(),
        reserved_until=timezone.now() + timedelta(minutes=10),
    )
    client.force_login(listing.seller)
    response = client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price="80"))
    assert response.status_code == 400
    assert "price cannot change" in response.content.decode()
    listing.refresh_from_db()
    assert listing.price_cents == 5000


def test_the_stubs_facts_cannot_change_while_a_buyer_is_paying(client):
    listing = ListingFactory(
        price_cents=5000, status=ListingStatus.RESERVED, reserved_by=UserFactory(),
        reserved_until=timezone.now() + timedelta(minutes=10),
    )
    client.force_login(listing.seller)
    response = client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price="50.00"))
    assert response.status_code == 400
    assert "A buyer is paying for this stub right now" in response.content.decode()
    listing.stub.refresh_from_db()
    assert listing.stub.event_name != "Live Aid"


def test_a_sold_stubs_description_and_condition_cannot_be_rewritten(client):
    listing = ListingFactory(price_cents=5000, status=ListingStatus.SOLD)
    stub = listing.stub
    client.force_login(listing.seller)
    facts = {name: getattr(stub, name) for name in ("event_name", "performer", "venue", "city", "category")}
    response = client.post(f"/listings/{listing.pk}/edit/", listing_form_data(
        **facts, event_date=stub.event_date.isoformat(), price="50.00",
        condition="mint", description="Never folded, signed by the band.",
    ))
    assert response.status_code == 400
    assert "stay as the buyer bought them" in response.content.decode()
    stub.refresh_from_db()
    assert stub.description != "Never folded, signed by the band." and stub.condition != "mint"


def test_an_unchanged_sold_listing_saves_without_complaint(client):
    listing = ListingFactory(price_cents=5000, status=ListingStatus.SOLD)
    stub = listing.stub
    client.force_login(listing.seller)
    facts = {name: getattr(stub, name) for name in (
        "event_name", "performer", "venue", "city", "category", "condition", "description")}
    response = client.post(f"/listings/{listing.pk}/edit/", listing_form_data(
        **facts, event_date=stub.event_date.isoformat(), price="50.00"))
    assert response.status_code == 302


def test_the_price_cannot_change_once_sold(client):
    listing = ListingFactory(price_cents=5000, status=ListingStatus.SOLD)
    client.force_login(listing.seller)
    response = client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price="80"))
    assert response.status_code == 400 and "sold" in response.content.decode()


def test_the_price_can_change_after_a_reservation_lapsed(client):
    listing = ListingFactory(
        price_cents=5000, status=ListingStatus.RESERVED, reserved_by=UserFactory(),
        reserved_until=timezone.now() - timedelta(minutes=1),
    )
    client.force_login(listing.seller)
    assert client.post(f"/listings/{listing.pk}/edit/", listing_form_data(price="80")).status_code == 302
    listing.refresh_from_db()
    assert listing.price_cents == 8000


def test_the_owner_withdraws_and_a_double_submit_is_harmless(client):
    listing = ListingFactory()
    client.force_login(listing.seller)
    first = client.post(f"/listings/{listing.pk}/withdraw/")
    second = client.post(f"/listings/{listing.pk}/withdraw/")
    assert first.status_code == second.status_code == 302
    listing.refresh_from_db()
    assert listing.status == ListingStatus.WITHDRAWN
    assert client.get("/").context["listings"].__len__() == 0


def test_withdraw_needs_post(client):
    listing = ListingFactory()
    client.force_login(listing.seller)
    assert client.get(f"/listings/{listing.pk}/withdraw/").status_code == 405


def test_a_stranger_cannot_withdraw(client):
    listing = ListingFactory()
    client.force_login(UserFactory())
    assert client.post(f"/listings/{listing.pk}/withdraw/").status_code == 404
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_anonymous_visitor_cannot_withdraw(client):
    listing = ListingFactory()
    assert client.post(f"/listings/{listing.pk}/withdraw/").status_code == 302
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_withdrawing_while_a_buyer_is_paying_shows_why_not(client):
    listing = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=UserFactory(),
        reserved_until=timezone.now() + timedelta(minutes=10),
    )
    client.force_login(listing.seller)
    response = client.post(f"/listings/{listing.pk}/withdraw/")
    assert response.status_code == 409
    assert "paying for this stub" in response.content.decode()


def test_the_owner_puts_a_withdrawn_listing_back_on_sale_and_a_double_submit_is_harmless(client):
    listing = ListingFactory(status=ListingStatus.WITHDRAWN)
    client.force_login(listing.seller)
    assert "Put back on sale" in client.get(f"/listings/{listing.pk}/").content.decode()
    assert client.post(f"/listings/{listing.pk}/relist/").status_code == 302
    assert client.post(f"/listings/{listing.pk}/relist/").status_code == 302
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_a_stranger_cannot_relist(client):
    listing = ListingFactory(status=ListingStatus.WITHDRAWN)
    client.force_login(UserFactory())
    assert client.post(f"/listings/{listing.pk}/relist/").status_code == 404
    listing.refresh_from_db()
    assert listing.status == ListingStatus.WITHDRAWN


def test_a_seller_without_payments_is_told_buyers_cannot_pay_yet(client):
    from accounts.tests.factories import NewSellerFactory

    client.force_login(NewSellerFactory())
    response = client.post("/listings/new/", sell_form_data(), follow=True)
    assert "Buyers cannot pay you yet" in response.content.decode()


def test_the_edit_form_says_the_price_is_locked_while_reserved(client):
    listing = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=UserFactory(),
        reserved_until=timezone.now() + timedelta(minutes=10),
    )
    client.force_login(listing.seller)
    assert "The price is locked" in client.get(f"/listings/{listing.pk}/edit/").content.decode()
