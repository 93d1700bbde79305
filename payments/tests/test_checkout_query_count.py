"""The checkout route's SQL queries are counted, so the count cannot creep back up
(docs/performance.md, change 11).

POST /payments/create-payment-intent/ had 23 queries per request on PostgreSQL (plus BEGIN and
COMMIT); each is a round trip, most of them under the listing's row lock. Counted here: the
statements that read or write rows (transaction control, which SQLite and PostgreSQL log
differently, is left out). In a committed transaction, as in production, so the after-commit
work runs too; the PaymentIntent is made in the in-process Stripe sandbox:

- the request: user (the session comes from the cache: core/sessions.py)                  1
- earlier buyers' stale PaymentIntents to cancel first (none here)                         1
- the transaction: lock the buyer, lock the listing, count the buyer's other holds,
  reserve the listing, lock the pending orders that matter (one query for the buyer's own
  and other buyers' lapsed ones), this buyer's failed attempts, insert the order, insert its
  audit row                                                                                8
- after the commit: the watchlist's "someone is buying" task (listing, watches; in-process
  here as with no broker, on a worker in production)                                       2
- the PaymentIntent: idempotency prefix and attempt number (one query), the call's audit
  row, store its id on the order (one conditional UPDATE instead of a locked read and a
  save)                                                                                    3

The count must not depend on how many listings, orders or buyers there are. Not timed: the
bench (bench/checkout.py) measures the time.
"""

import json
import re
from contextlib import contextmanager

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from marketplace.models import Watch
from marketplace.tests.factories import ListingFactory
from marketplace.watchlist import watch_add
from payments.idempotency import idempotency_prefix
from payments.models import Order, OrderStatus
from payments.tests.factories import sandbox_seller_onboarded, shipping_address

URL = "/payments/create-payment-intent/"
FIRST_CHECKOUT_QUERIES = 15
SECOND_CLICK_QUERIES = 11
TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b", re.IGNORECASE)


@contextmanager
def assert_row_queries(expected: int):
    """Like django_assert_num_queries, without BEGIN/COMMIT/SAVEPOINT (backend-specific)."""
    with CaptureQueriesContext(connection) as captured:
        yield
    statements = [q["sql"] for q in captured.captured_queries if not TRANSACTION_CONTROL.match(q["sql"])]
    assert len(statements) == expected, (
        f"expected {expected} queries, got {len(statements)}:\n" + "\n".join(sql[:160] for sql in statements)
    )


def start(client, listing_id):
    body = {"listing_id": listing_id, **shipping_address()}
    return client.post(URL, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def seller(transactional_db, stripe_sandbox):
    idempotency_prefix()  # made once per database (the first Stripe call ever), not per checkout
    return sandbox_seller_onboarded(stripe_sandbox)


def test_a_first_checkout_makes_a_fixed_number_of_queries(
    client, seller
):
    listing = ListingFactory(seller=seller, price_cents=5000)
    buyer = UserFactory()
    client.force_login(buyer)

    with assert_row_queries(FIRST_CHECKOUT_QUERIES):
        response = start(client, listing.pk)

    assert response.status_code == 200
    order = Order.objects.get(listing=listing, buyer=buyer)
    assert order.status == OrderStatus.PENDING_PAYMENT and order.payment_intent_id.startswith("pi_")


def test_the_checkout_query_count_does_not_grow_with_listings_orders_and_buyers(
    client, seller
):
    others = [ListingFactory(seller=seller, price_cents=3000) for _ in range(6)]
    for listing in others[:3]:  # other buyers' checkouts, pending and paid-for stubs
        other_client = client.__class__()
        other_client.force_login(UserFactory())
        assert start(other_client, listing.pk).status_code == 200
    listing = ListingFactory(seller=seller, price_cents=5000)
    buyer = UserFactory()
    client.force_login(buyer)
    assert start(client, others[4].pk).status_code == 200  # the buyer holds another stub too

    with assert_row_queries(FIRST_CHECKOUT_QUERIES):
        response = start(client, listing.pk)

    assert response.status_code == 200


def test_a_second_click_reuses_the_order_in_fewer_queries(
    client, seller
):
    listing = ListingFactory(seller=seller, price_cents=5000)
    client.force_login(UserFactory())
    first = start(client, listing.pk).json()

    # The request (2), stale PaymentIntents (1), lock buyer and listing, count the holds, extend
    # the hold (4), the pending order read and its hold extended (2), the watchlist task (2),
    # the PaymentIntent retrieved (its audit row, 1): no insert, no idempotency key.
    with assert_row_queries(SECOND_CLICK_QUERIES):
        second = start(client, listing.pk)

    assert second.status_code == 200
    assert second.json()["order_id"] == first["order_id"]
    assert second.json()["client_secret"] == first["client_secret"]


def test_with_a_broker_the_watchers_are_told_by_a_task_after_the_checkout_answered(
    client, seller, worker_app
):
    listing = ListingFactory(seller=seller, price_cents=5000)
    watcher = UserFactory(email="watcher@example.com")
    watch_add(user=watcher, listing_id=listing.pk)
    client.force_login(UserFactory())

    # The request's own queries: the watchlist's two are the worker's.
    with assert_row_queries(FIRST_CHECKOUT_QUERIES - 2):
        response = start(client, listing.pk)

    assert response.status_code == 200
    assert mail.outbox == []  # queued, not sent by the request
    (task_name, kwargs), = queued_tasks(worker_app)
    assert task_name == "payments.tasks.watch_reserved_notify_task"
    worker_app.tasks[task_name].apply(kwargs=kwargs)  # what the worker does with it
    assert mail.outbox == []  # the email is queued in its turn, for the email service's task
    (email_task, email_kwargs), = queued_tasks(worker_app)
    assert email_task == "core.email_send"
    worker_app.tasks[email_task].apply(kwargs=email_kwargs)
    assert [email.to for email in mail.outbox] == [["watcher@example.com"]]
    assert "Someone is buying" in mail.outbox[0].subject
    assert Watch.objects.get(user=watcher).reservation_alerted_until is not None


def queued_tasks(app) -> list[tuple[str, dict]]:
    """Take every message off the broker's default queue: (task name, kwargs). No worker thread
    is started, so nothing of this test can run on into the next one."""
    taken = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        try:
            while True:
                try:
                    message = queue.get(block=True, timeout=0.5)
                except queue.Empty:
                    break
                _args, kwargs, _embed = message.decode()
                taken.append((message.headers["task"], kwargs))
                message.ack()
        finally:
            queue.close()
    return taken
