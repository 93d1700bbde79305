"""Payment events through the real webhook views: paid, failed, cancelled, and the awkward orders."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from djstripe import models as djstripe_models

from accounts.tests.factories import UserFactory
from marketplace.models import ListingStatus
from payments.models import AuditEvent, Order, OrderStatus, PaymentStatus
from payments.services.audit import FAILED_TRY_ACTION
from payments.services.orders import order_transition
from payments.tests.factories import OrderFactory
from payments.tests.webhook_support import CONNECT_PATH, deliver, pay, post_event, sandbox_order

pytestmark = pytest.mark.django_db

def only_event(sandbox, event_type):
    events = sandbox.events(type=event_type)
    assert len(events) == 1, [e["type"] for e in sandbox.events()]
    return events[0]


def transitions(order):
    return list(
        AuditEvent.objects.filter(order=order, action="order.transition")
        .order_by("id").values_list("to_status", flat=True)
    )


def test_a_card_payment_marks_the_order_paid_records_the_payment_and_mails_both_sides(
    webhook_sandbox, committed
):
    order = sandbox_order(webhook_sandbox, price_cents=5000)

    pay(order, "pm_card_visa")
    with committed():
        deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert order.listing.status == ListingStatus.SOLD
    payment = order.payment
    intent = webhook_sandbox.get(order.payment_intent_id)
    assert payment.charge_id == intent["latest_charge"]
    assert payment.stripe_account_id == order.stripe_account_id
    assert (payment.amount_cents, payment.application_fee_cents) == (5000, 500)
    assert (payment.amount_refunded_cents, payment.fee_refunded_cents) == (0, 0)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.three_d_secure_authenticated is False
    assert {m.to[0] for m in mail.outbox} == {order.buyer.email, order.seller.email}
    # dj-stripe mirrored what the events point to. Not the Charge: a payment sends no charge
    # event production enables, and the charge's id comes from the PaymentIntent (above).
    assert djstripe_models.Event.objects.filter(type="payment_intent.succeeded").exists()
    assert djstripe_models.PaymentIntent.objects.filter(id=order.payment_intent_id).exists()
    assert djstripe_models.Account.objects.filter(id=order.stripe_account_id).exists()


def test_the_success_event_delivered_again_changes_nothing_and_mails_nobody(webhook_sandbox, committed):
    order = sandbox_order(webhook_sandbox)
    pay(order)
    with committed():
        deliver(webhook_sandbox)
    mails, trail = len(mail.outbox), transitions(order)
    succeeded = next(d for d in webhook_sandbox.deliveries if d["event_type"] == "payment_intent.succeeded")

    webhook_sandbox.redeliver(succeeded["id"])
    with committed():
        deliver(webhook_sandbox)

    assert mails == 2 and len(mail.outbox) == mails
    assert transitions(order) == trail == ["paid"]
    assert djstripe_models.Event.objects.filter(id=succeeded["event"]).count() == 1
    assert djstripe_models.WebhookEventTrigger.objects.filter(event_id=succeeded["event"]).count() == 2


def test_a_declined_card_while_the_hold_lasts_leaves_the_order_open_for_another_card(
    webhook_sandbox, committed
):
    order = sandbox_order(webhook_sandbox)

    error = pay(order, "pm_card_chargeDeclined")
    with committed():
        deliver(webhook_sandbox)

    assert getattr(error, "code", None) == "card_declined"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT and order.payment_failures == 1
    assert order.listing.status == ListingStatus.RESERVED and order.listing.reserved_by == order.buyer
    assert transitions(order) == []
    failed_try = AuditEvent.objects.get(order=order, action=FAILED_TRY_ACTION)
    assert failed_try.message == "Payment failed: generic_decline" and failed_try.stripe_event_id
    assert not hasattr(order, "payment") or order.payment is None
    assert mail.outbox == []


def test_the_decline_event_delivered_again_counts_one_failed_try(webhook_sandbox):
    order = sandbox_order(webhook_sandbox)
    pay(order, "pm_card_chargeDeclined")
    deliver(webhook_sandbox)
    failed = next(d for d in webhook_sandbox.deliveries if d["event_type"] == "payment_intent.payment_failed")

    webhook_sandbox.redeliver(failed["id"])
    deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.payment_failures == 1
    assert AuditEvent.objects.filter(order=order, action=FAILED_TRY_ACTION).count() == 1


def test_a_declined_card_after_the_hold_lapsed_fails_the_order_and_puts_the_stub_back_on_sale(
    webhook_sandbox, committed
):
    order = sandbox_order(webhook_sandbox)
    Order.objects.filter(pk=order.pk).update(reserved_until=timezone.now() - datetime.timedelta(seconds=1))

    pay(order, "pm_card_chargeDeclined")
    with committed():
        deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAYMENT_FAILED and order.payment_failures == 0
    assert order.listing.status == ListingStatus.ACTIVE and order.listing.reserved_by is None
    assert mail.outbox == []


def test_a_retry_with_a_good_card_after_a_decline_pays_the_same_order(webhook_sandbox, committed):
    order = sandbox_order(webhook_sandbox)
    pay(order, "pm_card_chargeDeclined")
    deliver(webhook_sandbox)

    pay(order, "pm_card_visa")
    deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payment_failures == 1
    assert order.payment.payment_intent_id == order.payment_intent_id
    assert order.listing.status == ListingStatus.SOLD
    assert transitions(order) == ["paid"]


def test_a_cancelled_payment_intent_cancels_the_order_and_releases_the_stub(webhook_sandbox):
    import stripe

    order = sandbox_order(webhook_sandbox)

    stripe.PaymentIntent.cancel(order.payment_intent_id, stripe_account=order.stripe_account_id)
    deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.listing.status == ListingStatus.ACTIVE


def test_a_3d_secure_payment_is_paid_once_authenticated_and_records_the_liability_shift(
    webhook_sandbox, committed
):
    order = sandbox_order(webhook_sandbox)

    intent = pay(order, "pm_card_authenticationRequired")
    deliver(webhook_sandbox)
    order.refresh_from_db()
    assert intent.status == "requires_action"
    assert order.status == OrderStatus.PENDING_PAYMENT

    webhook_sandbox.complete_3ds(order.payment_intent_id)
    deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment.three_d_secure_authenticated is True
    assert order.payment.liability_status["fraud_liability"] == "card issuer (3-D Secure)"


def test_a_failed_3d_secure_leaves_the_order_open_for_another_try_while_the_hold_lasts(webhook_sandbox):
    order = sandbox_order(webhook_sandbox)
    pay(order, "pm_card_authenticationRequired")

    webhook_sandbox.complete_3ds(order.payment_intent_id, success=False)
    deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT and order.payment_failures == 1
    failed_try = AuditEvent.objects.get(order=order, action=FAILED_TRY_ACTION)
    assert failed_try.message == "Payment failed: payment_intent_authentication_failure"


# -- out of order: events posted by hand, in the wrong order --------------------------------------

def test_a_refund_that_arrives_before_the_success_is_applied_with_it(client, stripe_sandbox, committed):
    from payments import stripe_api

    order = sandbox_order(stripe_sandbox)
    pay(order)
    stripe_api.refund_create(order=order, amount_cents=2000, idempotency_key="test-partial")

    with committed():
        refunded = post_event(client, only_event(stripe_sandbox, "charge.refunded"), path=CONNECT_PATH)
    order.refresh_from_db()
    assert refunded.status_code == 200
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert (order.payment.amount_refunded_cents, order.payment.fee_refunded_cents) == (2000, 200)

    with committed():
        succeeded = post_event(
            client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH
        )
    order.refresh_from_db()
    assert succeeded.status_code == 200
    assert order.status == OrderStatus.PARTIALLY_REFUNDED
    assert order.payment.amount_refunded_cents == 2000
    assert transitions(order) == ["paid", "partially_refunded"]
    assert len([m for m in mail.outbox if m.to == [order.buyer.email]]) == 1


def test_a_cancel_event_after_the_success_does_not_undo_the_payment(client, stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    succeeded = only_event(stripe_sandbox, "payment_intent.succeeded")
    stale_cancel = {**succeeded, "id": "evt_stale_cancel", "type": "payment_intent.canceled"}
    stale_cancel["data"] = {"object": {**succeeded["data"]["object"], "status": "canceled"}}

    post_event(client, succeeded, path=CONNECT_PATH)
    response = post_event(client, stale_cancel, path=CONNECT_PATH)

    order.refresh_from_db()
    assert response.status_code == 200
    assert order.status == OrderStatus.PAID  # Stripe's current PaymentIntent says succeeded


def test_a_success_after_the_order_lapsed_is_honoured_when_the_stub_is_still_free(
    client, stripe_sandbox, committed
):
    from django.db import transaction

    from marketplace.services import listing_release

    order = sandbox_order(stripe_sandbox)
    with transaction.atomic():  # what the reservation sweep does
        order_transition(order=order, to=OrderStatus.CANCELLED, message="reservation lapsed")
        listing_release(listing_id=order.listing_id, buyer=order.buyer)
    pay(order)

    post_event(client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.listing.status == ListingStatus.SOLD
    assert order.payment.amount_refunded_cents == 0
    assert transitions(order) == ["cancelled", "paid"]


def test_a_success_after_the_order_lapsed_and_the_stub_sold_elsewhere_is_refunded_in_full(
    client, stripe_sandbox, committed
):
    from django.db import transaction

    from marketplace.services import listing_release

    order = sandbox_order(stripe_sandbox)
    with transaction.atomic():
        order_transition(order=order, to=OrderStatus.CANCELLED, message="reservation lapsed")
        listing_release(listing_id=order.listing_id, buyer=order.buyer)
    other = OrderFactory(listing=order.listing, buyer=UserFactory(), status=OrderStatus.PAID)
    pay(order)

    with committed():
        response = post_event(
            client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH
        )

    order.refresh_from_db()
    other.refresh_from_db()
    assert response.status_code == 200
    assert order.status == OrderStatus.CANCELLED
    assert other.status == OrderStatus.PAID and order.listing.status == ListingStatus.SOLD
    charge = stripe_sandbox.get(order.payment.charge_id)
    assert charge["amount_refunded"] == order.amount_cents and charge["refunded"] is True
    fee = stripe_sandbox.get(charge["application_fee"])
    assert fee["amount_refunded"] == order.application_fee_cents  # the platform gave its fee back
    assert order.payment.status == PaymentStatus.REFUNDED
    assert AuditEvent.objects.filter(order=order, action="order.late_payment_refunded").count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([order.buyer.email, order.seller.email])

    # The refund's own webhook, and the success delivered again, change nothing more.
    with committed():
        post_event(client, only_event(stripe_sandbox, "charge.refunded"), path=CONNECT_PATH)
        post_event(client, {**only_event(stripe_sandbox, "payment_intent.succeeded"), "id": "evt_again"},
                   path=CONNECT_PATH)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.payment.fee_refunded_cents == order.application_fee_cents
    assert len([r for r in stripe_sandbox.events(type="charge.refunded")]) == 1
    assert len(mail.outbox) == 2


def lapse_and_sell_elsewhere(order):
    from django.db import transaction

    from marketplace.services import listing_release

    with transaction.atomic():
        order_transition(order=order, to=OrderStatus.CANCELLED, message="reservation lapsed")
        listing_release(listing_id=order.listing_id, buyer=order.buyer)
    return OrderFactory(listing=order.listing, buyer=UserFactory(), status=OrderStatus.PAID)


def test_a_late_payment_already_partly_refunded_gets_the_rest_back(client, stripe_sandbox):
    from payments import stripe_api

    order = sandbox_order(stripe_sandbox)
    lapse_and_sell_elsewhere(order)
    pay(order)
    stripe_api.refund_create(order=order, amount_cents=1000, idempotency_key="earlier-partial")

    response = post_event(client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)

    assert response.status_code == 200
    order.refresh_from_db()
    charge = stripe_sandbox.get(order.payment.charge_id)
    assert charge["amount_refunded"] == order.amount_cents
    assert order.payment.amount_refunded_cents == order.amount_cents
    assert order.status == OrderStatus.CANCELLED


def test_a_late_payment_that_is_already_disputed_is_left_to_staff(client, stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    lapse_and_sell_elsewhere(order)
    pay(order, "pm_card_createDispute")

    response = post_event(client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)

    assert response.status_code == 200
    assert stripe_sandbox.events(type="charge.refunded") == []
    assert AuditEvent.objects.filter(order=order, action="order.late_payment_not_refunded").exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_a_payment_from_another_sellers_account_cannot_pay_this_order(client, stripe_sandbox):
    import stripe

    order = sandbox_order(stripe_sandbox)
    intruder = stripe_sandbox.create_account()
    foreign = stripe.PaymentIntent.create(
        amount=order.amount_cents, currency="usd", payment_method_types=["card"],
        metadata={"order_id": str(order.pk)}, stripe_account=intruder["id"],
        payment_method="pm_card_visa", confirm=True,
    )

    event = only_event(stripe_sandbox, "payment_intent.succeeded")
    response = post_event(client, event, path=CONNECT_PATH)

    assert event["data"]["object"]["id"] == foreign.id
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_an_order_whose_payment_intent_id_was_not_stored_yet_is_found_by_its_metadata(
    client, stripe_sandbox
):
    order = sandbox_order(stripe_sandbox)
    intent_id = order.payment_intent_id
    order.payment_intent_id = ""  # checkout stores it just after creating the PaymentIntent
    order.save(update_fields=["payment_intent_id"])
    order.payment_intent_id = intent_id
    pay(order)

    post_event(client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payment_intent_id == intent_id


def test_another_accounts_payment_intent_naming_an_unlinked_order_does_not_claim_it(
    client, stripe_sandbox
):
    import stripe

    order = sandbox_order(stripe_sandbox)
    order.payment_intent_id = ""
    order.save(update_fields=["payment_intent_id"])
    intruder = stripe_sandbox.create_account()
    stripe.PaymentIntent.create(
        amount=order.amount_cents, currency="usd", payment_method_types=["card"],
        metadata={"order_id": str(order.pk)}, stripe_account=intruder["id"],
        payment_method="pm_card_visa", confirm=True,
    )

    post_event(client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.payment_intent_id == ""


# -- a failing handler ------------------------------------------------------------------------------

def test_a_failing_handler_is_answered_200_retried_then_marked_failed_and_a_redelivery_applies_it_once(
    client, stripe_sandbox, monkeypatch, committed, settings
):
    """Stripe does not retry a delivery we answered 2xx: the worker retries it (here in-process,
    eager, so the tries follow each other at once), then marks it failed for a replay."""
    from payments.services import payment_events

    settings.WEBHOOK_MAX_RETRIES = 2
    order = sandbox_order(stripe_sandbox)
    pay(order)
    event = only_event(stripe_sandbox, "payment_intent.succeeded")
    tries = []

    def explode(**kwargs):
        tries.append(1)
        raise RuntimeError("database hiccup")

    with monkeypatch.context() as patch:
        patch.setattr(payment_events, "_honour", explode)
        failed = post_event(client, event, path=CONNECT_PATH)

    assert failed.status_code == 200
    assert len(tries) == 3  # the first try and WEBHOOK_MAX_RETRIES more
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert not hasattr(order, "payment") or order.payment is None
    assert not djstripe_models.Event.objects.filter(id=event["id"]).exists()
    trigger = djstripe_models.WebhookEventTrigger.objects.get()
    assert not trigger.processed and trigger.traceback
    assert trigger.exception.startswith("failed after 3 tries: RuntimeError: database hiccup")

    with committed():
        retried = post_event(client, event, path=CONNECT_PATH)
        again = post_event(client, event, path=CONNECT_PATH)

    assert retried.status_code == again.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert transitions(order) == ["paid"]
    assert djstripe_models.Event.objects.filter(id=event["id"]).count() == 1
    assert len([m for m in mail.outbox if m.to == [order.buyer.email]]) == 1


def test_a_stored_failed_delivery_can_be_replayed(client, stripe_sandbox, monkeypatch):
    from payments.services import payment_events
    from payments.services.webhooks import webhook_replay

    order = sandbox_order(stripe_sandbox)
    pay(order)
    with monkeypatch.context() as patch:
        patch.setattr(payment_events, "_honour", lambda **kwargs: 1 / 0)
        post_event(client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)
    trigger = djstripe_models.WebhookEventTrigger.objects.get()

    webhook_replay(trigger=trigger)

    trigger.refresh_from_db()
    order.refresh_from_db()
    assert trigger.processed and trigger.exception == ""
    assert order.status == OrderStatus.PAID


def test_a_delivery_that_fails_once_is_applied_by_the_workers_retry(webhook_sandbox, monkeypatch):
    from payments.services import payment_events

    real_honour = payment_events._honour
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first attempt fails")
        return real_honour(**kwargs)

    monkeypatch.setattr(payment_events, "_honour", flaky)
    order = sandbox_order(webhook_sandbox)
    pay(order)

    deliver(webhook_sandbox)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len(calls) == 2
    succeeded = next(d for d in webhook_sandbox.deliveries if d["event_type"] == "payment_intent.succeeded")
    assert [a["status"] for a in succeeded["attempts"]] == [200]  # Stripe's side: answered once
    trigger = djstripe_models.WebhookEventTrigger.objects.get(event_id=succeeded["event"])
    assert trigger.processed and trigger.exception == ""


def test_the_replay_command_applies_the_deliveries_that_failed(client, stripe_sandbox, monkeypatch):
    from django.core.management import call_command

    from payments.services import payment_events

    order = sandbox_order(stripe_sandbox)
    pay(order)
    with monkeypatch.context() as patch:
        patch.setattr(payment_events, "_honour", lambda **kwargs: 1 / 0)
        post_event(client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)

    call_command("replay_failed_webhooks")
    call_command("replay_failed_webhooks")  # nothing left the second time

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert transitions(order) == ["paid"]
    assert not djstripe_models.WebhookEventTrigger.objects.filter(processed=False).exists()


def test_a_payment_intent_for_another_amount_is_not_honoured_and_is_flagged(client, stripe_sandbox):
    order = sandbox_order(stripe_sandbox)
    pay(order)
    order.amount_cents += 100  # as if the order and the PaymentIntent disagreed
    order.save(update_fields=["amount_cents"])

    response = post_event(client, only_event(stripe_sandbox, "payment_intent.succeeded"), path=CONNECT_PATH)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert AuditEvent.objects.filter(order=order, action="stripe.payment_intent_mismatch").exists()
