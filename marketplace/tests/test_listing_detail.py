from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import NewSellerFactory, UserFactory
from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory, StubFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing():
    stub = StubFactory(event_name="Woodstock", performer="Jimi Hendrix")
    return ListingFactory(price_cents=4200, stub=stub)


def test_anonymous_visitor_sees_the_stub_and_a_buy_button(client, listing):
    response = client.get(f"/listings/{listing.pk}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "Woodstock" in content and "Jimi Hendrix" in content and "$42.00" in content
    assert f'href="/checkout/{listing.pk}/"' in content
    assert f"/sellers/{listing.seller.username}/" in content
    assert "log in" in content.lower()
    assert "Withdraw" not in content


def test_buyer_sees_a_buy_button(client, listing):
    client.force_login(UserFactory())
    content = client.get(f"/listings/{listing.pk}/").content.decode()
    assert f'href="/checkout/{listing.pk}/"' in content and "Available" in content


def test_owner_sees_edit_and_withdraw_and_no_buy_button(client, listing):
    client.force_login(listing.seller)
    content = client.get(f"/listings/{listing.pk}/").content.decode()
    assert f"/listings/{listing.pk}/edit/" in content
    assert f"/listings/{listing.pk}/withdraw/" in content
    assert "/checkout/" not in content
    assert "your own listing" in content


def test_a_reserved_listing_says_so_in_plain_words(client):
    listing = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=UserFactory(),
        reserved_until=timezone.now() + timedelta(minutes=10),
    )
    content = client.get(f"/listings/{listing.pk}/").content.decode()
    assert "Another buyer is paying" in content and "/checkout/" not in content


def test_a_listing_of_a_seller_without_payments_explains_why_it_cannot_be_bought(client):
    listing = ListingFactory(seller=NewSellerFactory())
    content = client.get(f"/listings/{listing.pk}/").content.decode()
    assert "not finished setting up payments" in content and "/checkout/" not in content


def test_a_sold_listing_is_still_visible_but_not_buyable(client):
    listing = ListingFactory(status=ListingStatus.SOLD)
    response = client.get(f"/listings/{listing.pk}/")
    assert response.status_code == 200
    assert "already been sold" in response.content.decode()


@pytest.mark.parametrize("status", [ListingStatus.WITHDRAWN, ListingStatus.DRAFT])
def test_hidden_listings_are_not_found_for_strangers_and_anonymous(client, status):
    listing = ListingFactory(status=status)
    assert client.get(f"/listings/{listing.pk}/").status_code == 404
    client.force_login(UserFactory())
    assert client.get(f"/listings/{listing.pk}/").status_code == 404


@pytest.mark.parametrize("status", [ListingStatus.WITHDRAWN, ListingStatus.DRAFT])
def test_the_owner_still_sees_their_hidden_listing(client, status):
    listing = ListingFactory(status=status)
    client.force_login(listing.seller)
    assert client.get(f"/listings/{listing.pk}/").status_code == 200


def test_an_unknown_listing_is_not_found(client):
    response = client.get("/listings/999999/")
    assert response.status_code == 404
    assert "No such listing" in response.content.decode()


def _gallery_reads(captured) -> int:
    queries = captured.captured_queries
    return sum(query["sql"].startswith('SELECT "marketplace_stubphoto"') for query in queries)


def test_a_cover_alone_costs_no_gallery_query_and_more_photos_are_all_shown(client, listing):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from marketplace.models import PhotoState, StubPhoto

    client.cookies["sessionid"] = "no-such-session"  # never the anonymous page cache: a miss each time
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert _gallery_reads(captured) == 0  # whether there are more photos came with the listing
    assert "gallery-thumbs" not in page
    for position, name in enumerate(("second", "third"), start=1):
        StubPhoto.objects.create(
            stub=listing.stub, image=f"stubs/{name}.jpg", thumbnail=f"stubs/thumbs/{name}.jpg",
            state=PhotoState.READY, position=position,
        )
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert _gallery_reads(captured) == 1
    assert "stubs/thumbs/second.jpg" in page and "stubs/thumbs/third.jpg" in page


def test_a_photo_added_to_a_cached_listing_page_shows_at_once(client, listing):
    from marketplace.models import PhotoState, StubPhoto

    buyer = UserFactory()
    client.force_login(buyer)
    assert "gallery-thumbs" not in client.get(f"/listings/{listing.pk}/").content.decode()  # filed
    StubPhoto.objects.create(stub=listing.stub, image="stubs/late.jpg", thumbnail="stubs/thumbs/late.jpg",
                             state=PhotoState.READY, position=1)
    assert "stubs/late.jpg" in client.get(f"/listings/{listing.pk}/").content.decode()


def test_the_pages_own_query_reads_what_the_orm_reads_and_nothing_later(django_assert_num_queries, now):
    """listing_for_page writes its SQL once instead of asking the ORM: the same values, the same
    related objects, and no field the page reads is left for a query of its own."""
    from marketplace.models import Listing, StubPhoto
    from marketplace.selectors import LISTING_PAGE_FIELDS, listing_for_page

    holder = UserFactory()
    listing = ListingFactory(
        status=ListingStatus.RESERVED, reserved_by=holder, reserved_until=now + timedelta(minutes=5),
        reserved_at=now, shipping_cents=250, offers_enabled=True, offer_minimum_cents=1000,
        stub=StubFactory(photo="stubs/a.jpg", thumbnail="stubs/thumbs/a.jpg"),
    )
    StubPhoto.objects.create(stub=listing.stub, image="stubs/b.jpg", position=1)
    by_orm = Listing.objects.select_related("stub", "seller").get(pk=listing.pk)
    with django_assert_num_queries(1):
        read = listing_for_page(listing_id=str(listing.pk), viewer=holder)
        assert read.has_more_photos is True
        objects = {"listing": (read, by_orm), "stub": (read.stub, by_orm.stub),
                   "seller": (read.seller, by_orm.seller)}
        for name, fields in LISTING_PAGE_FIELDS:
            ours, theirs = objects[name]
            for field_name in fields:
                assert getattr(ours, field_name) == getattr(theirs, field_name), (name, field_name)
        assert read.seller.can_accept_payments and read.seller.display_name == by_orm.seller.display_name
        assert read.stub.photo.url == by_orm.stub.photo.url
        assert read.reservation_is_live(now)
        assert read.get_effective_status_display() == by_orm.get_effective_status_display()
    StubPhoto.objects.all().delete()
    assert listing_for_page(listing_id=listing.pk, viewer=None).has_more_photos is False


@pytest.mark.parametrize("listing_id", ["0", "-1", "abc", None, str(2**63), "9" * 40])
def test_an_id_no_listing_can_have_is_not_found(listing_id):
    from core.errors import NotFound
    from marketplace.selectors import listing_for_page

    with pytest.raises(NotFound):
        listing_for_page(listing_id=listing_id, viewer=None)
