"""A Stripe delivery that arrives while the broker refuses tasks (Redis away) is stored and answered
200, its lost task logged; beat's redelivery job applies it later. The signature check and the
one-apply-per-event rule are the same as with a broker.

The broker refuses as in security/test_redis_down.py (kombu's OperationalError from every
apply_async), with a broker configured (not eager mode, where there is none to refuse).
"""

import logging

import pytest
from djstripe import models as djstripe_models

from payments.models import OrderStatus, Payment
from payments.services.redelivery import webhooks_redeliver
from payments.services.webhooks import WEBHOOK_PROCESS_TASK
from payments.tests.redelivery_support import last_touched, paid_at_stripe, transitions
from payments.tests.webhook_support import CONNECT_PATH, post_event
from security.test_redis_down import no_500, take_redis_down

pytestmark = pytest.mark.django_db(transaction=True)  # the view commits the row, then queues


@pytest.fixture
def broker_down(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker is configured, and it refuses
    take_redis_down(settings, monkeypatch)


def lost_tasks(caplog) -> list:
    """The delivery tasks the broker refused (the sandbox's checkout loses a watchers' task too)."""
    return [record for record in caplog.records
            if getattr(record, "event", "") == "task.not_queued" and record.task == WEBHOOK_PROCESS_TASK]


def test_a_delivery_is_stored_and_answered_200_and_beat_applies_it_later(
        client, stripe_sandbox, settings, monkeypatch, broker_down, caplog):
    order, event = paid_at_stripe(stripe_sandbox)
    caplog.set_level(logging.ERROR, logger="core.queue")

    response = post_event(no_500(client), event, path=CONNECT_PATH)

    assert response.status_code == 200, response.content
    trigger = djstripe_models.WebhookEventTrigger.objects.get()
    assert (trigger.valid, trigger.processed, trigger.exception) == (True, False, "")
    (lost,) = lost_tasks(caplog)
    assert (lost.task_kwargs, lost.lost) == ({"trigger_id": trigger.pk}, True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT  # not applied in the request

    monkeypatch.undo()  # Redis is back; beat's next run after the wait applies the stored delivery
    last_touched(trigger, seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 1)
    assert webhooks_redeliver().applied == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and transitions(order) == ["paid"]
    assert Payment.objects.filter(order=order).count() == 1


def test_the_same_delivery_sent_twice_is_stored_twice_and_applied_once(client, stripe_sandbox, settings,
                                                                       broker_down, caplog):
    order, event = paid_at_stripe(stripe_sandbox)

    answers = [post_event(no_500(client), event, path=CONNECT_PATH).status_code for _ in range(2)]

    assert answers == [200, 200]
    assert len(lost_tasks(caplog)) == 2
    for trigger in djstripe_models.WebhookEventTrigger.objects.all():
        last_touched(trigger, seconds_ago=settings.WEBHOOK_REDELIVER_AFTER_SECONDS + 1)
    report = webhooks_redeliver()
    assert report.applied == 2 and report.failed == report.given_up == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and transitions(order) == ["paid"]
    assert djstripe_models.Event.objects.filter(id=event["id"]).count() == 1
    assert Payment.objects.filter(order=order).count() == 1


def test_a_badly_signed_delivery_is_still_refused_and_stores_nothing(client, stripe_sandbox, broker_down,
                                                                     caplog):
    _order, event = paid_at_stripe(stripe_sandbox)

    response = post_event(no_500(client), event, path=CONNECT_PATH, secret="whsec_not_ours")

    assert response.status_code == 400
    assert not djstripe_models.WebhookEventTrigger.objects.exists()
    assert not lost_tasks(caplog)
