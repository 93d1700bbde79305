"""Staff handle orders, payments, refunds and disputes in the admin; nobody else gets in."""

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory
from marketplace.pricing import format_usd
from payments.models import AuditEvent, OrderStatus, RefundApprovalStatus
from payments.services.audit import audit_record
from payments.tests.factories import OrderFactory, PaymentFactory, RefundApprovalFactory
from payments.tests.webhook_support import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def disputed_payment():
    payment = PaymentFactory(
        order__status=OrderStatus.DISPUTED,
        dispute_id="dp_test123",
        dispute_status="needs_response",
        three_d_secure_authenticated=True,
    )
    audit_record(action="order.transition", order=payment.order, from_status="paid", to_status="disputed")
    return payment


@pytest.mark.parametrize("model", ["order", "payment", "auditevent"])
def test_staff_can_open_each_changelist_and_search_it(client, staff, disputed_payment, model):
    assert client.get(f"/admin/payments/{model}/").status_code == 200
    assert client.get(f"/admin/payments/{model}/", {"q": "dp_test123"}).status_code == 200


def test_the_order_page_shows_its_payment_history_and_stripe_calls_apart(client, staff, disputed_payment):
    audit_record(action="stripe.payment_intent.retrieve", order=disputed_payment.order, message="ok pi_x")
    response = client.get(f"/admin/payments/order/{disputed_payment.order.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert disputed_payment.payment_intent_id in page
    assert "card issuer (3-D Secure)" in page
    assert "Paid → Disputed" in page  # the history speaks in statuses, not codes
    assert "Stripe API calls" in page and "stripe.payment_intent.retrieve" in page
    assert f"/admin/payments/order/{disputed_payment.order.pk}/refund/" not in page  # disputed: no button


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


def test_staff_without_the_refund_permission_see_no_button_or_action_and_a_post_is_refused(
    client, paid_order, stripe_sandbox
):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)

    changelist = client.get("/admin/payments/order/")
    page = client.get(f"/admin/payments/order/{paid_order.pk}/change/").content.decode()
    response = client.post(
        f"/admin/payments/order/{paid_order.pk}/refund/",
        {"amount": "1.00", "reason": "duplicate", "token": "t", "confirm": "1"},
    )
    action = client.post(
        "/admin/payments/order/",
        {
            "action": "refund_in_full",
            "_selected_action": [paid_order.pk],
            "confirm": "1",
            "refund_token": "t",
        },
    )

    assert changelist.status_code == 200
    assert "refund_in_full" not in changelist.content.decode()
    assert "/refund/" not in page
    assert response.status_code == 403
    assert action.status_code in (200, 302)
    assert stripe_sandbox.events(type="refund.created") == []


def refund_form(amount="", reason="requested_by_customer", note="", token="tok-1", **extra):
    return {"amount": amount, "reason": reason, "note": note, "token": token, **extra}


def test_the_refund_button_takes_dollars_and_confirms_before_refunding(
    client, staff, paid_order, stripe_sandbox
):
    url = f"/admin/payments/order/{paid_order.pk}/refund/"
    assert client.get(url).status_code == 200

    review = client.post(url, refund_form("10.00", note="Buyer asked by phone"))

    assert review.status_code == 200
    page = review.content.decode()
    assert "$10.00" in page and "$1.00" in page and "$9.00" in page  # amount, fee back, seller loses
    assert stripe_sandbox.events(type="refund.created") == []  # nothing sent yet

    response = client.post(url, refund_form("10.00", note="Buyer asked by phone", confirm="1"))
    deliver(stripe_sandbox)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/payments/order/{paid_order.pk}/change/"
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PARTIALLY_REFUNDED
    assert (paid_order.payment.amount_refunded_cents, paid_order.payment.fee_refunded_cents) == (1000, 100)
    refund = paid_order.refunds.get()
    assert (refund.amount_cents, refund.reason, refund.note, refund.requested_by) == (
        1000,
        "requested_by_customer",
        "Buyer asked by phone",
        staff,
    )
    assert stripe_sandbox.events(type="refund.created")[0]["data"]["object"]["metadata"][
        "refund_row_id"
    ] == str(refund.pk)


def test_confirming_twice_is_one_refund(client, staff, paid_order, stripe_sandbox):
    url = f"/admin/payments/order/{paid_order.pk}/refund/"
    for _ in range(2):
        client.post(url, refund_form("5.00", confirm="1", token="same"))

    assert len(stripe_sandbox.events(type="refund.created")) == 1


def test_the_refund_button_with_no_amount_refunds_everything(client, staff, paid_order, stripe_sandbox):
    client.post(f"/admin/payments/order/{paid_order.pk}/refund/", refund_form(confirm="1"))
    stripe_sandbox.settle_refunds(paid_order.refunds.get().stripe_refund_id)
    deliver(stripe_sandbox)

    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED
    assert paid_order.listing.status == "active"


@pytest.mark.parametrize("amount", ["999999", "10.001", "ten", "-3", "1,50", "1.500,00"])
def test_the_refund_button_refuses_bad_amounts_and_more_than_is_left(
    client, staff, paid_order, stripe_sandbox, amount
):
    response = client.post(f"/admin/payments/order/{paid_order.pk}/refund/", refund_form(amount, confirm="1"))

    assert response.status_code == 200
    assert response.context["form"].errors
    assert stripe_sandbox.events(type="refund.created") == []


def test_support_above_its_limit_sends_the_refund_to_finance(client, paid_order, stripe_sandbox, settings):
    from django.contrib.auth.models import Group

    from payments.staff import SUPPORT, staff_groups_ensure

    settings.SUPPORT_REFUND_LIMIT_CENTS = 2000
    staff_groups_ensure()
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(support)

    review = client.post(f"/admin/payments/order/{paid_order.pk}/refund/", refund_form("20.01"))
    above = client.post(
        f"/admin/payments/order/{paid_order.pk}/refund/", refund_form("20.01", confirm="1"), follow=True
    )
    allowed = client.post(
        f"/admin/payments/order/{paid_order.pk}/refund/", refund_form("20.00", confirm="1", token="other")
    )

    assert "up to $20.00 of one order in total" in review.context["preview"].needs_approval
    assert "Send the refund of $20.01 to Finance" in review.content.decode()
    assert "Refund of $20.01 sent to Finance for approval" in [str(m) for m in above.context["messages"]][0]
    assert paid_order.refund_approvals.get().amount_cents == 2001
    assert allowed.status_code == 302
    assert [e["data"]["object"]["amount"] for e in stripe_sandbox.events(type="refund.created")] == [2000]


def test_the_refund_page_of_an_unpaid_order_says_it_cannot_be_refunded(client, staff):
    order = OrderFactory()

    response = client.get(f"/admin/payments/order/{order.pk}/refund/")

    assert response.status_code == 200
    assert response.context["can_refund"] is False


def test_the_refund_in_full_action_needs_its_confirmation_page(client, staff, paid_order, stripe_sandbox):
    pending = OrderFactory()
    selected = {"action": "refund_in_full", "_selected_action": [paid_order.pk, pending.pk]}

    confirmation = client.post("/admin/payments/order/", selected)

    assert confirmation.status_code == 200
    page = confirmation.content.decode()
    assert "Refund 1 order in full" in page and "Not refunded" in page
    assert stripe_sandbox.events(type="refund.created") == []
    token = confirmation.context["token"]

    response = client.post(
        "/admin/payments/order/", {**selected, "confirm": "1", "refund_token": token}, follow=True
    )
    client.post(
        "/admin/payments/order/", {**selected, "confirm": "1", "refund_token": token}
    )  # double submit
    deliver(stripe_sandbox)

    texts = [str(m) for m in response.context["messages"]]
    assert "1 refund(s) sent to Stripe." in texts
    assert any(f"#{pending.pk}" in text for text in texts)
    assert len(stripe_sandbox.events(type="refund.created")) == 1
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED


def test_the_admin_index_puts_our_work_first_and_leaves_the_stripe_mirror_off(client, staff):
    apps = client.get("/admin/").context["app_list"]
    names = [app["name"] for app in apps]

    assert names[0] == "Orders and money"
    assert [m["object_name"] for m in apps[0]["models"]][:3] == ["Order", "Refund", "Dispute"]
    assert "Webhook deliveries and audit trail" in names
    assert not any(name.startswith("Stripe mirror") for name in names)  # on /admin/djstripe/ only


@pytest.mark.parametrize("model", ["charge", "paymentintent", "dispute", "account", "refund"])
def test_the_stripe_mirror_is_read_only(client, staff, model):
    assert client.get(f"/admin/djstripe/{model}/").status_code == 200
    assert client.get(f"/admin/djstripe/{model}/add/").status_code == 403
    assert "delete_selected" not in client.get(f"/admin/djstripe/{model}/").content.decode()


def test_a_failed_delivery_can_be_processed_again_from_admin(client, staff, paid_order):
    from djstripe.models import WebhookEventTrigger

    trigger = WebhookEventTrigger.objects.filter(processed=True).first()
    WebhookEventTrigger.objects.filter(pk=trigger.pk).update(
        processed=False, exception="failed 5 tries: boom"
    )

    listing = client.get("/admin/djstripe/webhookeventtrigger/", {"outcome": "failed"})
    response = client.post(
        "/admin/djstripe/webhookeventtrigger/",
        {"action": "process_again", "_selected_action": [trigger.pk]},
        follow=True,
    )

    assert listing.context["cl"].result_count == 1
    assert response.status_code == 200
    trigger.refresh_from_db()
    assert trigger.processed


def test_the_staff_groups_hold_the_refund_and_dispute_permissions():
    from django.contrib.auth.models import Group

    from payments.staff import FINANCE, SUPPORT, staff_groups_ensure

    staff_groups_ensure()
    support = set(Group.objects.get(name=SUPPORT).permissions.values_list("codename", flat=True))
    finance = set(Group.objects.get(name=FINANCE).permissions.values_list("codename", flat=True))

    assert {"refund_order", "respond_dispute", "view_order", "view_refund"} <= support
    assert "refund_order_any_amount" not in support
    assert {"refund_order", "refund_order_any_amount", "view_order"} <= finance


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


def test_no_staff_user_can_run_dj_stripes_sync_from_stripe_action(client, staff, stripe_sandbox):
    url = "/admin/djstripe/charge/action/_sync_all_instances/charge/"

    assert client.get(url).status_code == 403
    assert client.post(url, {"_selected_action": []}).status_code == 403


# Money columns show dollars, order links lead to the order, to-do filters start on the to-do.


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
