"""Staff handle orders, payments, refunds and disputes in the admin; nobody else gets in."""

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory
from payments.models import AuditEvent, OrderStatus
from payments.services.audit import audit_record
from payments.tests.factories import OrderFactory, PaymentFactory
from payments.tests.webhook_support import deliver, endpoints_register, pay, sandbox_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def disputed_payment():
    payment = PaymentFactory(order__status=OrderStatus.DISPUTED, dispute_id="dp_test123",
                             dispute_status="needs_response", three_d_secure_authenticated=True)
    audit_record(action="order.transition", order=payment.order, from_status="paid", to_status="disputed")
    return payment


@pytest.fixture
def paid_order(stripe_sandbox, client):
    endpoints_register(stripe_sandbox, client)
    order = sandbox_order(stripe_sandbox)
    pay(order)
    deliver(stripe_sandbox)
    order.refresh_from_db()
    return order


@pytest.mark.parametrize("model", ["order", "payment", "auditevent"])
def test_staff_can_open_each_changelist_and_search_it(client, staff, disputed_payment, model):
    assert client.get(f"/admin/payments/{model}/").status_code == 200
    assert client.get(f"/admin/payments/{model}/", {"q": "dp_test123"}).status_code == 200


def test_the_order_page_shows_its_payment_dispute_and_audit_trail(client, staff, disputed_payment):
    response = client.get(f"/admin/payments/order/{disputed_payment.order.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "dp_test123 (needs_response)" in page
    assert disputed_payment.payment_intent_id in page
    assert "card issuer (3-D Secure)" in page
    assert "order.transition" in page
    assert f"/admin/payments/order/{disputed_payment.order.pk}/refund/" in page


def test_the_payment_and_audit_pages_open(client, staff, disputed_payment):
    event = AuditEvent.objects.first()

    assert client.get(f"/admin/payments/payment/{disputed_payment.pk}/change/").status_code == 200
    assert client.get(f"/admin/payments/auditevent/{event.pk}/change/").status_code == 200


def test_the_changelists_filter_by_status(client, staff, disputed_payment):
    OrderFactory()

    response = client.get("/admin/payments/order/", {"status__exact": "disputed"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_money_and_status_cannot_be_edited_and_orders_cannot_be_added_or_deleted(
    client, staff, disputed_payment
):
    order = disputed_payment.order
    response = client.get(f"/admin/payments/order/{order.pk}/change/")
    form_fields = response.context["adminform"].form.fields

    assert "status" not in form_fields and "amount_cents" not in form_fields
    assert "tracking_number" in form_fields
    assert client.get("/admin/payments/order/add/").status_code == 403
    assert client.get(f"/admin/payments/order/{order.pk}/delete/").status_code == 403
    assert client.get("/admin/payments/payment/add/").status_code == 403
    assert client.get("/admin/payments/auditevent/add/").status_code == 403


@pytest.mark.parametrize("who", ["anonymous", "buyer", "seller"])
def test_people_who_are_not_staff_are_sent_to_the_admin_login(client, disputed_payment, who):
    if who != "anonymous":
        order = disputed_payment.order
        client.force_login(order.buyer if who == "buyer" else order.seller)

    for url in ("/admin/payments/order/", f"/admin/payments/order/{disputed_payment.order.pk}/refund/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_order_permissions_cannot_refund(client, paid_order, stripe_sandbox):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)

    assert client.get("/admin/payments/order/").status_code == 200
    response = client.post(f"/admin/payments/order/{paid_order.pk}/refund/", {"amount": "100"})

    assert response.status_code == 403
    assert stripe_sandbox.events(type="refund.created") == []


def test_the_refund_button_refunds_part_of_an_order(client, staff, paid_order, stripe_sandbox):
    url = f"/admin/payments/order/{paid_order.pk}/refund/"
    assert client.get(url).status_code == 200

    response = client.post(url, {"amount": "1999"})
    deliver(stripe_sandbox)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/payments/order/{paid_order.pk}/change/"
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PARTIALLY_REFUNDED
    assert (paid_order.payment.amount_refunded_cents, paid_order.payment.fee_refunded_cents) == (1999, 200)
    audit = AuditEvent.objects.get(order=paid_order, action="order.refund_requested")
    assert audit.actor == staff


def test_the_refund_button_with_no_amount_refunds_everything(client, staff, paid_order, stripe_sandbox):
    client.post(f"/admin/payments/order/{paid_order.pk}/refund/", {"amount": ""})
    deliver(stripe_sandbox)

    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED
    assert paid_order.listing.status == "active"


def test_the_refund_button_refuses_more_than_is_left(client, staff, paid_order, stripe_sandbox):
    response = client.post(f"/admin/payments/order/{paid_order.pk}/refund/", {"amount": "999999"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert stripe_sandbox.events(type="refund.created") == []


def test_the_refund_page_of_an_unpaid_order_says_it_cannot_be_refunded(client, staff):
    order = OrderFactory()

    response = client.get(f"/admin/payments/order/{order.pk}/refund/")

    assert response.status_code == 200
    assert response.context["can_refund"] is False


def test_the_refund_in_full_action_refunds_the_paid_orders_and_reports_the_rest(
    client, staff, paid_order, stripe_sandbox
):
    pending = OrderFactory()

    response = client.post(
        "/admin/payments/order/",
        {"action": "refund_in_full", "_selected_action": [paid_order.pk, pending.pk]},
        follow=True,
    )
    deliver(stripe_sandbox)

    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert "1 refund(s) sent to Stripe." in texts
    assert any(f"#{pending.pk}" in text for text in texts)
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED


def test_the_order_changelist_costs_the_same_queries_for_many_orders(
    client, staff, django_assert_max_num_queries
):
    PaymentFactory.create_batch(3)
    with django_assert_max_num_queries(50) as few:
        client.get("/admin/payments/order/")
    PaymentFactory.create_batch(20)

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/admin/payments/order/").status_code == 200


def test_the_payment_and_audit_changelists_cost_the_same_queries_for_many_rows(
    client, staff, django_assert_max_num_queries
):
    for url in ("/admin/payments/payment/", "/admin/payments/auditevent/"):
        PaymentFactory.create_batch(2)
        audit_record(action="test.row", order=OrderFactory(), actor=staff)
        with django_assert_max_num_queries(50) as few:
            client.get(url)
        for order in OrderFactory.create_batch(10):
            PaymentFactory(order=order)
            audit_record(action="test.row", order=order, actor=staff)

        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(url).status_code == 200
