"""Watch and unwatch, the watched page, a price-drop email once per drop, the
"about to be sold" email once per hold, saved searches with their daily digest, and signed
unsubscribe links that work logged out."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace.models import Listing, ListingStatus, SavedSearch, Watch
from marketplace.services import listing_reserve, listing_update
from marketplace.tasks import send_saved_search_digests
from marketplace.tests.factories import ListingFactory
from marketplace.watchlist import (
    saved_search_create,
    saved_search_digests_send,
    unsubscribe_token,
    watch_add,
    watch_price_drops_notify,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def watcher():
    return UserFactory(email="watcher@example.com")


def watch(client, listing, value="1", **kwargs):
    return client.post(f"/listings/{listing.pk}/watch/", {"watch": value}, **kwargs)


# -- watch / unwatch ------------------------------------------------------------------------------


def test_watch_and_unwatch_from_the_listing_page(client, watcher):
    listing = ListingFactory()
    client.force_login(watcher)

    assert watch(client, listing).status_code == 302
    assert Watch.objects.get(user=watcher).listing == listing
    html = client.get(f"/listings/{listing.pk}/").content.decode()
    assert 'aria-pressed="true"' in html and "Watching" in html

    watch(client, listing, "0")
    assert not Watch.objects.exists()
    assert 'aria-pressed="false"' in client.get(f"/listings/{listing.pk}/").content.decode()


def test_a_double_click_watches_once(client, watcher):
    listing = ListingFactory()
    client.force_login(watcher)
    watch(client, listing)
    watch(client, listing)
    assert Watch.objects.count() == 1


def test_watching_answers_json_when_asked(client, watcher):
    listing = ListingFactory()
    client.force_login(watcher)
    response = watch(client, listing, HTTP_ACCEPT="application/json")
    assert response.json() == {"listing_id": listing.pk, "watching": True}


def test_anonymous_visitors_are_sent_to_log_in_to_watch(client):
    listing = ListingFactory()
    response = watch(client, listing)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert not Watch.objects.exists()
    assert "Log in to watch" in client.get(f"/listings/{listing.pk}/").content.decode()


def test_watch_needs_post(client, watcher):
    client.force_login(watcher)
    assert client.get(f"/listings/{ListingFactory().pk}/watch/").status_code == 405


def test_own_sold_or_hidden_listings_cannot_be_watched(client):
    seller = SellerFactory()
    client.force_login(seller)
    assert watch(client, ListingFactory(seller=seller), HTTP_ACCEPT="application/json").status_code == 409
    sold = ListingFactory(status=ListingStatus.SOLD)
    assert watch(client, sold, HTTP_ACCEPT="application/json").status_code == 409
    withdrawn = ListingFactory(status=ListingStatus.WITHDRAWN)
    assert watch(client, withdrawn, HTTP_ACCEPT="application/json").status_code == 404
    assert client.post("/listings/999999/watch/", HTTP_ACCEPT="application/json").status_code == 404
    assert not Watch.objects.exists()


def test_the_watched_page_lists_my_watched_stubs_only(client, watcher):
    mine, theirs = ListingFactory(), ListingFactory()
    watch_add(user=watcher, listing_id=mine.pk)
    watch_add(user=UserFactory(), listing_id=theirs.pk)
    client.force_login(watcher)

    response = client.get("/watching/")

    assert response.status_code == 200
    assert response.context["listings"] == [mine]


def test_the_next_parameter_cannot_send_you_off_site(client, watcher):
    listing = ListingFactory()
    client.force_login(watcher)
    response = client.post(f"/listings/{listing.pk}/watch/", {"watch": "1", "next": "https://evil.example/"})
    assert response.url == f"/listings/{listing.pk}/"


# -- price drops ----------------------------------------------------------------------------------


def test_a_price_drop_emails_each_watcher_once(watcher, django_capture_on_commit_callbacks):
    listing = ListingFactory(price_cents=10_000)
    watch_add(user=watcher, listing_id=listing.pk)

    with django_capture_on_commit_callbacks(execute=True):
        listing_update(listing_id=listing.pk, seller=listing.seller, price_cents=8_000)
    with django_capture_on_commit_callbacks(execute=True):
        listing_update(listing_id=listing.pk, seller=listing.seller, event_name="Same price, new title")

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["watcher@example.com"]
    assert "$80.00" in email.subject and "$100.00" in email.body
    assert email.extra_headers["List-Unsubscribe"].startswith("<http")


def test_a_rise_then_a_fall_still_above_the_price_the_watcher_knows_is_silent(
    watcher, django_capture_on_commit_callbacks
):
    listing = ListingFactory(price_cents=5_000)
    watch_add(user=watcher, listing_id=listing.pk)

    for price in (6_000, 5_500, 5_500):
        with django_capture_on_commit_callbacks(execute=True):
            listing_update(listing_id=listing.pk, seller=listing.seller, price_cents=price)

    assert mail.outbox == []


def test_a_price_moved_up_and_down_ten_times_sends_each_watcher_one_email_a_day(
    watcher, django_capture_on_commit_callbacks
):
    listing = ListingFactory(price_cents=5_000)
    watch_add(user=watcher, listing_id=listing.pk)

    for price in (4_900, 6_000, 4_800, 6_000, 4_700, 6_000, 4_600, 6_000, 4_500, 6_000):
        with django_capture_on_commit_callbacks(execute=True):
            listing_update(listing_id=listing.pk, seller=listing.seller, price_cents=price)

    assert [email.subject for email in mail.outbox] == [
        f"Price drop: {listing.stub.event_name} is now $49.00"
    ]
    assert Watch.objects.get().price_seen_cents == 4_900


def test_a_day_later_only_a_drop_below_the_lowest_price_told_is_emailed(watcher, settings):
    settings.WATCH_PRICE_DROP_EMAIL_HOURS = 24
    listing = ListingFactory(price_cents=5_000)
    watch_add(user=watcher, listing_id=listing.pk)
    start = timezone.now()
    Listing.objects.filter(pk=listing.pk).update(price_cents=4_000)
    assert watch_price_drops_notify(listing_id=listing.pk, now=start) == 1

    Listing.objects.filter(pk=listing.pk).update(price_cents=3_000)
    assert watch_price_drops_notify(listing_id=listing.pk, now=start + datetime.timedelta(hours=23)) == 0
    Listing.objects.filter(pk=listing.pk).update(price_cents=4_500)
    assert watch_price_drops_notify(listing_id=listing.pk, now=start + datetime.timedelta(hours=25)) == 0
    Listing.objects.filter(pk=listing.pk).update(price_cents=3_900)
    assert watch_price_drops_notify(listing_id=listing.pk, now=start + datetime.timedelta(hours=26)) == 1

    assert len(mail.outbox) == 2 and "$39.00" in mail.outbox[1].subject and "$40.00" in mail.outbox[1].body


def test_a_watcher_who_unsubscribed_gets_no_price_drop(watcher, django_capture_on_commit_callbacks):
    listing = ListingFactory(price_cents=5_000)
    Watch.objects.filter(pk=watch_add(user=watcher, listing_id=listing.pk).pk).update(emails_enabled=False)

    with django_capture_on_commit_callbacks(execute=True):
        listing_update(listing_id=listing.pk, seller=listing.seller, price_cents=4_000)

    assert mail.outbox == []
    assert Watch.objects.get().price_seen_cents == 4_000


# -- about to be sold -----------------------------------------------------------------------------


def test_a_buyer_starting_checkout_tells_the_other_watchers_once(watcher, django_capture_on_commit_callbacks):
    listing = ListingFactory()
    watch_add(user=watcher, listing_id=listing.pk)
    buyer = UserFactory(email="buyer@example.com")
    watch_add(user=buyer, listing_id=listing.pk)

    with django_capture_on_commit_callbacks(execute=True):
        listing_reserve(listing_id=listing.pk, buyer=buyer)
    with django_capture_on_commit_callbacks(execute=True):
        listing_reserve(listing_id=listing.pk, buyer=buyer)  # a reload extends the same hold

    assert [email.to for email in mail.outbox] == [["watcher@example.com"]]
    assert "Someone is buying" in mail.outbox[0].subject


# -- saved searches -------------------------------------------------------------------------------


def test_save_a_search_from_browse_and_see_it_listed(client, watcher):
    client.force_login(watcher)

    assert "Save this search" in client.get("/?q=prince&category=concert").content.decode()
    response = client.post("/saved-searches/", {"q": "prince", "category": "concert", "page": "3"})
    client.post("/saved-searches/", {"category": "concert", "q": "prince"})  # the same search again

    assert response.status_code == 302
    search = SavedSearch.objects.get()
    assert search.query == "category=concert&q=prince"
    assert "prince" in search.name and "Concert" in search.name
    assert "category=concert&amp;q=prince" in client.get("/saved-searches/").content.decode()


def test_only_the_owner_deletes_a_saved_search(client, watcher):
    search = saved_search_create(user=watcher, params={"q": "u2"})
    client.force_login(UserFactory())
    client.post(f"/saved-searches/{search.pk}/delete/")
    assert SavedSearch.objects.exists()
    client.force_login(watcher)
    client.post(f"/saved-searches/{search.pk}/delete/")
    assert not SavedSearch.objects.exists()


def test_the_daily_digest_sends_new_matches_once(watcher):
    start = timezone.now() - datetime.timedelta(days=2)
    search = saved_search_create(user=watcher, params={"q": "Springsteen"}, now=start)
    old = ListingFactory(stub__event_name="Springsteen at the Meadowlands")
    type(old).objects.filter(pk=old.pk).update(created_at=start - datetime.timedelta(hours=1))
    new = ListingFactory(stub__event_name="Springsteen Born in the U.S.A. Tour")
    ListingFactory(stub__event_name="Prince Purple Rain")

    call_command("send_saved_search_digests")
    call_command("send_saved_search_digests")  # the same day again: nothing twice

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert "Born in the U.S.A." in email.body
    assert "Meadowlands" not in email.body and "Purple Rain" not in email.body
    assert f"/listings/{new.pk}/" in email.body
    assert "/unsubscribe/" in email.body
    search.refresh_from_db()
    assert search.last_sent_at is not None


def test_no_digest_without_new_matches_or_with_emails_off(watcher):
    saved_search_create(user=watcher, params={"q": "nothing-matches-this"})
    yesterday = timezone.now() - datetime.timedelta(days=1)
    off = saved_search_create(user=watcher, params={"q": "prince"}, now=yesterday)
    SavedSearch.objects.filter(pk=off.pk).update(emails_enabled=False)
    ListingFactory(stub__event_name="Prince")

    assert saved_search_digests_send()["emails"] == 0
    assert mail.outbox == []


def test_the_daily_digest_task_keeps_the_name_beat_schedules_it_under():
    assert send_saved_search_digests.name == "payments.tasks.send_saved_search_digests"
    assert send_saved_search_digests.apply().get()["emails"] == 0


# -- unsubscribe ----------------------------------------------------------------------------------


def test_the_unsubscribe_link_works_logged_out_and_asks_before_acting(client, watcher):
    search = saved_search_create(user=watcher, params={"q": "u2"})
    url = f"/unsubscribe/{unsubscribe_token(kind='search', pk=search.pk)}/"

    page = client.get(url)
    search.refresh_from_db()
    assert page.status_code == 200 and search.emails_enabled  # a mail scanner's GET changes nothing

    done = client.post(url)  # no login, no CSRF token (mail clients' one-click POST)
    search.refresh_from_db()
    assert done.status_code == 200 and not search.emails_enabled
    assert "no longer get" in done.content.decode()
    assert client.post(url).status_code == 200  # twice is fine


def test_a_watch_unsubscribe_stops_its_emails_but_keeps_watching(client, watcher):
    listing = ListingFactory()
    w = watch_add(user=watcher, listing_id=listing.pk)
    client.post(f"/unsubscribe/{unsubscribe_token(kind='watch', pk=w.pk)}/")
    w.refresh_from_db()
    assert not w.emails_enabled and Watch.objects.filter(pk=w.pk).exists()


@pytest.mark.parametrize("token", ["junk", "eyJrIjoid2F0Y2giLCJpZCI6MX0:1abc:tampered"])
def test_a_forged_or_broken_unsubscribe_link_is_a_404(client, token):
    assert client.get(f"/unsubscribe/{token}/").status_code == 404
    assert client.post(f"/unsubscribe/{token}/").status_code == 404


def test_a_token_for_a_search_cannot_unsubscribe_a_watch_with_the_same_id(client, watcher):
    listing = ListingFactory()
    w = watch_add(user=watcher, listing_id=listing.pk)
    search = saved_search_create(user=watcher, params={"q": "x"})
    client.post(f"/unsubscribe/{unsubscribe_token(kind='search', pk=search.pk)}/")
    w.refresh_from_db()
    assert w.emails_enabled


def test_cards_show_a_heart_per_stub(client, watcher):
    watched, other = ListingFactory(), ListingFactory()
    watch_add(user=watcher, listing_id=watched.pk)
    client.force_login(watcher)

    html = client.get("/").content.decode()

    assert f'aria-label="Stop watching {watched.stub.event_name}"' in html
    assert f'aria-label="Watch {other.stub.event_name}"' in html


BAD_NEXT = ["https://evil.example/", "//evil.example/", "browse", "a\x00b", "/ok\x00"]


@pytest.mark.parametrize("target", BAD_NEXT)
def test_a_bad_next_goes_back_to_the_listing(client, watcher, target):
    listing = ListingFactory()
    client.force_login(watcher)
    response = client.post(f"/listings/{listing.pk}/watch/", {"watch": "1", "next": target})
    assert response.status_code == 302 and response.url == f"/listings/{listing.pk}/"


@pytest.mark.parametrize("params", [{"q": "x" * 5000}, {"min_price": "abc"}, {"q": "ok", "max_price": "-1"}])
def test_a_search_that_is_not_a_valid_browse_query_is_refused_not_saved(client, params):
    from marketplace.models import SavedSearch

    client.force_login(UserFactory())

    response = client.post("/saved-searches/", params)

    assert response.status_code == 400
    assert not SavedSearch.objects.exists()
