"""The listing page's "More from this seller" is one cached copy per seller (marketplace.more_from_seller):
read from the database once for all of the seller's pages, never showing a listing that was
reserved, sold or withdrawn since, showing one put on sale at once, holding nothing personal."""

import datetime
import pickle
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import SellerFactory, UserFactory
from marketplace import more_from_seller
from marketplace.models import Listing, ListingStatus
from marketplace.selectors import seller_newest_on_sale
from marketplace.services import (
    listing_mark_sold,
    listing_release,
    listing_relist,
    listing_reserve,
    listing_update,
    listing_withdraw,
)
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

MORE = re.compile(r'<section class="more-from-seller".*?</section>', re.S)


def more_shown(visitor, listing) -> list[int]:
    """The listings in the page's "More from this seller", in order."""
    page = visitor.get(f"/listings/{listing.pk}/").content.decode()
    found = MORE.search(page)
    if found is None:
        return []
    return list(dict.fromkeys(int(pk) for pk in re.findall(r'href="/listings/(\d+)/"', found[0])))


def newest_first(listings) -> list[int]:
    ordered = sorted(listings, key=lambda item: (item.created_at, item.pk), reverse=True)
    return [listing.pk for listing in ordered]


@pytest.fixture
def buyer():
    visitor = Client()
    visitor.force_login(UserFactory())
    return visitor


@pytest.fixture
def seller_listings():
    seller = SellerFactory()
    return ListingFactory.create_batch(6, seller=seller)


def seller_listing_reads(captured) -> int:
    """Queries that read listings of the seller by seller (the "More from this seller" query)."""
    wanted = 'WHERE ("marketplace_listing"."seller_id" ='
    return sum(wanted in query["sql"] for query in captured.captured_queries)


def test_the_seller_s_other_listings_are_read_once_for_all_of_their_pages(buyer, seller_listings):
    first, second, third = seller_listings[:3]
    with CaptureQueriesContext(connection) as captured:
        shown_first = more_shown(buyer, first)
    assert seller_listing_reads(captured) == 1
    with CaptureQueriesContext(connection) as captured:
        shown_second = more_shown(buyer, second)
        shown_third = more_shown(Client(), third)  # anonymous: the same copy
    assert seller_listing_reads(captured) == 0
    newest = newest_first(seller_listings)
    assert shown_first == [pk for pk in newest if pk != first.pk][:4]
    assert shown_second == [pk for pk in newest if pk != second.pk][:4]
    assert shown_third == [pk for pk in newest if pk != third.pk][:4]


@pytest.mark.parametrize("change", ["reserve", "sell", "withdraw"])
def test_a_listing_reserved_sold_or_withdrawn_drops_out_of_every_page_at_once(buyer, seller_listings, change):
    page, shown = seller_listings[0], seller_listings[-1]  # the newest is shown on every other page
    assert shown.pk in more_shown(buyer, page)
    if change == "reserve":
        listing_reserve(listing_id=shown.pk, buyer=UserFactory())
    elif change == "sell":
        listing_mark_sold(listing_id=shown.pk, buyer=UserFactory())
    else:
        listing_withdraw(listing_id=shown.pk, seller=shown.seller)
    for visitor in (buyer, Client()):
        assert shown.pk not in more_shown(visitor, page)
        assert shown.pk not in more_shown(visitor, seller_listings[1])  # a page never drawn before


def test_a_listing_put_on_sale_released_or_relisted_shows_at_once(buyer, seller_listings):
    """Each step looks at a page of the seller not drawn before (a drawn page is the page cache's
    copy, which may miss a listing put on sale for PAGE_CACHE_SECONDS: marketplace.page_cache)."""
    more_shown(buyer, seller_listings[0])  # the copy is filed
    new = ListingFactory(seller=seller_listings[0].seller)
    assert more_shown(buyer, seller_listings[1])[0] == new.pk
    listing_reserve(listing_id=new.pk, buyer=UserFactory())
    assert new.pk not in more_shown(buyer, seller_listings[2])
    listing_release(listing_id=new.pk)
    assert more_shown(buyer, seller_listings[3])[0] == new.pk
    listing_withdraw(listing_id=new.pk, seller=new.seller)
    assert new.pk not in more_shown(buyer, seller_listings[4])
    listing_relist(listing_id=new.pk, seller=new.seller)
    assert more_shown(buyer, seller_listings[5])[0] == new.pk


def test_an_edit_of_a_listing_shown_shows_its_new_price_at_once(buyer, seller_listings):
    page, shown = seller_listings[0], seller_listings[-1]
    more_shown(buyer, page)
    listing_update(listing_id=shown.pk, seller=shown.seller, price_cents=98765)
    assert "$987.65" in MORE.search(buyer.get(f"/listings/{page.pk}/").content.decode())[0]


def test_a_change_made_while_the_copy_was_read_keeps_it_out_of_the_cache(buyer, seller_listings, monkeypatch):
    """The rows were read before the sale: a copy filed with them must not count as current."""
    page, shown = seller_listings[0], seller_listings[-1]
    read = more_from_seller.seller_newest_on_sale

    def read_then_sell(**kwargs):
        rows = read(**kwargs)
        if any(row.pk == shown.pk and row.status == ListingStatus.ACTIVE for row in rows):
            listing_mark_sold(listing_id=shown.pk, buyer=UserFactory())
        return rows

    monkeypatch.setattr(more_from_seller, "seller_newest_on_sale", read_then_sell)
    assert shown.pk in more_shown(buyer, page)  # drawn from the rows read before the sale
    monkeypatch.setattr(more_from_seller, "seller_newest_on_sale", read)
    assert shown.pk not in more_shown(buyer, page)


def test_the_copy_holds_listings_and_stubs_only_nothing_of_the_seller_or_the_visitor(seller_listings):
    page = seller_listings[0]
    visitor = UserFactory(username="copy_visitor_name")
    client = Client()
    client.force_login(visitor)
    more_shown(client, page)
    keys, _versions, rows = cache.get(more_from_seller.copy_key(page.seller_id, 5))
    assert keys[0] == more_from_seller.seller_listings_key(page.seller_id)
    assert all("seller" not in row._state.fields_cache and "stub" in row._state.fields_cache for row in rows)
    filed = pickle.dumps(rows)
    for secret in (visitor.username.encode(), page.seller.password.encode(), page.seller.email.encode()):
        assert secret not in filed


def test_a_listing_page_runs_as_many_queries_for_60_listings_of_the_seller_as_for_6(buyer, seller_listings):
    def queries_of_a_miss(listing) -> int:
        cache.clear()  # every copy gone: the page and its parts are read afresh
        with CaptureQueriesContext(connection) as captured:
            assert buyer.get(f"/listings/{listing.pk}/").status_code == 200
        return len(captured.captured_queries)

    few = queries_of_a_miss(seller_listings[0])
    ListingFactory.create_batch(54, seller=seller_listings[0].seller)
    assert queries_of_a_miss(seller_listings[0]) == few


def test_the_seller_s_new_name_shows_on_their_other_listing_pages(buyer, seller_listings):
    page, other = seller_listings[0], seller_listings[1]
    more_shown(buyer, page)
    seller = page.seller
    seller.first_name, seller.last_name = "Renamed", "Seller"
    seller.save()
    for listing in (page, other):
        assert "Renamed" in buyer.get(f"/listings/{listing.pk}/").content.decode()


def test_with_the_cache_off_the_page_reads_the_seller_s_listings_each_time(buyer, seller_listings, settings):
    settings.PAGE_CACHE_SECONDS = 0
    page = seller_listings[0]
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            shown = more_shown(buyer, page)
        assert seller_listing_reads(captured) == 1
    assert shown == [pk for pk in newest_first(seller_listings) if pk != page.pk][:4]


@pytest.mark.parametrize("count", [1, 5, 20])
def test_the_seller_s_newest_on_sale_are_what_the_orm_reads(count, now):
    """seller_newest_on_sale's SQL of its own gives the rows, order and values of the ORM's
    select_related("stub").available_now(): lapsed reservations in, live ones, sold, withdrawn
    and drafts out, other sellers' never."""
    seller = SellerFactory()
    hour = datetime.timedelta(hours=1)
    holder = UserFactory()
    for status, until in [
        (ListingStatus.ACTIVE, None), (ListingStatus.ACTIVE, None), (ListingStatus.RESERVED, now + hour),
        (ListingStatus.RESERVED, now - hour), (ListingStatus.RESERVED, now), (ListingStatus.SOLD, None),
        (ListingStatus.WITHDRAWN, None), (ListingStatus.DRAFT, None), (ListingStatus.ACTIVE, None),
    ]:
        held = {"reserved_by": holder, "reserved_until": until} if status == ListingStatus.RESERVED else {}
        ListingFactory(seller=seller, status=status, **held)
    ListingFactory()  # another seller's
    Listing.objects.filter(seller=seller).update(created_at=now)  # the same time: ordered by id

    read = seller_newest_on_sale(seller_id=seller.pk, count=count, now=now)
    orm = list(Listing.objects.select_related("stub").filter(seller_id=seller.pk).available_now(now)
               .order_by("-created_at", "-id")[:count])

    assert [listing.pk for listing in read] == [listing.pk for listing in orm]
    assert len(read) == min(count, 5)  # three on sale, two lapsed (the one lapsing now too)
    for mine, theirs in zip(read, orm, strict=True):
        assert model_to_values(mine) == model_to_values(theirs)
        assert model_to_values(mine.stub) == model_to_values(theirs.stub)


def model_to_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}
