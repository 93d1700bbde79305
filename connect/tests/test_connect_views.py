"""The onboarding routes: who may call them, what they answer, and how Stripe failures look."""

import pytest

from accounts.models import StripeAccountStatus
from accounts.tests.factories import NewSellerFactory, SellerFactory, UserFactory
from connect import services as connect
from payments.models import AuditEvent

pytestmark = pytest.mark.django_db

ONBOARD = "/payments/connect/onboard/"
RETURN = "/payments/onboard/return/"
REFRESH = "/payments/onboard/refresh/"
STATUS = "/payments/connect/status/"
BALANCE = "/payments/connect/balance/"
EXPRESS = "/payments/connect/dashboard/"
JSON = {"HTTP_ACCEPT": "application/json"}
# What a browser sends for a navigation or a form post; without it /payments/ errors answer JSON.
BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def started_seller(stripe_sandbox, *, finished=False):
    seller = NewSellerFactory()
    connect.seller_start_onboarding(user=seller)
    if finished:
        stripe_sandbox.complete_onboarding(seller.stripe_account_id)
    return seller


# -- anonymous and strangers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("post", ONBOARD), ("get", RETURN), ("get", REFRESH), ("get", EXPRESS)]
)
def test_anonymous_visitors_are_sent_to_log_in_on_browser_routes(client, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    ("method", "path"), [("post", ONBOARD), ("get", STATUS), ("get", BALANCE), ("get", EXPRESS)]
)
def test_anonymous_json_callers_get_a_403_json_error(client, method, path):
    response = getattr(client, method)(path, **JSON)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("path", [STATUS, BALANCE])
def test_a_buyer_who_is_not_a_seller_is_refused_on_json_routes_with_a_clear_message(client, path):
    client.force_login(UserFactory())

    response = client.get(path)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_seller"
    assert "Only sellers" in response.json()["error"]["message"]


def test_a_buyer_who_is_not_a_seller_gets_a_page_saying_so_on_the_express_dashboard_route(client):
    client.force_login(UserFactory())

    response = client.get(EXPRESS, **BROWSER)

    assert response.status_code == 403
    assert b"Only sellers have a Stripe account" in response.content


def test_a_seller_without_an_account_gets_a_409_on_balance(client):
    client.force_login(NewSellerFactory())

    response = client.get(BALANCE)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_stripe_account"


def test_a_seller_without_an_account_gets_a_409_page_on_the_express_dashboard_route(client):
    client.force_login(NewSellerFactory())

    response = client.get(EXPRESS)

    assert response.status_code == 409
    assert b"not started Stripe onboarding" in response.content


def test_there_is_no_way_to_name_another_sellers_account(client, stripe_sandbox):
    other = started_seller(stripe_sandbox, finished=True)
    me = started_seller(stripe_sandbox)
    client.force_login(me)

    response = client.get(STATUS, {"account": other.stripe_account_id, "account_id": other.stripe_account_id})

    assert response.json()["account_id"] == me.stripe_account_id


@pytest.mark.parametrize("path", [ONBOARD])
def test_onboard_refuses_get(client, path):
    client.force_login(UserFactory())
    assert client.get(path).status_code == 405


@pytest.mark.parametrize("path", [RETURN, REFRESH, STATUS, BALANCE, EXPRESS])
def test_read_routes_refuse_post(client, path):
    client.force_login(SellerFactory())
    assert client.post(path).status_code == 405


# -- onboarding ---------------------------------------------------------------------------------


def test_onboard_makes_a_buyer_a_seller_and_redirects_303_to_a_fresh_account_link(client, stripe_sandbox):
    user = UserFactory()
    client.force_login(user)

    response = client.post(ONBOARD)

    assert response.status_code == 303
    assert response["Location"].startswith(stripe_sandbox.public_url + "/_sandbox/onboarding/")
    user.refresh_from_db()
    assert user.is_seller and user.stripe_account_id
    assert user.stripe_account_status == StripeAccountStatus.PENDING


def test_onboard_answers_json_with_the_link_when_asked(client, stripe_sandbox):
    client.force_login(UserFactory())

    response = client.post(ONBOARD, **JSON)

    assert response.status_code == 200
    assert response.json()["url"].startswith(stripe_sandbox.public_url + "/_sandbox/onboarding/")


def test_the_account_link_returns_to_this_site(client, stripe_sandbox, settings):
    settings.SITE_URL = "http://testserver"  # the links go back to SITE_URL
    user = UserFactory()
    client.force_login(user)
    link = client.post(ONBOARD)["Location"]

    submitted = stripe_sandbox.request("POST", link, {"first_name": "Ada"})

    assert submitted.status == 302
    assert submitted.header("Location") == "http://testserver/payments/onboard/return/"


def test_a_second_onboard_reuses_the_account(client, stripe_sandbox):
    user = UserFactory()
    client.force_login(user)
    first = client.post(ONBOARD)["Location"]
    account_id = type(user).objects.get(pk=user.pk).stripe_account_id

    second = client.post(ONBOARD)["Location"]

    assert first != second
    assert type(user).objects.get(pk=user.pk).stripe_account_id == account_id
    assert AuditEvent.objects.filter(action="stripe.account.create").count() == 1


def test_onboard_is_rate_limited(client, stripe_sandbox):
    client.force_login(UserFactory())
    statuses = [client.post(ONBOARD).status_code for _ in range(12)]

    assert statuses[:10] == [303] * 10
    assert statuses[10:] == [429, 429]


def test_return_rereads_the_account_and_shows_payments_enabled(client, stripe_sandbox):
    seller = started_seller(stripe_sandbox, finished=True)
    client.force_login(seller)

    response = client.get(RETURN, follow=True)

    assert response.redirect_chain[-1][0] == "/dashboard/"
    seller.refresh_from_db()
    assert seller.can_accept_payments
    assert "you can now accept payments" in response.content.decode()


def test_return_is_not_trusted_on_its_own(client, stripe_sandbox):
    seller = started_seller(stripe_sandbox)  # never submitted the form
    client.force_login(seller)

    response = client.get(RETURN, follow=True)

    seller.refresh_from_db()
    assert not seller.can_accept_payments
    assert seller.stripe_account_status == StripeAccountStatus.PENDING
    assert "Onboarding is not finished yet" in response.content.decode()


def test_return_with_requirements_left_says_what_is_missing(client, stripe_sandbox):
    seller = started_seller(stripe_sandbox)
    stripe_sandbox.complete_onboarding(seller.stripe_account_id, leave_due=True)
    client.force_login(seller)

    response = client.get(RETURN, follow=True)

    page = response.content.decode()
    assert "A photo of your ID document" in page
    assert "Your government ID number" in page


def test_return_for_someone_who_never_started_goes_to_the_dashboard(client):
    client.force_login(UserFactory())

    response = client.get(RETURN)

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_refresh_makes_a_new_link_and_redirects_to_it(client, stripe_sandbox):
    seller = started_seller(stripe_sandbox)
    client.force_login(seller)

    response = client.get(REFRESH)

    assert response.status_code == 302
    assert response["Location"].startswith(stripe_sandbox.public_url + "/_sandbox/onboarding/")
    assert stripe_sandbox.request("GET", response["Location"]).status == 200


def test_an_expired_link_sends_the_seller_to_refresh_which_gives_a_working_one(
    client, stripe_sandbox, settings
):
    settings.SITE_URL = "http://testserver"  # the links go back to SITE_URL
    client.force_login(UserFactory())
    link = client.post(ONBOARD)["Location"]
    stripe_sandbox.advance_time(301)

    expired = stripe_sandbox.request("GET", link)

    assert expired.status == 302
    assert expired.header("Location") == "http://testserver/payments/onboard/refresh/"
    fresh = client.get(REFRESH)["Location"]
    assert fresh != link
    assert stripe_sandbox.request("GET", fresh).status == 200


def test_a_used_link_cannot_be_submitted_twice(client, stripe_sandbox, settings):
    settings.SITE_URL = "http://testserver"  # the links go back to SITE_URL
    client.force_login(UserFactory())
    link = client.post(ONBOARD)["Location"]
    stripe_sandbox.request("POST", link, {})

    again = stripe_sandbox.request("POST", link, {})

    assert again.header("Location") == "http://testserver/payments/onboard/refresh/"


@pytest.mark.parametrize("factory", [UserFactory, NewSellerFactory])
def test_refresh_for_someone_who_never_started_goes_to_the_dashboard(client, factory):
    client.force_login(factory())

    response = client.get(REFRESH)

    assert response["Location"] == "/dashboard/"


# -- status, balance, Express dashboard ---------------------------------------------------------


def test_status_json_for_an_enabled_seller(client, stripe_sandbox):
    seller = started_seller(stripe_sandbox, finished=True)
    connect.seller_refresh_from_stripe(user=seller)
    client.force_login(seller)

    body = client.get(STATUS).json()

    assert body["account_id"] == seller.stripe_account_id
    assert body["status"] == "enabled"
    assert body["charges_enabled"] is True
    assert body["payouts_enabled"] is True
    assert body["details_submitted"] is True
    assert body["requirements_due"] == []
    assert body["requirements_past_due"] == []
    assert body["disabled_reason"] is None
    assert body["can_accept_payments"] is True


def test_status_json_for_a_seller_with_past_due_requirements(client, stripe_sandbox):
    seller = started_seller(stripe_sandbox, finished=True)
    stripe_sandbox.set_requirements(seller.stripe_account_id, past_due=["external_account"])
    connect.seller_refresh_from_stripe(user=seller)
    client.force_login(seller)

    body = client.get(STATUS).json()

    assert body["status"] == "disabled"
    assert body["requirements_past_due"] == ["external_account"]
    assert body["disabled_reason"] == "requirements.past_due"
    assert body["can_accept_payments"] is False


def test_status_json_for_a_seller_who_has_not_started(client):
    client.force_login(NewSellerFactory())

    body = client.get(STATUS).json()

    assert body["account_id"] is None
    assert body["status"] == "none"
    assert body["can_accept_payments"] is False


def test_balance_json(client, stripe_sandbox):
    client.force_login(started_seller(stripe_sandbox, finished=True))

    response = client.get(BALANCE)

    assert response.status_code == 200
    assert response.json() == {"available": {"usd": 0}, "pending": {"usd": 0}}


def test_express_dashboard_redirects_to_a_fresh_login_link(client, stripe_sandbox):
    seller = started_seller(stripe_sandbox, finished=True)
    connect.seller_refresh_from_stripe(user=seller)
    client.force_login(seller)

    first = client.get(EXPRESS)
    second = client.get(EXPRESS)

    assert first.status_code == 302
    assert first["Location"].startswith(stripe_sandbox.public_url + "/_sandbox/dashboard/")
    assert first["Location"] != second["Location"]


# -- Stripe failing -----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"exception": "timeout"}])
def test_stripe_failing_on_onboard_shows_a_page_with_a_retry_button_not_a_500(client, stripe_sandbox, fault):
    client.force_login(UserFactory())
    stripe_sandbox.fail_next("/v1/accounts", times=3, **fault)

    response = client.post(ONBOARD, **BROWSER)

    assert response.status_code == 502
    page = response.content.decode()
    assert "Our payment provider did not answer" in page
    assert f'<form method="post" action="{ONBOARD}">' in page
    assert "Try again" in page


def test_stripe_failing_on_onboard_answers_json_when_json_was_asked(client, stripe_sandbox):
    client.force_login(UserFactory())
    stripe_sandbox.fail_next("/v1/accounts", times=3, exception="timeout")

    response = client.post(ONBOARD, **JSON)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_provider_error"


def test_stripe_failing_on_return_shows_a_retry_link_to_the_return_page(client, stripe_sandbox):
    seller = started_seller(stripe_sandbox, finished=True)
    client.force_login(seller)
    stripe_sandbox.fail_next(f"/v1/accounts/{seller.stripe_account_id}", times=3, status=500)

    response = client.get(RETURN, **BROWSER)

    assert response.status_code == 502
    assert f'href="{RETURN}"' in response.content.decode()
    seller.refresh_from_db()
    assert not seller.can_accept_payments


def test_stripe_failing_on_refresh_and_express_dashboard_shows_retry_pages(client, stripe_sandbox):
    seller = started_seller(stripe_sandbox, finished=True)
    connect.seller_refresh_from_stripe(user=seller)
    client.force_login(seller)
    stripe_sandbox.fail_next("/v1/", times=6, exception="timeout")

    for path in (REFRESH, EXPRESS):
        response = client.get(path, **BROWSER)
        assert response.status_code == 502
        assert f'href="{path}"' in response.content.decode()


def test_stripe_failing_on_balance_is_a_json_502(client, stripe_sandbox):
    client.force_login(started_seller(stripe_sandbox, finished=True))
    stripe_sandbox.fail_next("/v1/balance", times=3, status=500)

    response = client.get(BALANCE)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_provider_error"
