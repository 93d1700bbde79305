import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command

from marketplace.models import Category, Listing

pytestmark = pytest.mark.django_db


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, "--buyer-password", "buyer-pass", "--staff-password", "staff-pass",
                 stdout=out)
    return out.getvalue()


def test_seed_demo_onboards_sellers_and_lists_stubs_with_pictures_once(stripe_sandbox, client):
    output = seed()

    users = get_user_model().objects
    sellers = users.filter(is_seller=True)
    assert sellers.count() == 5
    assert sum(seller.can_accept_payments for seller in sellers) == 4  # one left halfway on purpose
    halfway = users.get(username="chloe_martin")
    assert halfway.stripe_account_id and not halfway.can_accept_payments
    assert all(seller.seller_bio for seller in sellers)

    listings = Listing.objects.select_related("stub")
    assert listings.count() >= 60
    assert set(listings.values_list("stub__category", flat=True)) == set(Category.values)
    for listing in listings[:5]:
        assert default_storage.exists(listing.stub.photo.name)
        assert default_storage.exists(listing.stub.thumbnail.name)
    assert Listing.objects.purchasable_now().count() >= 60

    assert users.get(username="buyer").check_password("buyer-pass")
    staff = users.get(username="staff")
    assert staff.is_staff and staff.is_superuser and staff.check_password("staff-pass")
    assert "buyer / buyer-pass" in output and "staff / staff-pass" in output

    count = listings.count()
    again = seed()
    assert Listing.objects.count() == count
    assert users.filter(is_seller=True).count() == 5
    assert "already there" in again

    assert client.get("/").context["page"].paginator.count >= 60


def test_seed_demo_without_stripe_creates_everything_and_bulk_listings_share_pictures():
    output = seed("--skip-stripe", "--listings", "250")
    assert "skipped" in output and "Bulk-created 250 listings" in output
    assert Listing.objects.count() >= 60 + 250
    assert not any(user.can_accept_payments for user in get_user_model().objects.filter(is_seller=True))
    bulk = Listing.objects.select_related("stub").order_by("-id")[:250]
    assert len({listing.stub.photo.name for listing in bulk}) <= len(Category.values)


def test_seed_demo_refuses_a_negative_count():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        seed("--skip-stripe", "--listings", "-1")
