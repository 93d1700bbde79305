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

Both parts are read in one query per Stripe call once the process knows its prefix: the
prefix's row is checked (a reset database lacks it) in the same SELECT that counts the 5xx
answers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from djstripe.models import IdempotencyKey

from payments.models import AuditEvent

PREFIX_ACTION = "stubcollector:idempotency-prefix"
_prefixes: dict[str, str] = {}


def _prefix_of(uuid) -> str:
    return f"sc{str(uuid).replace('-', '')[:12]}"


def idempotency_prefix() -> str:
    """`STRIPE_IDEMPOTENCY_PREFIX` when set, else a value made once per database and stored in it
    (a dj-stripe IdempotencyKey row of our own action), so a reset database gets a new one."""
    configured = getattr(settings, "STRIPE_IDEMPOTENCY_PREFIX", "")
    if configured:
        return configured

    name = str(connection.settings_dict.get("NAME"))
    cached = _prefixes.get(name)
    if cached and IdempotencyKey.objects.filter(uuid=cached, action=PREFIX_ACTION).exists():
        return _prefix_of(cached)
    return _prefix_made(name)


def _prefix_made(name: str) -> str:
    try:
        with transaction.atomic():
            row, _ = IdempotencyKey.objects.get_or_create(action=PREFIX_ACTION, livemode=False)
    except IntegrityError:  # made at the same moment by another process
        row = IdempotencyKey.objects.get(action=PREFIX_ACTION, livemode=False)
    _prefixes[name] = str(row.uuid)
    return _prefix_of(row.uuid)


def _failed_calls(*, order, action: str):
    # stripe_call stores the HTTP status as a JSON number, or null when Stripe did not answer
    # (a timeout). Both bounds keep that null out on every backend: PostgreSQL sorts a jsonb
    # null below numbers and true/false above them, SQLite compares the text 'null' as greater
    # than any number.
    return AuditEvent.objects.filter(
        order=order, action=action, data__http_status__gte=500, data__http_status__lt=600
    )


def server_failures(*, order, action: str) -> int:
    """How many times Stripe answered 5xx to `action` ("stripe.payment_intent.create") for `order`."""
    return _failed_calls(order=order, action=action).count()


# What _prefix_and_failures reads, in one statement: the prefix's row (none after a reset) and
# the 5xx answers as _failed_calls counts them. Written out rather than built by the ORM: the
# ORM's Subquery/Coalesce version took more CPU to compile than the two queries it replaced.
# The JSON test per backend, with _failed_calls' bounds: a jsonb number in [500, 600) (null sorts
# below numbers, true/false above), or in SQLite a JSON integer in that range.
_FIVE_XX = {
    "postgresql": "(data -> 'http_status') >= '500'::jsonb AND (data -> 'http_status') < '600'::jsonb",
    "sqlite": "json_type(data, '$.http_status') = 'integer'"
              " AND json_extract(data, '$.http_status') BETWEEN 500 AND 599",
}
_PREFIX_AND_FAILURES_SQL = (
    "SELECT (SELECT COUNT(*) FROM {audit} WHERE order_id = %s AND action = %s AND {five_xx})"
    " FROM {keys} WHERE uuid = %s AND action = %s"
)


def _prefix_and_failures(*, order, action: str) -> tuple[str, int]:
    """idempotency_prefix() and server_failures() in one query when the prefix is known."""
    configured = getattr(settings, "STRIPE_IDEMPOTENCY_PREFIX", "")
    name = str(connection.settings_dict.get("NAME"))
    cached = _prefixes.get(name)
    five_xx = _FIVE_XX.get(connection.vendor)
    if configured or not cached or five_xx is None:
        return idempotency_prefix(), server_failures(order=order, action=action)
    sql = _PREFIX_AND_FAILURES_SQL.format(
        audit=AuditEvent._meta.db_table, keys=IdempotencyKey._meta.db_table, five_xx=five_xx
    )
    uuid = IdempotencyKey._meta.get_field("uuid").get_db_prep_value(cached, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [order.pk, action, uuid, PREFIX_ACTION])
        found = cursor.fetchone()
    if found is None:  # the database was reset under this process: a new prefix
        return _prefix_made(name), server_failures(order=order, action=action)
    return _prefix_of(cached), int(found[0])


def order_idempotency_key(*, order, operation: str) -> str:
    """`<prefix>-order-<id>-<operation>`, with `-attempt-<n>` after Stripe answered 5xx."""
    prefix, failures = _prefix_and_failures(order=order, action=f"stripe.{operation.replace('-', '.')}")
    key = f"{prefix}-order-{order.pk}-{operation}"
    return key if not failures else f"{key}-attempt-{failures + 1}"
