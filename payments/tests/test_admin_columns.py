"""Admin's money columns show cents as dollars on every page that lists or shows an amount, the
order link leads to the order, and the to-do filters start on their to-do rather than on all."""

import pytest

from accounts.tests.factories import UserFactory
from marketplace.pricing import format_usd
from payments.models import RefundApprovalStatus
from payments.services.audit import audit_record
from payments.tests.factories import PaymentFactory, RefundApprovalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_the_payment_page_shows_each_amount_in_dollars(client, staff):
    payment = PaymentFactory(order__amount_cents=12345, amount_cents=12345, application_fee_cents=1234)

    page = client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()

    assert "$123.45" in page and "$12.34" in page
    assert format_usd(payment.net_platform_amount_cents) in page
    assert format_usd(payment.seller_net_cents) in page


def test_the_order_page_shows_the_money_read_only_and_the_shipping_address_editable(client, staff):
    order = PaymentFactory(order__amount_cents=4200, amount_cents=4200).order

    page = client.get(f"/admin/payments/order/{order.pk}/change/").content.decode()

    assert "$42.00" in page and format_usd(order.seller_receives_cents) in page
    assert 'name="shipping_city"' in page and 'name="tracking_number"' in page
    assert 'name="amount_cents"' not in page and 'name="paid_at"' not in page


def test_the_approval_list_starts_on_open_requests_and_links_each_to_its_order(client, staff):
    waiting = RefundApprovalFactory(amount_cents=2500)
    RefundApprovalFactory(status=RefundApprovalStatus.DECLINED)

    listing = client.get("/admin/payments/refundapproval/")
    everything = client.get("/admin/payments/refundapproval/", {"status": "all"})

    assert [row.pk for row in listing.context["cl"].result_list] == [waiting.pk]
    assert everything.context["cl"].result_count == 2
    page = listing.content.decode()
    assert f'href="/admin/payments/order/{waiting.order_id}/change/">#{waiting.order_id}</a>' in page
    assert "$25.00" in page


def test_the_audit_list_starts_on_business_events(client, staff):
    order = PaymentFactory().order
    audit_record(action="order.staff_edit", order=order, message="business")
    audit_record(action="stripe.payment_intent.retrieve", order=order, message="plumbing")

    listing = client.get("/admin/payments/auditevent/")
    stripe_calls = client.get("/admin/payments/auditevent/", {"kind": "stripe"})

    assert [event.action for event in listing.context["cl"].result_list] == ["order.staff_edit"]
    assert [event.action for event in stripe_calls.context["cl"].result_list] == [
        "stripe.payment_intent.retrieve"
    ]
