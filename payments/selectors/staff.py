"""Reads for the staff admin: the to-do list on the admin index and the order search.

The to-do list gathers what waits for a person, in the words and order of the pages that do the
work: disputes waiting for our answer (nearest evidence deadline first; the disputes app adds that
section from its ready(), `staff_todo_section_register`), refunds Stripe has not
finished or that failed and were not tried again, Support's refund requests waiting for Finance,
orders flagged for staff or whose hold lapsed without being cancelled, and early fraud warnings
a refund can still act on. Each line links to the changelist filtered to exactly its rows (the
filters live with each admin), each item to its own page. A section shows only to staff whose
permissions let them open its pages (payments/staff.py); a superuser has them all. Two queries
per line (the count and the first few rows), whatever the number of rows.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import smart_split, unescape_string_literal

from marketplace.models import Stub
from marketplace.pricing import format_usd
from payments.models import (
    EarlyFraudWarning,
    Order,
    OrderStatus,
    Refund,
    RefundApproval,
    RefundApprovalStatus,
    RefundStatus,
)
from payments.order_disputes import order_disputes
from payments.services.reservations import lapsed_pending_orders

ITEMS_PER_LINE = 5
# A refund Stripe has not finished yet.
REFUND_UNFINISHED = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION)
# Who may open a section's pages (payments/staff.py gives these to Support and Finance).
FINANCE_PERMISSION = "payments.refund_order_any_amount"


@dataclass
class TodoItem:
    label: str
    url: str
    when: datetime | None = None
    note: str = ""


@dataclass
class TodoLine:
    label: str
    url: str
    count: int
    items: list[TodoItem]
    # "due" for a deadline (the nearest first), "since" for how long it has waited (the oldest).
    when_label: str = "since"

    @property
    def first_when(self) -> datetime | None:
        return next((item.when for item in self.items if item.when), None)


@dataclass
class TodoSection:
    key: str
    title: str
    lines: list[TodoLine] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(line.count for line in self.lines)


# -- the querysets each line counts (the admin filters named in each URL use the same ones) -------


def refunds_unfinished() -> QuerySet[Refund]:
    return Refund.objects.filter(status__in=REFUND_UNFINISHED)


def refunds_failed_unresolved() -> QuerySet[Refund]:
    """Failed refunds after which nobody refunded the order again (a later refund that did not
    fail is the follow-up)."""
    later = Refund.objects.filter(order=OuterRef("order"), pk__gt=OuterRef("pk")).exclude(
        status__in=(RefundStatus.FAILED, RefundStatus.CANCELED)
    )
    failed = Refund.objects.filter(status=RefundStatus.FAILED)
    return failed.alias(retried=Exists(later)).filter(retried=False)


def refund_approvals_open() -> QuerySet[RefundApproval]:
    return RefundApproval.objects.filter(status=RefundApprovalStatus.OPEN)


def orders_flagged() -> QuerySet[Order]:
    """Orders a service marked for a person (`Order.attention_reason`)."""
    return Order.objects.exclude(attention_reason="")


def orders_lapsed(*, now=None) -> QuerySet[Order]:
    """Orders still awaiting payment after their hold ended: the minute job
    (payments.tasks.release_expired_reservations) cancels them, so one that stays means Stripe
    did not cancel its PaymentIntent or the job is not running."""
    return lapsed_pending_orders(now=now)


def orders_not_shipped_in_time(*, now=None) -> QuerySet[Order]:
    """Paid, and still not shipped SHIP_WITHIN_DAYS later: the buyer is waiting and may soon ask
    their bank for the money back."""
    return Order.objects.filter(status=OrderStatus.PAID, shipped_at__isnull=True,
                                paid_at__lt=_shipping_cutoff(now or timezone.now()))


def fraud_warnings_actionable() -> QuerySet[EarlyFraudWarning]:
    return EarlyFraudWarning.objects.filter(actionable=True)


# -- the to-do list ------------------------------------------------------------------------------


def todo_line(label, url, qs, item, *, when_label="since") -> TodoLine:
    """One line: the first few rows of `qs` (each made a TodoItem by `item`) and their count."""
    rows = list(qs[:ITEMS_PER_LINE])
    count = len(rows) if len(rows) < ITEMS_PER_LINE else qs.count()
    return TodoLine(label=label, url=url, count=count, items=[item(row) for row in rows],
                    when_label=when_label)



def _change(model: str, pk) -> str:
    return reverse(f"admin:payments_{model}_change", args=[pk])


def _changelist(model: str, query: str) -> str:
    return f"{reverse(f'admin:payments_{model}_changelist')}?{query}"


def _refunds() -> TodoSection:
    def item(refund):
        return TodoItem(f"{format_usd(refund.amount_cents)} on order #{refund.order_id}",
                        _change("refund", refund.pk), refund.created_at, refund.failure_reason)

    return TodoSection("refunds", "Refunds not done", [
        todo_line("Pending at Stripe", _changelist("refund", "todo=unfinished"),
              refunds_unfinished().order_by("created_at", "pk"), item),
        todo_line("Failed, not tried again", _changelist("refund", "todo=failed"),
              refunds_failed_unresolved().order_by("created_at", "pk"), item),
    ])


def _approvals() -> TodoSection:
    qs = refund_approvals_open().select_related("requested_by").order_by("created_at", "pk")
    return TodoSection("approvals", "Refund requests waiting for Finance", [todo_line(
        "Waiting for a decision", _changelist("refundapproval", f"status={RefundApprovalStatus.OPEN}"), qs,
        lambda a: TodoItem(f"{format_usd(a.amount_cents)} on order #{a.order_id}, asked by {a.requested_by}",
                           _change("refundapproval", a.pk), a.created_at, a.why),
    )])


def _orders(now) -> TodoSection:
    return TodoSection("orders", "Orders that need staff", [
        todo_line("Flagged for a person", _changelist("order", "attention=yes"),
              orders_flagged().order_by("updated_at", "pk"),
              lambda o: TodoItem(f"Order #{o.pk}", _change("order", o.pk), o.updated_at, o.attention_reason)),
        todo_line("Hold lapsed, not cancelled", _changelist("order", "attention=lapsed"),
              orders_lapsed(now=now).order_by("reserved_until", "pk"),
              lambda o: TodoItem(f"Order #{o.pk}", _change("order", o.pk), o.reserved_until,
                                 "still awaiting payment")),
        todo_line(f"Paid over {settings.SHIP_WITHIN_DAYS} days ago, not shipped",
              _changelist("order", urlencode({"status__exact": OrderStatus.PAID, "shipped_at__isnull": "True",
                                              "paid_at__lt": _shipping_cutoff(now).isoformat()})),
              orders_not_shipped_in_time(now=now).select_related("seller").order_by("paid_at", "pk"),
              lambda o: TodoItem(f"Order #{o.pk}", _change("order", o.pk), o.paid_at,
                                 f"sold by {o.seller.display_name}")),
    ])


def _shipping_cutoff(now) -> datetime:
    return now - timedelta(days=settings.SHIP_WITHIN_DAYS)


def _fraud() -> TodoSection:
    qs = fraud_warnings_actionable().order_by("stripe_created", "pk")
    return TodoSection("fraud", "Early fraud warnings a refund can still act on", [todo_line(
        "Actionable", _changelist("earlyfraudwarning", "actionable__exact=1"), qs,
        lambda w: TodoItem(f"Order #{w.order_id}", _change("earlyfraudwarning", w.pk), w.stripe_created,
                           w.fraud_type_display),
    )])


# Sections of the apps above payments, before payments' own (disputes: their deadlines are the
# bank's): (the permission that opens its pages, build() -> TodoSection), in the order added.
_SECTIONS_FIRST: list[tuple[str, Callable[[], TodoSection]]] = []


def staff_todo_section_register(*, permission: str, build: Callable[[], TodoSection]) -> None:
    """Show `build()`'s section to staff with `permission`, before payments' sections (from an
    app's ready(); adding the same one twice changes nothing)."""
    if (permission, build) not in _SECTIONS_FIRST:
        _SECTIONS_FIRST.append((permission, build))


def staff_todo(*, user, now=None) -> list[TodoSection]:
    """The sections `user` may act on, in the order staff work them; [] for staff without the
    Support or Finance permissions."""
    now = now or timezone.now()
    sections = [build() for permission, build in _SECTIONS_FIRST if user.has_perm(permission)]
    if user.has_perm("payments.view_refund"):
        sections.append(_refunds())
    if user.has_perm(FINANCE_PERMISSION) and user.has_perm("payments.view_refundapproval"):
        sections.append(_approvals())
    if user.has_perm("payments.view_order"):
        sections.append(_orders(now))
    if user.has_perm("payments.view_earlyfraudwarning"):
        sections.append(_fraud())
    return sections


# -- order search ---------------------------------------------------------------------------------

# Stripe's id prefixes (https://docs.stripe.com/api) and the one indexed column each is found by:
# an id is matched exactly, never with a scan for a substring.
MAX_ORDER_ID = 2**63 - 1  # a bigger number is no order's (and would overflow the column)
STRIPE_ID = re.compile(r"^(?P<prefix>[a-z]+)_[A-Za-z0-9_]+$")


def _by_stripe_id(term: str) -> Q | None:
    match = STRIPE_ID.match(term)
    if not match:
        return None
    prefix = match["prefix"]
    if prefix == "pi":
        return Q(payment_intent_id=term)
    if prefix in ("ch", "py"):
        return Q(payment__charge_id=term)
    if prefix in ("re", "pyr"):
        return Q(pk__in=Refund.objects.filter(stripe_refund_id=term).values("order_id"))
    if prefix == "issfr":
        return Q(pk__in=EarlyFraudWarning.objects.filter(stripe_warning_id=term).values("order_id"))
    if prefix == "acct":
        return Q(seller__stripe_account_id=term)
    return order_disputes().orders_by_stripe_id(term)  # a dispute's (dp_, du_)


def _by_words(term: str) -> Q:
    """A buyer's or seller's username, name or email, or the stub's event, containing `term`."""
    people = get_user_model().objects.filter(
        Q(username__icontains=term) | Q(email__icontains=term)
        | Q(first_name__icontains=term) | Q(last_name__icontains=term)
    ).values("pk")
    stubs = Stub.objects.filter(event_name__icontains=term).values("pk")
    return Q(buyer__in=people) | Q(seller__in=people) | Q(listing__stub__in=stubs)


def order_search(queryset: QuerySet[Order], search: str) -> QuerySet[Order]:
    """Orders matching every word of `search` (as Django's admin search does): a Stripe id
    exactly; an order number ("42" or "#42") exactly or in a name or event; anything else in
    people's usernames, names and emails and the stub's event. Subqueries, not joins to the
    many side, so an order is never listed twice."""
    for bit in smart_split(search):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1] and len(bit) > 1:
            bit = unescape_string_literal(bit)
        number = bit.removeprefix("#")
        if number.isascii() and number.isdigit() and len(number) < 20 and int(number) <= MAX_ORDER_ID:
            queryset = queryset.filter(Q(pk=int(number)) | _by_words(bit))
        else:
            queryset = queryset.filter(_by_stripe_id(bit) or _by_words(bit))
    return queryset
