"""Logged-in visitors' catalogue pages from one shared copy (marketplace.personal): each visitor's
own header, hearts, CSRF token and purchase panel, never another's; never buyable once taken."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import SellerFactory, UserFactory
from core import cache_health
from marketplace import page_cache, personal, views
from marketplace.services import listing_mark_sold, listing_reserve
from marketplace.tests.factories import ListingFactory
from marketplace.tests.page_cache_clock import clock_of_waits
from marketplace.watchlist import watch_add

pytestmark = pytest.mark.django_db

BUY = "Buy for $"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def drawn(response) -> bool:
    """Whether the page was drawn by its view (its slots' own templates render either way)."""
    return any(template.name.endswith(("browse.html", "listing_detail.html", "seller_profile.html"))
               for template in response.templates)


def tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))


def shared_copy(view, address: str):
    """The copy filed for logged-in visitors at `address` (whatever the cache backend)."""
    return cache.get(page_cache.page_key(RequestFactory().get(address), view, personal.VARIANT))


def test_the_second_buyer_gets_the_shared_copy_with_their_own_bits(django_assert_num_queries):
    listings = ListingFactory.create_batch(3)
    alice, bob = UserFactory(username="alice_member"), SellerFactory(username="bob_member")
    watch_add(user=alice, listing_id=listings[0].pk)
    as_alice, as_bob = logged_in(alice), logged_in(bob)
    addresses = ("/", "/?q=rock", f"/listings/{listings[1].pk}/", f"/sellers/{listings[0].seller.username}/")
    for address in addresses:
        first = as_alice.get(address)
        assert drawn(first), address
        assert "alice_member" in first.content.decode()
    assert "is-on" in as_alice.get("/").content.decode()
    for address in addresses:
        # The session and the visitor, the hearts' watched ones: nothing of the page's own.
        with CaptureQueriesContext(connection) as queries:
            response = as_bob.get(address)
        assert response.status_code == 200
        assert len(queries) <= 4, (address, [q["sql"] for q in queries.captured_queries])
        page = response.content.decode()
        assert "bob_member" in page and "alice_member" not in page and "is-on" not in page, address
        assert "<!--personal:" not in page
        assert "Sell a stub" in page  # bob is a seller: his own menu
        secret = as_bob.cookies["csrftoken"].value
        assert tokens(page) and {_unmask_cipher_token(token) for token in tokens(page)} == {secret}
    # And alice's own heart is still hers, from the shared copy.
    again = as_alice.get("/")
    assert not drawn(again) and "is-on" in again.content.decode()


def test_shared_copies_hold_nobodys_name_token_or_heart():
    listings = ListingFactory.create_batch(2)
    carol = UserFactory(username="carol_member")
    watch_add(user=carol, listing_id=listings[0].pk)
    as_carol = logged_in(carol)
    pages = (
        (views.browse, "/"),
        (views.listing_detail, f"/listings/{listings[0].pk}/"),
        (views.seller_profile, f"/sellers/{listings[0].seller.username}/"),
    )
    for _view, address in pages:
        as_carol.get(address)
    for view, address in pages:
        _keys, _versions, (content, _type, _found), _fresh_until = shared_copy(view, address)
        assert "carol_member" not in content and "is-on" not in content and "class=\"heart" not in content
        assert not re.search(r'csrfmiddlewaretoken" value="[A-Za-z0-9]', content)
        assert personal.HEADER in content


def test_the_seller_and_the_holder_of_a_reservation_get_their_own_listing_page():
    listing = ListingFactory()
    buyer, holder = UserFactory(), UserFactory()
    as_buyer = logged_in(buyer)
    assert BUY in as_buyer.get(f"/listings/{listing.pk}/").content.decode()  # the shared copy
    seller_page = logged_in(listing.seller).get(f"/listings/{listing.pk}/")
    assert drawn(seller_page) and "Your listing" in seller_page.content.decode()
    assert BUY not in seller_page.content.decode()
    listing_reserve(listing_id=listing.pk, buyer=holder)
    as_holder = logged_in(holder)
    as_buyer.get(f"/listings/{listing.pk}/")  # a new shared copy: reserved
    held = as_holder.get(f"/listings/{listing.pk}/").content.decode()
    assert BUY in held  # the holder may still pay for it
    other = as_buyer.get(f"/listings/{listing.pk}/").content.decode()
    assert BUY not in other and "Reserved" in other


def test_the_purchase_panel_is_filled_per_buyer_and_never_buyable_once_sold():
    listing = ListingFactory()
    as_one, as_two = logged_in(UserFactory()), logged_in(UserFactory())
    assert BUY in as_one.get(f"/listings/{listing.pk}/").content.decode()
    assert not drawn(as_two.get(f"/listings/{listing.pk}/"))  # the shared copy
    listing_mark_sold(listing_id=listing.pk, buyer=UserFactory())
    for visitor in (as_one, as_two):
        page = visitor.get(f"/listings/{listing.pk}/").content.decode()
        assert BUY not in page and "Sold" in page
    assert f"/listings/{listing.pk}/" not in as_two.get("/").content.decode()


def test_a_page_with_a_message_waiting_is_drawn_for_its_visitor_and_shows_it_once():
    listing = ListingFactory()
    user = UserFactory()
    as_user = logged_in(user)
    as_user.get("/")  # the shared copy
    as_user.post(f"/listings/{listing.pk}/watch/", {"watch": "1", "next": "/"})
    page = as_user.get("/")
    assert drawn(page)  # it shows the message
    assert "Added to your watchlist." in page.content.decode()
    again = as_user.get("/").content.decode()
    assert "Added to your watchlist." not in again and "is-on" in again


def test_the_unread_count_in_the_header_is_the_visitors_own_and_current():
    ListingFactory()
    reader, other = UserFactory(), UserFactory()
    logged_in(other).get("/")  # the shared copy, drawn for someone else
    as_reader = logged_in(reader)
    cache.set(f"messaging:unread:{reader.pk}", 3, 60)
    page = as_reader.get("/").content.decode()
    assert 'aria-label="3 unread"' in page


def test_with_the_cache_down_logged_in_pages_are_drawn_whole(settings, monkeypatch):
    # Its once-a-minute warning is this test's: other tests still hear the next one.
    monkeypatch.setattr(cache_health, "_down_logged_at", dict(cache_health._down_logged_at))
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    listing = ListingFactory()
    as_user = logged_in(UserFactory(username="dora_member"))
    for address in ("/", f"/listings/{listing.pk}/", f"/sellers/{listing.seller.username}/"):
        response = as_user.get(address)
        page = response.content.decode()
        assert response.status_code == 200 and drawn(response), address
        assert "dora_member" in page and "<!--personal:" not in page, address


def test_a_logged_in_visitor_served_the_shared_copy_runs_as_many_queries_for_60_listings_as_for_30():
    seller = SellerFactory()
    viewer = UserFactory()
    as_viewer, as_other = logged_in(viewer), logged_in(UserFactory())
    as_viewer.get("/")  # the viewer's row is filed with their session from now on

    def counts() -> list[int]:
        numbers = []
        first = ListingFactory(seller=seller, offers_enabled=True)
        for address in (f"/listings/{first.pk}/", "/", "/?q=rock", f"/sellers/{seller.username}/"):
            as_other.get(address)  # files the shared copy
            with CaptureQueriesContext(connection) as queries:
                assert as_viewer.get(address).status_code == 200, address
            numbers.append(len(queries.captured_queries))
        return numbers

    ListingFactory.create_batch(30, seller=seller, stub__event_name="Rock Night")
    for listing in ListingFactory._meta.model.objects.all()[:5]:
        watch_add(user=viewer, listing_id=listing.pk)
    few = counts()
    ListingFactory.create_batch(30, seller=seller, stub__event_name="Rock Night")
    for listing in ListingFactory._meta.model.objects.all()[5:40]:
        watch_add(user=viewer, listing_id=listing.pk)
    assert counts() == few


def test_the_header_follows_a_new_username_and_seller_flag():
    ListingFactory()
    user = UserFactory(username="before_rename")
    as_user = logged_in(user)
    assert "before_rename" in as_user.get("/").content.decode()
    user.username, user.is_seller = "after_rename", True
    user.save()
    page = as_user.get("/").content.decode()
    assert "after_rename" in page and "before_rename" not in page and "Sell a stub" in page


def test_a_missing_listing_is_a_404_with_the_visitors_own_header():
    response = logged_in(UserFactory(username="lost_member")).get("/listings/999999/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "lost_member" in page and "<!--personal:" not in page


def test_a_logged_in_hit_of_the_shared_copy_costs_two_cache_round_trips_and_no_query(
        cache_round_trips):
    """The session with the visitor's row, unread count and watched ids, then the page with the
    versions of what it shows; no query. Neither grows with the listings on the page."""
    ListingFactory.create_batch(30)
    viewer = UserFactory(username="hit_viewer")
    logged_in(UserFactory()).get("/")  # files the shared copy
    as_viewer = logged_in(viewer)
    as_viewer.get("/")  # this process has now seen the viewer's session and the page
    for _ in range(2):
        cache_round_trips.count = 0
        with CaptureQueriesContext(connection) as queries:
            response = as_viewer.get("/")
        page = response.content.decode()
        assert not drawn(response) and "hit_viewer" in page
        assert cache_round_trips.count == 2
        assert queries.captured_queries == []


def test_a_new_message_shows_in_the_header_of_the_next_shared_copy_served():
    ListingFactory()
    reader = UserFactory()
    as_reader = logged_in(reader)
    as_reader.get("/")
    as_reader.get("/")  # the unread count now comes with the session
    assert 'aria-label="2 unread"' not in as_reader.get("/").content.decode()
    cache.set(f"messaging:unread:{reader.pk}", 2, 60)  # what messaging does on a new message
    assert 'aria-label="2 unread"' in as_reader.get("/").content.decode()


def test_a_deactivated_visitor_is_not_served_the_shared_copy_as_logged_in():
    ListingFactory()
    leaving = UserFactory(username="leaving_member")
    as_leaving = logged_in(leaving)
    as_leaving.get("/")
    assert "leaving_member" in as_leaving.get("/").content.decode()
    leaving.is_active = False
    leaving.save()
    page = as_leaving.get("/").content.decode()
    assert "leaving_member" not in page and "<!--personal:" not in page


@pytest.mark.django_db(transaction=True)  # commits as production does: the read is counted mid-request
def test_the_page_that_marks_messages_read_shows_the_count_after_it_not_the_one_read_with_the_session():
    """The unread count read with the session is for the shared copy's header only: a page drawn
    by its view (here the conversation, which marks it read) asks for the count as it is now."""
    listing = ListingFactory()
    as_buyer, as_seller = logged_in(UserFactory()), logged_in(listing.seller)
    asked = as_buyer.post(f"/listings/{listing.pk}/ask/", {"body": "Is the stub torn at all?"})
    conversation = asked["Location"].partition("#")[0]  # /messages/<id>/
    as_seller.get("/")
    assert 'aria-label="1 unread"' in as_seller.get("/").content.decode()  # read with the session
    page = as_seller.get(conversation).content.decode()
    assert "Is the stub torn at all?" in page and 'aria-label="1 unread"' not in page


def test_a_shared_copy_past_its_time_is_served_with_this_visitors_bits_while_another_draws_it(
        monkeypatch):
    listing = ListingFactory()
    address = f"/listings/{listing.pk}/"
    assert drawn(logged_in(UserFactory(username="first_member")).get(address))
    key = page_cache.page_key(RequestFactory().get(address), views.listing_detail, personal.VARIANT)
    keys, started, payload, _fresh_until = cache.get(key)
    cache.set(key, (keys, started, payload, 0), 60)  # due to be drawn again
    cache.add(f"{key}:drawing", 1)  # another request is drawing it
    response = logged_in(UserFactory(username="second_member")).get(address)
    page = response.content.decode()
    assert not drawn(response) and "second_member" in page and "first_member" not in page
    assert BUY in page
    listing_reserve(listing_id=listing.pk, buyer=UserFactory())
    waits = clock_of_waits(monkeypatch)
    response = logged_in(UserFactory(username="third_member")).get(address)
    assert drawn(response) and BUY not in response.content.decode()
    assert sum(waits) == pytest.approx(page_cache.WAIT_SECONDS, abs=page_cache.WAIT_STEP_SECONDS)
