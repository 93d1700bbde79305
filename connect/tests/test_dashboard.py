"""The seller dashboard /dashboard/: each onboarding state, balance, listings, sales, chart."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import NewSellerFactory, SellerFactory, UserFactory
from connect import services as connect
from connect.tests.support import DASHBOARD, dashboard_page, sandbox_seller_new
from marketplace.models import ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import OrderStatus
from payments.tests.factories import OrderFactory, PaidOrderFactory

pytestmark = pytest.mark.django_db

def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


def test_a_buyer_sees_an_invitation_to_become_a_seller(client):
    page = dashboard_page(client, UserFactory())

    assert "You are not a seller yet" in page
    assert 'action="/payments/connect/onboard/"' in page
    assert "Become a seller with Stripe" in page
    assert "pays Stripe’s processing fees and dispute fees itself" in page


def test_a_new_seller_is_told_to_start_onboarding_and_how_direct_charges_work(client):
    page = dashboard_page(client, NewSellerFactory())

    assert "Start Stripe onboarding" in page
    assert 'action="/payments/connect/onboard/"' in page
    assert "Stub Collector keeps a platform fee" in page
    assert "pays Stripe’s processing fees and dispute fees itself" in page
    assert "Your Stripe account pays" not in page
    assert "Refunds and disputed amounts (chargebacks) are taken from your Stripe balance" in page
    assert "Balance" not in page  # no account, nothing to read from Stripe


def test_a_seller_who_stopped_halfway_sees_continue_and_what_is_still_due(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox, finished=False)

    page = dashboard_page(client, seller)

    assert "Continue onboarding" in page
    assert "Continue with Stripe" in page
    assert "A bank account or debit card for payouts" in page
    assert "Your date of birth" in page
    assert "individual.dob.day" not in page
    assert "Open your Stripe dashboard" not in page
    # A fresh Express account lists everything as past due; before the form that is not "overdue".
    assert "Overdue" not in page


def test_a_restricted_seller_sees_what_stripe_still_needs(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    stripe_sandbox.set_requirements(
        seller.stripe_account_id,
        currently_due=["individual.id_number"],
        charges_enabled=True,
        payouts_enabled=False,
    )
    connect.seller_refresh_from_stripe(user=seller)

    page = dashboard_page(client, seller)

    assert "Almost there" in page
    assert "Your government ID number" in page
    assert "Open your Stripe dashboard" in page


def test_a_seller_with_past_due_requirements_sees_payments_paused_and_the_overdue_items(
    client, stripe_sandbox
):
    seller = sandbox_seller_new(stripe_sandbox)
    stripe_sandbox.set_requirements(seller.stripe_account_id, past_due=["individual.verification.document"])
    connect.seller_refresh_from_stripe(user=seller)

    page = dashboard_page(client, seller)

    assert "Payments paused" in page
    assert "Overdue" in page
    assert "A photo of your ID document" in page
    assert "Stripe needs overdue information" in page


def test_an_enabled_seller_sees_payments_enabled_balance_and_the_express_dashboard_button(
    client, stripe_sandbox
):
    seller = sandbox_seller_new(stripe_sandbox)

    page = dashboard_page(client, seller)

    assert "Payments enabled" in page
    assert 'href="/payments/connect/dashboard/"' in page
    assert "Available (USD)" in page
    assert "Pending (USD)" in page
    assert "$0.00" in page
    assert "Start Stripe onboarding" not in page


@pytest.mark.parametrize("fault", [{"status": 500}, {"exception": "timeout"}])
def test_the_page_still_renders_when_stripe_fails_with_a_balance_unavailable_note(
    client, stripe_sandbox, fault
):
    seller = sandbox_seller_new(stripe_sandbox)
    stripe_sandbox.fail_next("/v1/balance", times=3, **fault)

    page = dashboard_page(client, seller)

    assert "Your balance is unavailable right now" in page
    assert 'href="/dashboard/">Retry</a>' in page
    assert "Payments enabled" in page


def test_listings_are_grouped_by_status_with_quick_actions(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    active = ListingFactory(seller=seller, stub__event_name="Active show")
    withdrawn = ListingFactory(seller=seller, status=ListingStatus.WITHDRAWN, stub__event_name="Old show")
    ListingFactory(stub__event_name="Somebody else's show")

    page = dashboard_page(client, seller)

    assert "Active show" in page and "Old show" in page
    assert "Somebody else" not in page
    assert f'href="/listings/{active.pk}/edit/"' in page
    assert f'action="/listings/{active.pk}/withdraw/"' in page
    assert f'action="/listings/{withdrawn.pk}/withdraw/"' not in page
    assert page.index(">Active <") < page.index(">Withdrawn <")


def test_sales_show_what_to_do_next_with_a_ship_form_for_paid_orders(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    paid = PaidOrderFactory(listing__seller=seller, listing__stub__event_name="Paid show")
    shipped = OrderFactory(
        listing__seller=seller, status=OrderStatus.SHIPPED, tracking_number="1Z999", reserved_until=None
    )
    PaidOrderFactory(listing__stub__event_name="Not my sale")

    page = dashboard_page(client, seller)

    assert "Paid show" in page and "Not my sale" not in page
    assert f'action="/payments/orders/{paid.pk}/ship/"' in page
    assert 'name="tracking_number"' in page
    assert f'action="/payments/orders/{shipped.pk}/ship/"' not in page
    assert "Tracking: 1Z999" in page
    assert "ship the stub" in page


def test_the_chart_counts_only_this_sellers_paid_sales_of_the_last_30_days(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    PaidOrderFactory(listing__seller=seller, listing__price_cents=2500)
    PaidOrderFactory(listing__seller=seller, listing__price_cents=1500)
    PaidOrderFactory(
        listing__seller=seller,
        listing__price_cents=9900,
        paid_at=timezone.now() - datetime.timedelta(days=40),
    )
    OrderFactory(listing__seller=seller, listing__price_cents=7700)  # not paid
    PaidOrderFactory(listing__price_cents=5000)  # another seller

    page = dashboard_page(client, seller)

    assert '<svg class="chart"' in page
    assert "$40.00 from 2 sales in the last 30 days" in page


def test_the_page_has_no_inline_styles_or_scripts_for_the_csp(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    PaidOrderFactory(listing__seller=seller)

    page = dashboard_page(client, seller)

    assert "style=" not in page
    assert "<script>" not in page


def test_query_count_does_not_grow_with_orders_and_listings(
    client, stripe_sandbox, django_assert_num_queries
):
    seller = sandbox_seller_new(stripe_sandbox)
    client.force_login(seller)
    PaidOrderFactory.create_batch(2, listing__seller=seller)
    client.get(DASHBOARD)  # the payouts panel's Stripe reads are cached from here on
    with CaptureQueriesContext(connection) as few:
        assert client.get(DASHBOARD).status_code == 200

    PaidOrderFactory.create_batch(18, listing__seller=seller)
    ListingFactory.create_batch(10, seller=seller)

    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(DASHBOARD)
    assert response.content.decode().count('class="order-row') == 20


def test_a_seller_factory_account_unknown_to_stripe_still_gets_a_page(client, stripe_sandbox):
    page = dashboard_page(client, SellerFactory())

    assert "Your balance is unavailable right now" in page


def test_a_seller_who_cannot_take_payments_is_told_their_listings_cannot_be_bought(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox, finished=False)
    ListingFactory(seller=seller)

    page = dashboard_page(client, seller)

    assert "Buyers cannot pay for your listings until payments are enabled" in page


def test_an_enabled_seller_gets_no_such_warning(client, stripe_sandbox):
    seller = sandbox_seller_new(stripe_sandbox)
    ListingFactory(seller=seller)

    assert "Buyers cannot pay for your listings" not in dashboard_page(client, seller)
