import pytest

from accounts.tests.factories import NewSellerFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_staff_see_each_sellers_stripe_status_in_the_user_list(staff_client):
    ready = SellerFactory(stripe_account_id="acct_ready0000001")
    NewSellerFactory(username="just-started")

    response = staff_client.get("/admin/accounts/user/")

    assert response.status_code == 200
    assert ready.username in response.text
    assert "just-started" in response.text
    assert "Enabled" in response.text


def test_staff_can_filter_sellers_by_stripe_status(staff_client):
    SellerFactory(username="enabled-seller")
    NewSellerFactory(username="pending-seller", stripe_account_status="pending")

    response = staff_client.get("/admin/accounts/user/?is_seller__exact=1&stripe_account_status=pending")

    assert response.status_code == 200
    assert "pending-seller" in response.text
    assert "enabled-seller" not in response.text


def test_staff_can_search_by_stripe_account_id(staff_client):
    SellerFactory(username="findme", stripe_account_id="acct_searchable01")

    response = staff_client.get("/admin/accounts/user/?q=acct_searchable01")

    assert "findme" in response.text


def test_the_stripe_fields_are_read_only_on_the_change_page(staff_client):
    seller = SellerFactory()

    response = staff_client.get(f"/admin/accounts/user/{seller.pk}/change/")

    assert response.status_code == 200
    assert seller.stripe_account_id in response.text
    assert 'name="stripe_account_id"' not in response.text
    assert 'name="is_seller"' in response.text


def test_a_non_staff_user_cannot_open_the_user_admin(client):
    client.force_login(SellerFactory())

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert "/admin/login/" in response.url
