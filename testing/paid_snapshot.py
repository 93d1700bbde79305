"""One sandbox purchase shared by the tests that start from it, each test still isolated.

A paid order is a real purchase: a seller's account onboarded in the Stripe sandbox, a
PaymentIntent paid with a test card and its webhooks run through the real views and dj-stripe,
~0.2 s each, and most of payments' refund, dispute and reconciliation tests begin with one.
A fixture marked with `shared(build)` (the root conftest's `paid_order`) has it made once:

- before a test's own transaction opens (the `_django_db_helper` fixture), `build` runs in an
  outer transaction with a sandbox of its own, and the sandbox's state is copied;
- the test's transaction is then a savepoint inside it, rolled back after the test as always,
  so the rows `build` wrote are there at the start of every such test and nothing a test
  writes outlives it;
- the fixture (`take`) gives the test's sandbox a fresh copy of the state, its webhook
  endpoints delivering through the test's client, and the order as the database has it;
- the outer transaction is rolled back as soon as the next test is not one that takes this
  purchase (or is transactional), so no other test ever sees its rows.

A test whose sandbox already holds objects of its own when the fixture runs (a fixture ran
before it and made an account, say) cannot take a copy without losing them: it gets a purchase
of its own, made as before, after the shared rows are deleted in its savepoint.
PAID_SNAPSHOT=0 turns the sharing off (every test makes its own purchase), to compare;
PAID_SNAPSHOT_STRICT=1 fails a test that would get a purchase of its own, to find them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_NOT_SHAREABLE_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences",
                           "django_db_serialized_rollback"}


def shared(build: Callable[[Any], int]):
    """Mark a fixture function as taking the purchase `build(sandbox) -> order pk` makes (the
    sandbox has our webhook endpoints registered; `build` delivers what it needs)."""

    def mark(fixture_function):
        fixture_function._paid_build = build
        return fixture_function

    return mark


@dataclass
class _Snapshot:
    build: Callable[[Any], int]
    atomic: Any
    order_pk: int
    state: dict
    blocker: Any
    rows: list[tuple[type, Any]] = field(default_factory=list)
    mail: list = field(default_factory=list)


_open: _Snapshot | None = None


def open_build():
    """The `build` whose purchase the outer transaction holds now, if any."""
    return _open.build if _open is not None else None


def build_of(item) -> Callable | None:
    """The `build` of the shareable fixture the item would get, if it can take one."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None or os.environ.get("PAID_SNAPSHOT") == "0":
        return None
    for definitions in info.name2fixturedefs.values():
        build = getattr(definitions[-1].func, "_paid_build", None) if definitions else None
        if build is None:
            continue
        if _NOT_SHAREABLE_FIXTURES & set(item.fixturenames):
            return None
        marker = item.get_closest_marker("django_db")
        if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
                       or marker.kwargs.get("serialized_rollback") or marker.args):
            return None
        return build
    return None


def start(build, blocker) -> None:
    """Open the outer transaction and make the purchase in it with a sandbox of its own."""
    global _open
    from django.core import mail
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.db.models.signals import post_save
    from django.test import Client
    from django.test.utils import override_settings

    from payments.tests.webhook_support import endpoints_register
    from stripe_sandbox.pytest_plugin import SANDBOX_API_KEY, SANDBOX_PUBLISHABLE_KEY, _in_process

    with blocker.unblock():
        atomic = transaction.atomic()
        # Like the test's own transactions: a durable atomic block inside is allowed.
        atomic._from_testcase = True
        atomic.__enter__()
        rows: list[tuple[type, Any]] = []

        def created(sender, instance, created, raw, **kwargs):
            if created:
                rows.append((sender, instance.pk))

        sandboxes = _in_process(livemode=False, api_key=SANDBOX_API_KEY,
                                publishable_key=SANDBOX_PUBLISHABLE_KEY)
        sandbox = next(sandboxes)
        outbox, mail.outbox = getattr(mail, "outbox", []), []
        post_save.connect(created, weak=False, dispatch_uid="paid_snapshot")
        try:
            # The settings the root conftest gives every test (_session_settings, _test_settings).
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                MEDIA_ROOT=tempfile.mkdtemp(prefix="paid-snapshot-media-"),
                EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            ):
                cache.clear()
                order_pk = build(endpoints_register(sandbox, Client()))
                state = sandbox.state_copy()
            # What no test transaction will ever run (its own were captured and run by build).
            connection.run_on_commit = []
        except BaseException:
            _rollback(atomic)
            raise
        finally:
            post_save.disconnect(dispatch_uid="paid_snapshot")
            sent, mail.outbox = mail.outbox, outbox
            sandboxes.close()
            cache.clear()
        _open = _Snapshot(build, atomic, order_pk, state, blocker, rows, sent)


def _rollback(atomic) -> None:
    from django.db import transaction

    transaction.set_rollback(True)
    atomic.__exit__(None, None, None)


def close() -> None:
    global _open
    snapshot, _open = _open, None
    with snapshot.blocker.unblock():
        _rollback(snapshot.atomic)


def take(request, sandbox, client, build: Callable[[Any], int]):
    """The order `build` makes, from the shared purchase when this test can take it (the
    sandbox then holds a copy of the purchase's state), else made here as before."""
    import copy

    from django.core import mail

    from payments.models import Order
    from stripe_sandbox.webhooks import django_client_transport

    snapshot = _open
    if snapshot is not None and snapshot.build is build and _pristine(sandbox):
        sandbox.state_restore(snapshot.state, django_client_transport(client))
        mail.outbox.extend(copy.deepcopy(snapshot.mail))
        return Order.objects.get(pk=snapshot.order_pk)
    if snapshot is not None and snapshot.build is build:
        if os.environ.get("PAID_SNAPSHOT_STRICT"):
            raise AssertionError("paid snapshot fallback")
        _delete_rows(snapshot)
    return Order.objects.get(pk=build(sandbox))


def _pristine(sandbox) -> bool:
    """Nothing in the sandbox but its platform account and our two webhook endpoints."""
    kinds = {obj.get("object") for obj in sandbox.store.objects.values()}
    return kinds <= {"account", "webhook_endpoint"} and len(sandbox.store.objects) <= 3 \
        and not sandbox.dispatcher.deliveries


def _delete_rows(snapshot: _Snapshot) -> None:
    """Delete the shared purchase's rows inside the test's savepoint (newest first, so what
    refers to a row goes before it); the savepoint's rollback brings them back."""
    for model, pk in reversed(snapshot.rows):
        model._base_manager.filter(pk=pk).delete()
