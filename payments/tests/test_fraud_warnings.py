"""Radar's early fraud warnings end to end: Stripe's 5423 test card raises one on the seller's
account, `radar.early_fraud_warning.created` arrives on the Connect endpoint through the real
view, staff see it as a to-do and Finance refunds in full from it (Stripe then marks it no longer
actionable); the seller is emailed once and sees it on the dashboard and the order page."""

import pytest
from django.core import mail

from payments.models import EarlyFraudWarning, OrderStatus, RefundReason
from payments.services.webhook_setup import webhook_event_types
from payments.staff import FINANCE, SUPPORT
from payments.tests.factories import staff_member
from payments.tests.webhook_support import CONNECT_PATH, make_event, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def warned_order(order_paid_with):
    return order_paid_with("pm_card_createIssuerFraudRecord")


def test_the_connect_endpoint_subscribes_to_early_fraud_warnings():
    assert {"radar.early_fraud_warning.created", "radar.early_fraud_warning.updated"} <= set(
        webhook_event_types())


def test_the_5423_card_stores_a_warning_and_tells_the_seller_once(warned_order, webhook_sandbox, client):
    warning = EarlyFraudWarning.objects.get(order=warned_order)
    assert warning.actionable and warning.fraud_type == "made_with_stolen_card"
    assert warning.stripe_warning_id.startswith("issfr_") and warning.charge_id.startswith("ch_")
    assert warned_order.status == OrderStatus.PAID
    told = [m for m in mail.outbox if "reported as fraud" in m.subject]
    assert [m.to for m in told] == [["seller@example.com"]]
    assert "a stolen card was used" in told[0].body and "do not ship" in told[0].body

    (created,) = webhook_sandbox.events(type="radar.early_fraud_warning.created")
    assert post_event(client, created, path=CONNECT_PATH).status_code == 200  # redelivered
    again = make_event("radar.early_fraud_warning.updated", {"id": warning.stripe_warning_id},
                       account=warned_order.stripe_account_id)
    assert post_event(client, again, path=CONNECT_PATH).status_code == 200
    assert EarlyFraudWarning.objects.count() == 1
    assert len([m for m in mail.outbox if "reported as fraud" in m.subject]) == 1


def test_the_seller_sees_the_warning_on_the_dashboard_and_the_order_page(warned_order, client):
    client.force_login(warned_order.seller)

    dashboard = client.get("/dashboard/").content.decode()
    page = client.get(f"/orders/{warned_order.pk}/").content.decode()

    assert 'id="fraud-warnings"' in dashboard and f"Order #{warned_order.pk}" in dashboard
    assert "reported this payment as fraud" in page and "A stolen card was used" in page


def test_finance_refunds_in_full_from_the_to_do_and_the_warning_is_settled(
    warned_order, webhook_sandbox, deliver_all, client
):
    finance = staff_member(FINANCE)
    client.force_login(finance)
    warning = EarlyFraudWarning.objects.get(order=warned_order)

    todo = client.get("/admin/payments/earlyfraudwarning/").content.decode()
    confirm = client.get(f"/admin/payments/earlyfraudwarning/{warning.pk}/refund/").content.decode()
    assert "Refund in full" in todo and f"#{warned_order.pk}" in todo
    assert "Refund $50.00 in full?" in confirm and "no chargeback follows" in confirm

    response = client.post(f"/admin/payments/earlyfraudwarning/{warning.pk}/refund/")
    webhook_sandbox.settle_refunds()
    deliver_all()

    assert response.status_code == 302
    warned_order.refresh_from_db()
    warning.refresh_from_db()
    (refund,) = warned_order.refunds.all()
    assert refund.amount_cents == warned_order.amount_cents and refund.reason == RefundReason.FRAUDULENT
    assert warned_order.status == OrderStatus.REFUNDED
    assert not warning.actionable  # Stripe's radar.early_fraud_warning.updated said so
    assert "Nothing" in client.get("/admin/payments/earlyfraudwarning/").content.decode()


def test_support_sees_the_to_do_but_cannot_use_the_refund_route(warned_order, client):
    client.force_login(staff_member(SUPPORT))
    warning = EarlyFraudWarning.objects.get(order=warned_order)

    todo = client.get("/admin/payments/earlyfraudwarning/")
    assert todo.status_code == 200 and "Refund in full (Finance)" in todo.content.decode()
    assert "/refund/" not in todo.content.decode()
    assert client.get(f"/admin/payments/earlyfraudwarning/{warning.pk}/refund/").status_code == 403
    assert client.post(f"/admin/payments/earlyfraudwarning/{warning.pk}/refund/").status_code == 403
    assert not warned_order.refunds.exists()
