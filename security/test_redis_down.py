"""With Redis unreachable (the cache, the rate limits' counters and the Celery broker all in it)
no request answers 500: the limited forms and routes count in the process instead
(core.rate_limit_cache), so their limits still hold, and a task the broker cannot take after the
commit is logged or run in the process (core.queue). A checkout either makes nothing or answers
with the order it made, which the buyer then sees.

Redis down is Redis' address with nothing listening (as core/tests/test_sessions.py simulates
it), with this project's backend; the broker refuses every task as kombu does when Redis is
away (core/tests/test_email.py).
"""

from unittest import mock

import pytest
from celery import Task
from django.test import Client
from django.urls import reverse
from kombu.exceptions import OperationalError

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.views import LOGIN_RATE_PER_USERNAME
from core import cache_health, rate_limit_cache
from marketplace.models import Listing, ListingStatus
from marketplace.tests.factories import ListingFactory
from payments.models import Order, OrderStatus, Refund
from payments.tests.checkout_support import checkout_post
from payments.tests.factories import sandbox_seller_onboarded
from security.world import build_world

UNREACHABLE = {"default": {"BACKEND": "core.rate_limit_cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
LOGIN = "/accounts/login/"


def take_redis_down(settings, monkeypatch) -> None:
    """From now until the test ends: the cache and the broker cannot be reached."""
    settings.CACHES = UNREACHABLE
    monkeypatch.setattr(rate_limit_cache, "_redis_skipped_until", 0.0)
    monkeypatch.setattr(cache_health, "_down_logged_at", {})
    rate_limit_cache._local.clear()
    refused = OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
    monkeypatch.setattr(Task, "apply_async", mock.Mock(side_effect=refused))


@pytest.fixture
def redis_down(settings, monkeypatch):
    take_redis_down(settings, monkeypatch)
    yield
    rate_limit_cache._local.clear()


def no_500(client):
    """The test client re-raises a view's exception by default; here a 500 is an answer to see."""
    client.raise_request_exception = False
    return client


@pytest.mark.django_db(transaction=True)  # the order commits for real, then the queued work runs
def test_a_checkout_answers_the_order_it_made_and_the_buyer_sees_it(
    client, stripe_sandbox, redis_down, caplog
):
    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox), price_cents=5000)
    buyer = UserFactory()

    response = checkout_post(no_500(client), listing.pk, buyer=buyer)

    assert response.status_code == 200, response.content
    order = Order.objects.get()
    assert response.json()["order_id"] == order.pk and response.json()["client_secret"]
    assert (order.buyer, order.status) == (buyer, OrderStatus.PENDING_PAYMENT) and order.payment_intent_id
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.RESERVED
    page = client.get(reverse("payments_pages:order_detail", args=[order.pk]))
    assert page.status_code == 200 and f"#{order.pk}" in page.text
    # The watchers' task queued by the hold could not reach the broker: lost and said so.
    assert any(getattr(r, "event", "") == "task.not_queued" for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_a_checkout_that_supersedes_the_buyers_order_cancels_its_payment_intent_in_the_request(
    client, stripe_sandbox, redis_down
):
    import stripe

    listing = ListingFactory(seller=sandbox_seller_onboarded(stripe_sandbox), price_cents=5000)
    buyer = UserFactory()
    first = checkout_post(no_500(client), listing.pk, buyer=buyer).json()
    Listing.objects.filter(pk=listing.pk).update(price_cents=4000)  # the seller lowered the price

    second = checkout_post(client, listing.pk)

    assert second.status_code == 200, second.content
    old = Order.objects.get(pk=first["order_id"])
    assert old.status == OrderStatus.CANCELLED and second.json()["order_id"] != old.pk
    intent = stripe.PaymentIntent.retrieve(old.payment_intent_id, stripe_account=old.stripe_account_id)
    assert intent.status == "canceled"  # the task the broker refused ran here instead


@pytest.mark.django_db
def test_the_log_in_form_logs_in_and_its_limit_still_holds_in_the_process(client, redis_down):
    user = UserFactory()
    no_500(client)
    response = client.post(LOGIN, {"username": user.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and client.session.get("_auth_user_id") == str(user.pk)

    other, stranger = UserFactory(), no_500(Client())
    answers = [stranger.post(LOGIN, {"username": other.username, "password": "wrong"}).status_code
               for _ in range(int(LOGIN_RATE_PER_USERNAME.split("/")[0]) + 1)]
    assert answers[:-1] == [400] * (len(answers) - 1) and answers[-1] == 429


@pytest.mark.django_db
def test_a_refund_is_made_and_the_refund_limit_still_holds(settings, stripe_sandbox, monkeypatch):
    settings.REFUND_RATE_PER_USER = "2/m"
    world = build_world(stripe_sandbox, paid=True)
    client = no_500(world.client_for("finance"))
    path = f"/payments/orders/{world.order.pk}/refund/"
    take_redis_down(settings, monkeypatch)  # after the purchase: its webhook needs the broker

    answers = [client.post(path, {"amount": amount}, HTTP_ACCEPT="application/json").status_code
               for amount in ("0.50", "0.60", "0.70")]

    assert answers[2] == 429 and all(code < 300 for code in answers[:2]), answers
    assert Refund.objects.filter(order=world.order).count() == 2


@pytest.mark.django_db
def test_watching_a_listing_works_and_its_limit_still_holds(settings, client, redis_down):
    settings.POST_RATE_PER_USER = "2/m"
    listing = ListingFactory()
    client.force_login(UserFactory())

    answers = [no_500(client).post(f"/listings/{listing.pk}/watch/").status_code for _ in range(3)]

    assert answers[2] == 429 and all(code < 400 for code in answers[:2]), answers
