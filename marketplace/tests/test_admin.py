import pytest
from django.contrib.auth import get_user_model

from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(staff)
    return client


def test_staff_find_listings_in_admin(staff_client):
    listing = ListingFactory()
    response = staff_client.get("/admin/marketplace/listing/", {"q": listing.stub.event_name[:8]})
    assert response.status_code == 200
    assert listing.stub.event_name in response.content.decode()
    assert staff_client.get(f"/admin/marketplace/listing/{listing.pk}/change/").status_code == 200
    assert staff_client.get("/admin/marketplace/stub/").status_code == 200


def test_staff_withdraw_listings_in_bulk(staff_client):
    active, sold = ListingFactory(), ListingFactory(status=ListingStatus.SOLD)
    response = staff_client.post(
        "/admin/marketplace/listing/",
        {"action": "withdraw_selected", "_selected_action": [active.pk, sold.pk]},
        follow=True,
    )
    assert response.status_code == 200
    active.refresh_from_db()
    sold.refresh_from_db()
    assert active.status == ListingStatus.WITHDRAWN
    assert sold.status == ListingStatus.SOLD
    assert "cannot be withdrawn" in response.content.decode()


def test_the_listing_admin_is_for_staff_only(client):
    assert client.get("/admin/marketplace/listing/").status_code == 302
