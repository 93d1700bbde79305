"""Catalogue pages under a changing catalogue: the anonymous page cache checks what each page
shows (marketplace.page_cache), logged-in pages share card fragments (marketplace.cards). Never
buyable once reserved or sold, nothing personal shared, queries constant in the listings."""

import random
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import SellerFactory, UserFactory
from core import cache_health
from marketplace import cards, views
from marketplace.models import Listing, ListingStatus
from marketplace.services import listing_mark_sold, listing_reserve, listing_update, listing_withdraw
from marketplace.tests.factories import ListingFactory
from marketplace.watchlist import watch_add

pytestmark = pytest.mark.django_db

BUY = "Buy for $"


def listing_ids_linked(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/listings/(\d+)/"', page)}


def test_a_reserved_or_sold_listing_is_never_shown_as_buyable_under_churn(client):
    """Pages are cached and recached while listings are edited, reserved, bought and withdrawn
    between requests; after each change no page, anonymous or logged in, offers what is taken."""
    rng = random.Random(20)
    seller = SellerFactory()
    listings = ListingFactory.create_batch(4, seller=seller) + ListingFactory.create_batch(2)
    buyer, other_buyer = Client(), Client()  # the second is served the copy the first one's visit filed
    buyer.force_login(UserFactory())
    other_buyer.force_login(UserFactory())
    taken: set[int] = set()
    pages = ("/", "/?sort=price_asc", f"/sellers/{seller.username}/", "/api/listings/")
    for step in range(7):  # six changes, each checked by the next round of requests
        for visitor in (client, buyer, other_buyer):
            for address in pages:
                response = visitor.get(address)
                shown = (
                    {item["id"] for item in response.json()["results"]}
                    if "api" in address
                    else listing_ids_linked(response.content.decode())
                )
                assert not shown & taken, (step, address)
            for listing in listings:
                detail = visitor.get(f"/listings/{listing.pk}/").content.decode()
                assert (BUY in detail) == (listing.pk not in taken), (step, listing.pk)
        if step == 6:
            break
        listing = rng.choice([listing for listing in listings if listing.pk not in taken])
        action = step % 4
        if action == 0:
            listing_reserve(listing_id=listing.pk, buyer=UserFactory())
        elif action == 1:
            listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
        elif action == 2:
            listing_withdraw(listing_id=listing.pk, seller=listing.seller)
        else:  # an edit: the listing stays on sale at its new price
            listing_update(listing_id=listing.pk, seller=listing.seller, price_cents=4000 + step)
            assert f"${(4000 + step) / 100:.2f}" in client.get(f"/listings/{listing.pk}/").content.decode()
            continue
        taken.add(listing.pk)


def test_a_save_elsewhere_in_the_catalogue_leaves_a_cached_page_in_place(client, django_assert_num_queries):
    shown = ListingFactory()
    elsewhere = ListingFactory(status=ListingStatus.SOLD)
    client.get("/")
    client.get(f"/listings/{shown.pk}/")
    elsewhere.price_cents = 1234
    elsewhere.save()
    elsewhere.seller.first_name = "Renamed"
    elsewhere.seller.save()
    with django_assert_num_queries(0):
        client.get("/")
        client.get(f"/listings/{shown.pk}/")
    shown.seller.first_name = "Renamed"
    shown.seller.save()  # the seller's name is on the card: the page is rendered afresh
    assert "Renamed" in client.get("/").content.decode()


def test_a_change_made_while_a_page_rendered_keeps_that_page_out_of_the_cache(client, monkeypatch):
    """The page read the rows before the sale; its copy must not be filed as current."""
    listing = ListingFactory()
    render = views.render

    def render_then_sell(request, template, context, **kwargs):
        response = render(request, template, context, **kwargs)
        if template == "marketplace/listing_detail.html" and context["listing"].status == "active":
            listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
        return response

    monkeypatch.setattr(views, "render", render_then_sell)
    assert BUY in client.get(f"/listings/{listing.pk}/").content.decode()  # rendered before the sale
    assert BUY not in client.get(f"/listings/{listing.pk}/").content.decode()


def test_a_logged_in_page_never_shows_another_visitors_personal_bits(client):
    listings = ListingFactory.create_batch(3)
    alice = UserFactory(username="alice_personal")
    watch_add(user=alice, listing_id=listings[0].pk)
    as_alice = Client()
    as_alice.force_login(alice)
    as_bob = Client()
    bob = UserFactory(username="bob_personal")
    as_bob.force_login(bob)
    addresses = ("/", f"/listings/{listings[1].pk}/", f"/sellers/{listings[0].seller.username}/")
    for address in addresses:
        assert "alice_personal" in as_alice.get(address).content.decode()  # cards now cached
    assert "is-on" in as_alice.get("/").content.decode()  # her heart on the watched stub
    for address in addresses:
        for visitor, name in ((as_bob, "bob_personal"), (client, None)):
            page = visitor.get(address).content.decode()
            assert "alice_personal" not in page and "is-on" not in page, address
            tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if name is None:
                assert not tokens, address
            else:
                secret = visitor.cookies["csrftoken"].value
                assert tokens and {_unmask_cipher_token(token) for token in tokens} == {secret}
                assert name in page


def test_shared_cards_hold_no_csrf_token_and_no_visitor(client):
    listings = ListingFactory.create_batch(3)
    client.force_login(UserFactory(username="carol_personal"))
    assert "carol_personal" in client.get("/").content.decode()
    # The keys the page filed its cards under (whatever the cache backend: locmem or Redis).
    keys = [cards._card_key(Listing.objects.get(pk=listing.pk), False) for listing in listings]
    stored = cache.get_many(keys)
    assert len(stored) == 3
    for html in stored.values():
        assert "csrfmiddlewaretoken" not in html and "carol_personal" not in html and "heart" not in html


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous, cache off", "logged in"])
def test_every_catalogue_page_runs_as_many_queries_for_60_listings_as_for_30(client, settings, logged_in):
    settings.PAGE_CACHE_SECONDS = 0 if not logged_in else settings.PAGE_CACHE_SECONDS
    seller = SellerFactory()
    viewer = UserFactory()
    if logged_in:
        client.force_login(viewer)

    def counts() -> list[int]:
        # Each page from an empty cache: what one page files (cards, the sold-price history of
        # the groups it shows) would otherwise spare the next page queries according to which
        # listings the two pages happen to share.
        first = Listing.objects.filter(seller=seller).order_by("pk").first()
        numbers = []
        for address in (
            f"/listings/{first.pk}/",
            "/",
            "/?q=rock&sort=price_asc",
            "/?page=2",
            f"/sellers/{seller.username}/",
            "/api/listings/",
            "/watching/",
        ):
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                assert client.get(address).status_code in (200, 302), address
            numbers.append(len(queries.captured_queries))
        return numbers

    # Every stub matches the search: with Faker's names "rock" sometimes matched none and then
    # the "did you mean" look-up ran its own queries in one round and not the other.
    ListingFactory.create_batch(30, seller=seller, stub__event_name="Rock Night")
    for listing in Listing.objects.all()[:5]:
        watch_add(user=viewer, listing_id=listing.pk)
    few = counts()
    ListingFactory.create_batch(30, seller=seller, stub__event_name="Rock Night")
    for listing in Listing.objects.all()[5:40]:
        watch_add(user=viewer, listing_id=listing.pk)
    assert counts() == few


def test_with_the_cache_down_logged_in_pages_are_served_with_their_cards(client, settings, monkeypatch):
    # Its once-a-minute warning is this test's: other tests still hear the next one.
    monkeypatch.setattr(cache_health, "_down_logged_at", dict(cache_health._down_logged_at))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    listing = ListingFactory()
    client.force_login(UserFactory())
    for address in ("/", f"/listings/{listing.pk}/", f"/sellers/{listing.seller.username}/"):
        response = client.get(address)
        assert response.status_code == 200, address
        assert listing.stub.event_name in response.content.decode()


def test_a_card_shows_its_listings_new_price_and_name_at_once_to_a_logged_in_buyer(client):
    listing = ListingFactory(price_cents=5000)
    client.force_login(UserFactory())
    assert "$50.00" in client.get("/").content.decode()  # the card is now shared
    listing_update(
        listing_id=listing.pk,
        seller=listing.seller,
        price_cents=4200,
        event_name="Renamed gig",
        **{
            name: getattr(listing.stub, name)
            for name in ("performer", "venue", "city", "event_date", "category", "condition", "description")
        },
    )
    page = client.get("/").content.decode()
    assert "$42.00" in page and "Renamed gig" in page and "$50.00" not in page


def test_shared_filter_fields_show_each_visitors_own_filters_and_errors(client):
    ListingFactory()
    client.force_login(UserFactory())
    for _ in range(2):  # rendered, then from the cache
        assert 'value="alpha"' in client.get("/", {"q": "alpha"}).content.decode()
        beta = client.get("/", {"q": "beta", "min_price": "abc"})
        assert beta.status_code == 400
        page = beta.content.decode()
        assert 'value="beta"' in page and 'value="alpha"' not in page and "errorlist" in page
        assert "errorlist" not in client.get("/", {"q": "beta"}).content.decode()
