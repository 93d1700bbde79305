"""Idempotency keys for our Stripe calls that stay safe under Stripe's rules.

Stripe keeps the first answer for a key for 24 hours, whatever it was, a 500 included (only a
request that failed validation is not kept), and answers the same key with other parameters with
an idempotency_error (https://docs.stripe.com/api/idempotent_requests). So a key must

- never repeat across deployments or database resets (ids restart: order 1 of a fresh database
  is not order 1 of the last one): every key starts with `idempotency_prefix()`;
- move on after Stripe answered 5xx, or the retry would be answered that 500 for a day: the key
  carries an attempt number, the count of this call's 5xx answers for the order (from the audit
  trail `stripe_call` writes) plus one. A timeout does not move it: Stripe may have carried the
  request out, and the same key then returns what it did instead of doing it twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from djstripe.models import IdempotencyKey

from payments.models import AuditEvent

PREFIX_ACTION = "stubcollector:idempotency-prefix"
_prefixes: dict[str, str] = {}


def idempotency_prefix() -> str:
    """`STRIPE_IDEMPOTENCY_PREFIX` when set, else a value made once per database and stored in it
    (a dj-stripe IdempotencyKey row of our own action), so a reset database gets a new one."""
    configured = getattr(settings, "STRIPE_IDEMPOTENCY_PREFIX", "")
    if configured:
        return configured

    name = str(connection.settings_dict.get("NAME"))
    cached = _prefixes.get(name)
    if cached and IdempotencyKey.objects.filter(uuid=cached, action=PREFIX_ACTION).exists():
        return f"sc{cached.replace('-', '')[:12]}"
    try:
        with transaction.atomic():
            row, _ = IdempotencyKey.objects.get_or_create(action=PREFIX_ACTION, livemode=False)
    except IntegrityError:  # made at the same moment by another process
        row = IdempotencyKey.objects.get(action=PREFIX_ACTION, livemode=False)
    _prefixes[name] = str(row.uuid)
    return f"sc{str(row.uuid).replace('-', '')[:12]}"


def server_failures(*, order, action: str) -> int:
    """How many times Stripe answered 5xx to `action` ("stripe.payment_intent.create") for `order`."""
    rows = AuditEvent.objects.filter(order=order, action=action)
    statuses = rows.values_list("data__http_status", flat=True)
    return sum(1 for status in statuses if isinstance(status, int) and status >= 500)


def order_idempotency_key(*, order, operation: str) -> str:
    """`<prefix>-order-<id>-<operation>`, with `-attempt-<n>` after Stripe answered 5xx."""
    key = f"{idempotency_prefix()}-order-{order.pk}-{operation}"
    failures = server_failures(order=order, action=f"stripe.{operation.replace('-', '.')}")
    return key if not failures else f"{key}-attempt-{failures + 1}"
