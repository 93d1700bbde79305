"""The Celery tasks: the beat schedule, the reservation sweep, retried emails, and the request
id that travels with a task through the broker."""

import io
import json
import logging
from unittest import mock

import pytest
import stripe
from celery import current_app as app  # the project's Celery app (stubcollector/celery.py)
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab
from django.core import mail
from django.db import connections

from accounts.tests.factories import UserFactory
from core.logs import JsonFormatter, RequestIdFilter, request_id_set
from marketplace.tests.factories import ListingFactory
from payments import tasks
from payments.models import Order, OrderStatus
from payments.services.notifications import notify_order_paid
from payments.tests.checkout_support import checkout_lapse, checkout_order
from payments.tests.factories import OrderFactory, sandbox_seller_onboarded
from testing.celery_support import wait_until

pytestmark = pytest.mark.django_db



def test_beat_queues_the_reservation_sweep_every_minute():
    entry = app.conf.beat_schedule["release-expired-reservations"]
    assert entry["task"] == tasks.release_expired_reservations.name
    assert entry["schedule"] == crontab(minute="*")


def test_the_sweep_task_cancels_each_lapsed_checkout_and_its_payment_intent(client, stripe_sandbox):
    seller = sandbox_seller_onboarded(stripe_sandbox)
    lapsed = checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory())
    held = checkout_order(client, ListingFactory(seller=seller).pk, buyer=UserFactory())
    checkout_lapse(lapsed)

    assert tasks.release_expired_reservations.delay().get() == 1

    lapsed.refresh_from_db()
    held.refresh_from_db()
    assert lapsed.status == OrderStatus.CANCELLED and held.status == OrderStatus.PENDING_PAYMENT
    intent = stripe.PaymentIntent.retrieve(lapsed.payment_intent_id, stripe_account=lapsed.stripe_account_id)
    assert intent.status == "canceled"
    assert tasks.release_expired_reservations.delay().get() == 0  # nothing left


def test_an_email_the_mail_server_refused_once_is_sent_by_the_retry_once(mail_server_refusing_once):
    order = OrderFactory()

    notify_order_paid(order=order)

    assert len(mail_server_refusing_once) == 3  # buyer (refused), buyer again, seller
    assert sorted(m.to[0] for m in mail.outbox) == sorted([order.buyer.email, order.seller.email])


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_during_a_request_logs_that_requests_id_in_the_worker(worker_app):
    """Through a real broker (kombu's memory transport) and a real worker thread."""
    order = OrderFactory()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    task_logger = logging.getLogger("core.tasks")  # the email service's task logs the failure
    # A worker started earlier in this process may have reconfigured logging: hear this logger.
    saved = task_logger.level, task_logger.disabled
    task_logger.setLevel(logging.INFO)
    task_logger.disabled = False
    task_logger.addHandler(handler)
    try:
        request_id_set("req-from-the-view")
        with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down")):
            tasks.order_email_send.apply_async(
                kwargs={"template": "order_paid_buyer", "subject": "s", "user_id": order.buyer_id,
                        "order_id": order.pk}, retry=False)
            request_id_set("")
            with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
                wait_until(lambda: "Could not send" in stream.getvalue())
        connections.close_all()
    finally:
        task_logger.removeHandler(handler)
        task_logger.setLevel(saved[0])
        task_logger.disabled = saved[1]
        request_id_set("")

    line = json.loads(next(text for text in stream.getvalue().splitlines() if "Could not send" in text))
    assert line["request_id"] == "req-from-the-view"
    assert Order.objects.filter(pk=order.pk).exists()
