"""Refunds: one service behind the admin button, the admin action and the refund route.

A refund is a `Refund` row before it is a Stripe call (docs/architecture.md, "Money and state"):

1. `refund_request` locks the order, checks who may refund (`refund_permission_check`, the one
   check every path runs) and, for Support, how much (`refund_support_blocker`: Support's total
   on the order and the agent's total of the day; above either the request becomes a
   `RefundApproval` for Finance instead of a refund), answers a double submit with the row it
   already made (same one-time token / Idempotency-Key, or the same user, order and amount
   within 60 s), and creates the row `pending`. The refunded total counts this row from now on,
   so a parallel click sees less left to refund and webhook timing cannot change what a click
   means.
2. `refund_send`, after the commit, asks Stripe on the seller's account with the idempotency
   key `refund-<row id>-<attempt>`. The attempt moves on only after Stripe answered 5xx or
   timed out *and* the payment's refunds show none carrying this row's id in metadata: a retry
   neither replays a stored 5xx (Stripe keeps the first answer to a key for 24 hours) nor
   refunds twice. A refusal (4xx) marks the row failed with Stripe's reason.
3. `refunds_apply` brings the order in line with its rows: every Stripe answer and every
   `charge.refunded` / `charge.refund.updated` / `refund.*` webhook (payments/services/
   payment_events.py) lands here, under the order's lock. Statuses only move forward
   (pending → succeeded → failed; failed and canceled are final), so a stale read cannot undo
   a newer one. The order's refunded total counts refunds that did not fail; the listing goes
   back on sale only once a full refund has *succeeded*, and by itself only when the order was
   not shipped (a shipped stub waits for its seller: fulfilment.order_relist); a refund that
   fails puts the order back, takes the stub off sale again (or flags the order for staff when it sold again).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from marketplace.models import Listing, ListingStatus
from marketplace.pricing import fee_refund_cents, format_usd
from marketplace.services import listing_mark_sold, listing_return_to_sale
from payments import stripe_api
from payments.models import (
    LIVE_ORDER_STATUSES,
    REFUND_COUNTING_STATUSES,
    REFUND_FINAL_STATUSES,
    REFUNDABLE_ORDER_STATUSES,
    MarketplaceRefundReason,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundApproval,
    RefundApprovalStatus,
    RefundReason,
    RefundStatus,
    refund_reason_words,
)
from payments.order_disputes import PAYMENT_DISPUTE_LOST, PAYMENT_DISPUTE_OPEN, order_disputes
from payments.services import notifications
from payments.services.audit import audit_record
from payments.services.orders import order_transition
from payments.stripe_api import plain

logger = logging.getLogger(__name__)

S = OrderStatus
R = RefundStatus

DOUBLE_SUBMIT_WINDOW = timedelta(seconds=60)
# Far longer than one Stripe call can take with the SDK's retries (STRIPE_TIMEOUT_SECONDS, 10 s,
# three tries): a row untouched this long has no call of its own still on the way.
UNSENT_REFUND_GRACE = timedelta(minutes=5)
BUYER_NOTE_MAX_LENGTH = 1000

# The reason Stripe is sent for each of ours: Stripe knows only its three, and treats
# `fraudulent` as a report that blocks the card
# (https://docs.stripe.com/api/refunds/create#create_refund-reason). Stripe's reason is optional,
# so a refund none of them describes is sent without one.
M = MarketplaceRefundReason
STRIPE_REASON_FOR = {
    M.NOT_AS_DESCRIBED: RefundReason.REQUESTED_BY_CUSTOMER,
    M.NOT_RECEIVED: RefundReason.REQUESTED_BY_CUSTOMER,
    M.DAMAGED: RefundReason.REQUESTED_BY_CUSTOMER,
    M.CANCELLED_BY_SELLER: "",
    M.OTHER: "",
}
SUPPORT_DAY = timedelta(hours=24)

# Where a status may go next: forward only, so an out-of-date read never moves a refund back.
# A succeeded card refund can still fail later (Stripe's asynchronous failure).
NEXT_STATUSES = {
    R.PENDING: {R.REQUIRES_ACTION, R.SUCCEEDED, R.FAILED, R.CANCELED},
    R.REQUIRES_ACTION: {R.PENDING, R.SUCCEEDED, R.FAILED, R.CANCELED},
    R.SUCCEEDED: {R.FAILED},
    R.FAILED: set(),
    R.CANCELED: set(),
}


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "No such order."


class OrderNotRefundable(Conflict):
    code = "order_not_refundable"
    message = "Only a paid order can be refunded."


class InvalidRefundAmount(DomainError):
    code = "invalid_amount"
    status = 400
    message = "The amount must be a whole number of cents, more than 0 and not above what is left to refund."


class InvalidRefundReason(DomainError):
    code = "invalid_reason"
    status = 400
    message = (
        "The reason must be one of: "
        + ", ".join([*RefundReason.values, *MarketplaceRefundReason.values]) + "."
    )


class InvalidRefundNote(DomainError):
    code = "invalid_note"
    status = 400
    message = f"The note to the buyer must be text of at most {BUYER_NOTE_MAX_LENGTH} characters."


class InvalidRequestToken(DomainError):
    code = "invalid_idempotency_key"
    status = 400
    message = "The Idempotency-Key must be printable ASCII characters."


class FraudulentRefundNotAllowed(PermissionDenied):
    code = "reason_not_allowed"
    message = (
        "Only our staff can refund a payment as fraudulent (Stripe then blocks the card). "
        "Choose another reason, or contact us if you think the payment was fraud."
    )


class RefundNotAllowed(PermissionDenied):
    code = "refund_not_allowed"
    message = "You are not allowed to refund this order."


class RefundApprovalNotFound(NotFound):
    code = "refund_approval_not_found"
    message = "No such refund request."


class RefundApprovalDecided(Conflict):
    code = "refund_approval_decided"


class RefundRefused(Conflict):
    """Stripe refused the refund (4xx): its reason, not "the provider did not answer"."""

    code = "refund_refused"


@dataclass(frozen=True)
class RefundPreview:
    """What a refund will do, for the confirmation page, before anything is sent."""

    order: Order
    amount_cents: int
    fee_returned_cents: int
    remaining_cents: int
    # Why Support's request would go to Finance for approval instead ("" when it is refunded).
    needs_approval: str = ""

    @property
    def seller_loses_cents(self) -> int:
        return self.amount_cents - self.fee_returned_cents

    @property
    def full(self) -> bool:
        return self.amount_cents >= self.remaining_cents


# -- input -------------------------------------------------------------------------------------


def refund_amount_parse(value) -> int | None:
    """JSON bodies: `None`/"" means "all that is left"; otherwise a positive whole number of cents."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidRefundAmount()
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        # isascii(): "²".isdigit() is True but int("²") raises.
        amount = int(value.strip())
    else:
        raise InvalidRefundAmount()
    if amount <= 0:
        raise InvalidRefundAmount()
    return amount


def refund_reason_parse(value) -> str:
    """One of Stripe's reasons or one of ours (MarketplaceRefundReason); none given means
    the buyer asked."""
    if value is None or value == "":
        return RefundReason.REQUESTED_BY_CUSTOMER
    if not isinstance(value, str) or value not in (*RefundReason.values, *MarketplaceRefundReason.values):
        raise InvalidRefundReason()
    return value


def refund_reason_split(reason: str) -> tuple[str, str]:
    """(the reason Stripe is sent, ours) for a reason from `refund_reason_parse`."""
    if reason in MarketplaceRefundReason.values:
        return STRIPE_REASON_FOR[MarketplaceRefundReason(reason)], reason
    return refund_reason_parse(reason), ""


def refund_reason_label(reason: str) -> str:
    """A reason from `refund_reason_parse` in words, for a confirmation page."""
    stripe_reason, ours = refund_reason_split(reason)
    return refund_reason_words(reason=stripe_reason, marketplace_reason=ours)


def refund_reason_choices(*, user) -> list[tuple[str, str]]:
    """The reasons a refund form offers `user`: ours first, then Stripe's; `fraudulent` only to
    staff who may refund (it reports the card to Stripe, `refund_reason_check`)."""
    stripe_reasons = [
        (value, label) for value, label in RefundReason.choices
        if value != RefundReason.FRAUDULENT or refund_limit_cents(user=user) != 0
    ]
    return [(RefundReason.REQUESTED_BY_CUSTOMER, RefundReason.REQUESTED_BY_CUSTOMER.label),
            *MarketplaceRefundReason.choices,
            *[choice for choice in stripe_reasons if choice[0] != RefundReason.REQUESTED_BY_CUSTOMER]]


def refund_reason_check(*, user, reason: str) -> None:
    """A seller may not call their own sale fraudulent: Stripe would block the buyer's card on
    the seller's word. Staff with a refund permission may."""
    if reason == RefundReason.FRAUDULENT and refund_limit_cents(user=user) == 0:
        raise FraudulentRefundNotAllowed()


def refund_buyer_note_parse(value) -> str:
    """The optional note to the buyer: text, at most BUYER_NOTE_MAX_LENGTH characters."""
    if value is None:
        return ""
    # PostgreSQL cannot store NUL in a text column (a DataError, a 500).
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidRefundNote()
    value = value.strip()
    if len(value) > BUYER_NOTE_MAX_LENGTH:
        raise InvalidRefundNote()
    return value


def refund_request_token_parse(value: str) -> str:
    """A form's one-time token or a JSON client's Idempotency-Key: printable ASCII, as Stripe's
    own keys are (a NUL cannot even be stored: PostgreSQL refuses it, a DataError and a 500). The
    first 64 characters are kept (Refund.request_token)."""
    if not all(" " <= char <= "~" for char in value):
        raise InvalidRequestToken()
    return value[:64]


# -- who may refund ----------------------------------------------------------------------------


def refund_limit_cents(*, user) -> int | None:
    """The most `user` may have refunded on someone else's order in total, without Finance's
    approval: None for no limit, 0 for no refunds at all."""
    if not (user and user.is_authenticated and user.is_active):
        return 0
    if user.has_perm("payments.refund_order_any_amount"):
        return None
    if user.has_perm("payments.refund_order"):
        return settings.SUPPORT_REFUND_LIMIT_CENTS
    return 0


def user_can_refund(*, user, order: Order) -> bool:
    """Whether to show a refund button at all (the amount is checked when it is asked)."""
    if user and user.is_authenticated and order.seller_id == user.pk:
        return True
    return refund_limit_cents(user=user) != 0


def refund_permission_check(*, user, order: Order) -> None:
    """The one check for every refund path: the order's seller refunds their own sales; staff
    with `refund_order_any_amount` (Finance) any amount; with `refund_order` (Support) within
    Support's limits, above which a request waits for Finance (`refund_support_blocker`).
    Anyone else learns nothing about the order (404), except staff, who can see it and are told
    why not (403)."""
    if user and user.is_authenticated and order.seller_id == user.pk:
        return
    if refund_limit_cents(user=user) != 0:
        return
    if not (user and user.is_authenticated and user.is_staff):
        raise OrderNotFound()
    raise RefundNotAllowed("You do not have permission to refund orders.")


def refund_by_support(*, user, order: Order) -> bool:
    """Whether `user` refunds `order` within Support's limits (not its seller, not Finance)."""
    return order.seller_id != user.pk and refund_limit_cents(user=user) not in (None, 0)


def refund_support_blocker(*, user, order: Order, amount_cents: int, now) -> str:
    """Why Support may not refund `amount_cents` of `order` without Finance ("" if it may).

    Support's refunds that hand money back (pending, requires_action, succeeded) count: on the
    order, everyone in Support together up to SUPPORT_REFUND_LIMIT_CENTS; per agent, up to
    SUPPORT_REFUND_DAILY_LIMIT_CENTS in any 24 hours. Final only when called under the order's
    and the agent's row locks (`_refund_open`), so parallel requests are judged one by one.
    """
    counting = Refund.objects.filter(by_support=True, status__in=REFUND_COUNTING_STATUSES)
    on_order = counting.filter(order=order).aggregate(total=Sum("amount_cents"))["total"] or 0
    limit = settings.SUPPORT_REFUND_LIMIT_CENTS
    if on_order + amount_cents > limit:
        return (
            f"Support may refund up to {format_usd(limit)} of one order in total "
            f"({format_usd(on_order)} refunded by Support so far)."
        )
    today = (
        counting.filter(requested_by=user, created_at__gt=now - SUPPORT_DAY)
        .aggregate(total=Sum("amount_cents"))["total"] or 0
    )
    daily = settings.SUPPORT_REFUND_DAILY_LIMIT_CENTS
    if today + amount_cents > daily:
        return (
            f"You may refund up to {format_usd(daily)} in 24 hours "
            f"({format_usd(today)} refunded by you so far)."
        )
    return ""


# -- totals ------------------------------------------------------------------------------------


def refunded_total_cents(*, order: Order) -> int:
    """Refunds that did not fail (pending ones included): money promised back to the buyer."""
    return sum(r.amount_cents for r in order.refunds.all() if r.status not in REFUND_FINAL_STATUSES)


def _refundable_now(*, order: Order, payment: Payment) -> int:
    return max(
        0, payment.amount_cents - max(refunded_total_cents(order=order), payment.amount_refunded_cents)
    )


def _dispute_allows_refund(order: Order) -> bool:
    """Stripe's `is_charge_refundable` on the order's open dispute: true during an inquiry (no
    money taken yet; a refund is the cheapest way out), false for a chargeback. The disputes app
    answers (payments/order_disputes.py).
    https://docs.stripe.com/api/disputes/object#dispute_object-is_charge_refundable"""
    return order_disputes().refund_allowed(order)


def order_paid_refundable(*, order: Order) -> bool:
    """Whether the order is paid, not refunded in full and not disputed: the refund its seller is
    offered on the order page (payments.selectors.orders.order_actions_for), and what staff refund
    outside a dispute."""
    return order.status in REFUNDABLE_ORDER_STATUSES


def order_refundable_status(*, order: Order) -> bool:
    """Whether the order's status lets it be refunded at all (what is left is checked when asked):
    a paid one, or a disputed one while its dispute is an inquiry Stripe still lets us refund."""
    if order.status == S.DISPUTED:
        return _dispute_allows_refund(order)
    return order_paid_refundable(order=order)


def _refundable_payment(order: Order) -> Payment:
    payment = Payment.objects.filter(order=order).first()
    if order.status == S.DISPUTED and not _dispute_allows_refund(order):
        raise OrderNotRefundable(
            f"Order #{order.pk} is disputed: the card's bank holds the money, so Stripe cannot refund "
            "it. Answer the dispute instead (or accept it to give the money back)."
        )
    if (not order_paid_refundable(order=order) and order.status != S.DISPUTED) or payment is None:
        raise OrderNotRefundable(
            f"Order #{order.pk} is {order.get_status_display().lower()}; only a paid order can be refunded."
        )
    return payment


def _amount_to_refund(*, order: Order, asked_cents: int | None, remaining_cents: int) -> int:
    """What is asked (default: everything left), if it is more than 0 and not above what is left."""
    if remaining_cents <= 0:
        raise OrderNotRefundable(f"Order #{order.pk} has already been refunded in full.")
    amount = remaining_cents if asked_cents is None else asked_cents
    if amount <= 0 or amount > remaining_cents:
        raise InvalidRefundAmount(
            f"The amount must be between $0.01 and {format_usd(remaining_cents)} (what is left to refund)."
        )
    return amount


def refund_preview(
    *, order_id: int, user, amount_cents: int | None = None, reason: str = ""
) -> RefundPreview:
    """What refunding `amount_cents` (default: all that is left) would do; nothing is sent."""
    order = Order.objects.filter(pk=order_id).select_related("payment").first()
    if order is None:
        raise OrderNotFound()
    refund_permission_check(user=user, order=order)  # before anything tells a stranger about it
    refund_reason_check(user=user, reason=reason)
    payment = _refundable_payment(order)
    remaining = _refundable_now(order=order, payment=payment)
    amount = _amount_to_refund(order=order, asked_cents=amount_cents, remaining_cents=remaining)
    needs_approval = (
        refund_support_blocker(user=user, order=order, amount_cents=amount, now=timezone.now())
        if refund_by_support(user=user, order=order)
        else ""
    )
    refunded = payment.amount_cents - remaining
    fee_back = fee_refund_cents(
        amount_cents=payment.amount_cents,
        fee_cents=payment.application_fee_cents,
        refund_cents=amount,
        refunded_before_cents=refunded,
        fee_refunded_before_cents=payment.fee_refunded_cents,
    )
    return RefundPreview(
        order=order,
        amount_cents=amount,
        fee_returned_cents=fee_back,
        remaining_cents=remaining,
        needs_approval=needs_approval,
    )


# -- asking for a refund -----------------------------------------------------------------------


def refund_request(
    *,
    order_id: int,
    actor,
    amount_cents: int | None = None,
    reason: str = RefundReason.REQUESTED_BY_CUSTOMER,
    note: str = "",
    buyer_note: str = "",
    request_token: str = "",
    request=None,
    now=None,
) -> Refund | RefundApproval:
    """Refund `amount_cents` (default: everything left) of an order: the row, then Stripe.

    `reason` is one of Stripe's or one of ours (`refund_reason_parse`; Stripe gets the nearest
    of its own); `note` is for staff, `buyer_note` goes in the buyer's refund emails.

    Returns the Refund row (a double submit gets the first one back), or, when Support asks
    for more than its limits allow, the RefundApproval waiting for Finance. Raises OrderNotFound
    (404) for anyone who may not see the order, RefundNotAllowed (403), OrderNotRefundable /
    RefundRefused (409), InvalidRefundAmount (400) or PaymentProviderError (502: the row stays
    pending and the same request can be repeated safely).
    """
    refund, created = _refund_open(
        order_id=order_id,
        actor=actor,
        amount_cents=amount_cents,
        reason=reason,
        note=note,
        buyer_note=refund_buyer_note_parse(buyer_note),
        request_token=refund_request_token_parse(request_token),
        request=request,
        now=now or timezone.now(),
    )
    if isinstance(refund, RefundApproval) or refund.sent or refund.status in REFUND_FINAL_STATUSES:
        return refund
    return refund_send(refund_id=refund.pk, actor=actor, request=request)


@transaction.atomic
def _refund_open(
    *, order_id, actor, amount_cents, reason, note, buyer_note, request_token, request, now
) -> tuple[Refund | RefundApproval, bool]:
    # Lock while checking, so two refunds of one order are judged one after the other.
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound()
    if not (actor and actor.is_authenticated and (actor.is_staff or order.seller_id == actor.pk)):
        raise OrderNotFound()
    if not user_can_refund(user=actor, order=order):
        refund_permission_check(user=actor, order=order)
    if request_token:
        earlier = order.refunds.filter(requested_by=actor, request_token=request_token).first()
        if earlier is not None:
            return earlier, False
    elif amount_cents is None:
        # "Refund everything" clicked twice: the first click's refund is the answer.
        earlier = (
            order.refunds.filter(
                requested_by=actor,
                created_at__gte=now - DOUBLE_SUBMIT_WINDOW,
            )
            .exclude(status__in=REFUND_FINAL_STATUSES)
            .first()
        )
        if earlier is not None and _refundable_now(order=order, payment=order.payment) <= 0:
            return earlier, False
    payment = _refundable_payment(order)
    remaining = _refundable_now(order=order, payment=payment)
    if amount_cents is not None and not request_token:
        # A double click without a token: the same person, order and amount within a minute.
        earlier = (
            order.refunds.filter(
                requested_by=actor,
                amount_cents=amount_cents,
                created_at__gte=now - DOUBLE_SUBMIT_WINDOW,
            )
            .exclude(status__in=REFUND_FINAL_STATUSES)
            .first()
        )
        if earlier is not None:
            return earlier, False
    amount = _amount_to_refund(order=order, asked_cents=amount_cents, remaining_cents=remaining)
    refund_permission_check(user=actor, order=order)
    refund_reason_check(user=actor, reason=reason)
    asked = _as_asked(order=order, actor=actor, amount=amount, reason=reason, note=note,
                      buyer_note=buyer_note, request_token=request_token)
    by_support = refund_by_support(user=actor, order=order)
    if by_support:
        # The agent's row too: their 24-hour total spans orders, which the order's lock does not.
        list(get_user_model().objects.select_for_update().filter(pk=actor.pk).values_list("pk"))
        why = refund_support_blocker(user=actor, order=order, amount_cents=amount, now=now)
        if why:
            return _approval_open(asked=asked, reason=reason, why=why, request=request, now=now)
    refund = Refund.objects.create(**asked, by_support=by_support)
    audit_record(
        action="refund.requested",
        actor=actor,
        order=order,
        request=request,
        message=f"Refund of {format_usd(amount)} asked for — {refund.reason_words.lower()}",
        data={"refund": refund.pk, "amount_cents": amount, "reason": reason},
    )
    return refund, True


def _as_asked(*, order, actor, amount, reason, note, buyer_note, request_token) -> dict:
    """The fields a refund and a request for Finance's approval both store: what was asked (the
    reason split into Stripe's and ours), of which order, by whom."""
    stripe_reason, marketplace_reason = refund_reason_split(reason)
    return {
        "order": order,
        "amount_cents": amount,
        "reason": stripe_reason,
        "marketplace_reason": marketplace_reason,
        "note": note,
        "buyer_note": buyer_note,
        "requested_by": actor,
        "request_token": request_token,
    }


def _approval_open(*, asked: dict, reason, why, request, now) -> tuple[RefundApproval, bool]:
    """Support's request above its limits becomes Finance's to-do; a double submit finds it."""
    order, actor, amount = asked["order"], asked["requested_by"], asked["amount_cents"]
    earlier_requests = order.refund_approvals.filter(requested_by=actor)
    if asked["request_token"]:
        earlier = earlier_requests.filter(request_token=asked["request_token"]).first()
    else:
        earlier = earlier_requests.filter(
            amount_cents=amount, status=RefundApprovalStatus.OPEN, created_at__gte=now - DOUBLE_SUBMIT_WINDOW
        ).first()
    if earlier is not None:
        return earlier, False
    approval = RefundApproval.objects.create(**asked, why=why[:300])
    audit_record(
        action="refund.approval_requested",
        actor=actor,
        order=order,
        request=request,
        message=f"Refund of {format_usd(amount)} sent to Finance for approval: {why}",
        data={"refund_approval": approval.pk, "amount_cents": amount, "reason": reason},
    )
    return approval, True


def refund_approval_message(approval: RefundApproval) -> str:
    """What the Support agent is told when a request waits for Finance."""
    return f"Refund of {format_usd(approval.amount_cents)} sent to Finance for approval: {approval.why}"


def _approval_lock(*, approval_id: int, actor) -> RefundApproval:
    """Lock the request's order, then the request (the order first, as every refund path does),
    and check that `actor` is Finance and the request still waits."""
    order_id = RefundApproval.objects.filter(pk=approval_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise RefundApprovalNotFound()
    list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk"))
    approval = RefundApproval.objects.select_for_update().get(pk=approval_id)
    if not (actor and actor.is_active and actor.has_perm("payments.refund_order_any_amount")):
        raise RefundNotAllowed("Only Finance approves or declines refunds above Support's limits.")
    if approval.status != RefundApprovalStatus.OPEN:
        raise RefundApprovalDecided(
            f"This refund request was already {approval.get_status_display().lower()}."
        )
    return approval


def refund_approval_approve(*, approval_id: int, actor, request=None) -> Refund:
    """Finance approves Support's request: the same refund Finance would make itself."""
    with transaction.atomic():
        approval = _approval_lock(approval_id=approval_id, actor=actor)
        refund, _ = _refund_open(
            order_id=approval.order_id,
            actor=actor,
            amount_cents=approval.amount_cents,
            reason=approval.marketplace_reason or approval.reason or RefundReason.REQUESTED_BY_CUSTOMER,
            note=approval.note,
            buyer_note=approval.buyer_note,
            request_token=f"approval-{approval.pk}",
            request=request,
            now=timezone.now(),
        )
        approval.status = RefundApprovalStatus.APPROVED
        approval.refund = refund
        approval.decided_by = actor
        approval.decided_at = timezone.now()
        approval.save(update_fields=["status", "refund", "decided_by", "decided_at", "updated_at"])
        audit_record(
            action="refund.approved",
            actor=actor,
            order=approval.order,
            request=request,
            message=f"Finance approved Support's refund of {format_usd(approval.amount_cents)}",
            data={"refund_approval": approval.pk, "refund": refund.pk},
        )
    if refund.sent or refund.status in REFUND_FINAL_STATUSES:
        return refund
    return refund_send(refund_id=refund.pk, actor=actor, request=request)


@transaction.atomic
def refund_approval_decline(*, approval_id: int, actor, request=None) -> RefundApproval:
    """Finance declines Support's request: nothing is refunded."""
    approval = _approval_lock(approval_id=approval_id, actor=actor)
    approval.status = RefundApprovalStatus.DECLINED
    approval.decided_by = actor
    approval.decided_at = timezone.now()
    approval.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(
        action="refund.declined",
        actor=actor,
        order=approval.order,
        request=request,
        message=f"Finance declined Support's refund of {format_usd(approval.amount_cents)}",
        data={"refund_approval": approval.pk},
    )
    return approval


def refund_idempotency_key(refund: Refund) -> str:
    # The PaymentIntent id keeps keys unique even if row ids restart (a database reset against
    # a long-lived Stripe account).
    return f"refund-{refund.order.payment_intent_id}-{refund.pk}-{refund.attempt}"


def _refund_on_stripe(*, refund: Refund, order: Order) -> dict | None:
    """The Stripe refund carrying this row's id in metadata, if an earlier attempt made one."""
    for stripe_refund in stripe_api.refund_list(
        payment_intent_id=order.payment_intent_id,
        stripe_account=order.stripe_account_id,
        order=order,
    ):
        if str((stripe_refund.get("metadata") or {}).get("refund_row_id") or "") == str(refund.pk):
            return plain(stripe_refund)
    return None


def refund_send(*, refund_id: int, actor=None, request=None) -> Refund:
    """Ask Stripe for a pending row's refund (again, after a 5xx or a timeout). Idempotent."""
    with transaction.atomic():
        refund, order = _lock_refund(refund_id)
        if refund.sent or refund.status in REFUND_FINAL_STATUSES:
            return refund
        retrying = bool(refund.last_error)
        # A row left unsent long ago (its process died around the call) may have reached Stripe
        # under a key Stripe has forgotten since (it keeps keys 24 hours): look before asking.
        stale = refund.updated_at <= timezone.now() - UNSENT_REFUND_GRACE
    found = _refund_on_stripe(refund=refund, order=order) if retrying or stale else None
    if found is None:
        if retrying:
            # Stripe made nothing for the last key: a new key, so its stored 5xx is not replayed.
            Refund.objects.filter(pk=refund.pk).update(attempt=refund.attempt + 1, updated_at=timezone.now())
            refund.attempt += 1
        payment = Payment.objects.get(order=order)
        try:
            found = plain(
                stripe_api.refund_create(
                    order=order,
                    amount_cents=refund.amount_cents,
                    idempotency_key=refund_idempotency_key(refund),
                    actor=actor,
                    charge_id=payment.charge_id,
                    reason=refund.reason or None,
                    metadata={"refund_row_id": str(refund.pk)},
                )
            )
        except DomainError as error:
            return _refund_not_sent(refund=refund, error=error, actor=actor, request=request)
    return refund_record(stripe_refund=found, order_id=order.pk, actor=actor, request=request)


def refunds_send_unsent(*, now=None, limit: int = 50) -> dict:
    """Send the pending rows Stripe has no answer for, oldest first: a process that died (or a
    database that went away) between a row's commit and its Stripe call, or Stripe answering 5xx.
    Only rows untouched for UNSENT_REFUND_GRACE: no call of theirs can still be in flight (the
    SDK gives up within STRIPE_TIMEOUT_SECONDS times its retries). Each goes through
    `refund_send`, so a refund Stripe already made is found by its row id, not made twice."""
    now = now or timezone.now()
    ids = list(
        Refund.objects.filter(
            status=RefundStatus.PENDING, stripe_refund_id="", updated_at__lte=now - UNSENT_REFUND_GRACE
        )
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    report = {"sent": 0, "not_sent": 0, "refused": 0}
    for refund_id in ids:
        try:
            refund_send(refund_id=refund_id)
        except RefundRefused:
            report["refused"] += 1
        except DomainError as error:
            report["not_sent"] += 1
            logger.warning("Refund #%s still not sent: %s", refund_id, error.message)
        else:
            report["sent"] += 1
    return report


def _lock_refund(refund_id: int) -> tuple[Refund, Order]:
    """Lock a refund's order, then the refund: every path locks in that order (order, payment,
    refunds), so parallel clicks and webhooks wait for each other instead of deadlocking."""
    order_id = Refund.objects.values_list("order_id", flat=True).get(pk=refund_id)
    order = Order.objects.select_for_update().get(pk=order_id)
    return Refund.objects.select_for_update().get(pk=refund_id), order


def _refund_not_sent(*, refund: Refund, error: DomainError, actor, request) -> Refund:
    with transaction.atomic():
        locked, _ = _lock_refund(refund.pk)
        if error.status >= 500:
            locked.last_error = f"{error.code}: {error.message}"[:300]
            locked.save(update_fields=["last_error", "updated_at"])
            audit_record(
                action="refund.not_sent",
                actor=actor,
                order=locked.order,
                request=request,
                message=f"Stripe did not answer the refund of {format_usd(locked.amount_cents)}; "
                "it can be sent again safely.",
            )
        else:
            locked.status = R.FAILED
            locked.failure_reason = error.message[:200]
            locked.settled_at = timezone.now()
            locked.save(update_fields=["status", "failure_reason", "settled_at", "updated_at"])
            audit_record(
                action="refund.refused",
                actor=actor,
                order=locked.order,
                request=request,
                message=f"Stripe refused the refund of {format_usd(locked.amount_cents)}: {error.message}",
            )
    if error.status >= 500:
        raise error
    raise RefundRefused(f"Stripe refused the refund: {error.message}") from error


# -- what Stripe says --------------------------------------------------------------------------


def _row_for(stripe_refund: dict, order: Order) -> Refund | None:
    row = order.refunds.select_for_update().filter(stripe_refund_id=stripe_refund["id"]).first()
    if row is not None:
        return row
    row_id = str((stripe_refund.get("metadata") or {}).get("refund_row_id") or "")
    if row_id.isdigit():
        return order.refunds.select_for_update().filter(pk=int(row_id), stripe_refund_id="").first()
    return None


def _row_update(*, row: Refund, stripe_refund: dict) -> tuple[str, str]:
    """Copy Stripe's refund onto our row, forward only. Returns (status before, status after);
    before is "" when Stripe tells us of this refund for the first time."""
    before = row.status if row.stripe_refund_id else ""
    status = stripe_refund.get("status") or R.PENDING
    if status not in R.values:
        logger.warning("Refund %s has a status we do not know: %s", stripe_refund["id"], status)
        status = row.status
    if before and status != before and status not in NEXT_STATUSES[R(before)]:
        status = before  # an older read of a refund we know more about
    row.stripe_refund_id = stripe_refund["id"]
    row.status = status
    row.last_error = ""
    if status == R.FAILED:
        row.failure_reason = (stripe_refund.get("failure_reason") or "unknown")[:200]
    if status != before and status in (R.SUCCEEDED, R.FAILED, R.CANCELED):
        row.settled_at = timezone.now()
    row.save()
    return before, status


@transaction.atomic
def refund_record(
    *, stripe_refund: dict, order_id: int, actor=None, request=None, event_id: str = ""
) -> Refund:
    """Stripe answered the refund request: record it and bring the order in line."""
    order = Order.objects.select_for_update().get(pk=order_id)
    refunds_apply(
        order=order, stripe_refunds=[stripe_refund], event_id=event_id, actor=actor, request=request
    )
    return _row_for(stripe_refund, order) or order.refunds.get(stripe_refund_id=stripe_refund["id"])


def refunds_apply(
    *,
    order: Order,
    stripe_refunds: list[dict],
    event_id: str = "",
    actor=None,
    request=None,
    fee_refunded_cents: int | None = None,
) -> None:
    """Bring a locked order, its Payment and its Refund rows in line with Stripe's refunds.

    `stripe_refunds` is what Stripe returned (all of a payment's refunds from a webhook, or the
    one just created); refunds made elsewhere (the late-payment refund, Stripe's dashboard)
    get a row of their own.
    """
    payment = Payment.objects.select_for_update().filter(order=order).first()
    if payment is None:
        return
    succeeded_before = _succeeded_total(order)
    changes = []
    for stripe_refund in stripe_refunds:
        stripe_refund = plain(stripe_refund)
        row = _row_for(stripe_refund, order)
        if row is None:
            row = Refund.objects.create(
                order=order,
                stripe_refund_id=stripe_refund["id"],
                amount_cents=int(stripe_refund["amount"]),
                reason=stripe_refund.get("reason") or "",
                status=R.PENDING,
                note="Made outside this site's refund form (Stripe dashboard or an automatic refund).",
            )
        before, after = _row_update(row=row, stripe_refund=stripe_refund)
        if before != after:
            changes.append((row, before, after))
    total = refunded_total_cents(order=order)
    payment.amount_refunded_cents = min(payment.amount_cents, total)
    if fee_refunded_cents is not None:
        payment.fee_refunded_cents = min(
            payment.application_fee_cents, max(payment.fee_refunded_cents, fee_refunded_cents)
        )
    payment.status = payment_status(payment)
    payment.save()
    _order_follow_refunds(
        order=order,
        payment=payment,
        total=total,
        event_id=event_id,
        actor=actor,
        request=request,
        succeeded_before=succeeded_before,
    )
    for row, before, after in changes:
        _refund_told(
            order=order,
            refund=row,
            before=before,
            after=after,
            event_id=event_id,
            actor=actor,
            request=request,
        )


def _succeeded_total(order: Order) -> int:
    return sum(r.amount_cents for r in order.refunds.all() if r.status == R.SUCCEEDED)


def payment_status(payment: Payment) -> str:
    dispute = order_disputes().payment_state(payment.dispute_status) if payment.dispute_status else ""
    if dispute == PAYMENT_DISPUTE_LOST:
        return PaymentStatus.DISPUTE_LOST
    if dispute == PAYMENT_DISPUTE_OPEN:
        return PaymentStatus.DISPUTED
    if payment.amount_refunded_cents and payment.amount_refunded_cents >= payment.amount_cents:
        return PaymentStatus.REFUNDED
    if payment.amount_refunded_cents:
        return PaymentStatus.PARTIALLY_REFUNDED
    return PaymentStatus.SUCCEEDED


def status_without_refunds(order: Order) -> str:
    """Where an order stands when no refund counts: as far as it got before."""
    if order.completed_at:
        return S.COMPLETED
    if order.shipped_at:
        return S.SHIPPED
    return S.PAID


def _order_follow_refunds(*, order, payment, total, event_id, actor, request, succeeded_before) -> None:
    full = total >= payment.amount_cents
    target = S.REFUNDED if full else S.PARTIALLY_REFUNDED if total else status_without_refunds(order)
    # A full refund during an inquiry settles it: Stripe takes no money for the dispute after that.
    refunded_in_inquiry = order.status == S.DISPUTED and full and _dispute_allows_refund(order)
    if order.status == S.DISPUTED and not refunded_in_inquiry:
        # Stripe refuses refunds on a disputed charge: these happened before the dispute, and a
        # won dispute returns the order to them.
        if order.status_before_dispute != target:
            order.status_before_dispute = target
            order.save(update_fields=["status_before_dispute", "updated_at"])
        return
    movable = (*REFUNDABLE_ORDER_STATUSES, S.REFUNDED, *((S.DISPUTED,) if refunded_in_inquiry else ()))
    if order.status in movable and order.status != target:
        order_transition(
            order=order,
            to=target,
            stripe_event_id=event_id,
            actor=actor,
            request=request,
            message=(
                f"Refunded {format_usd(total)} of {format_usd(payment.amount_cents)}"
                if total
                else "No refund stands any more; the order is back as it was"
            ),
            data={"amount_refunded_cents": total, "fee_refunded_cents": payment.fee_refunded_cents},
        )
    if order.paid_at is None:
        return  # never honoured (a late payment refunded): the stub was never this buyer's
    succeeded = _succeeded_total(order)
    if succeeded >= payment.amount_cents > succeeded_before and order.status == S.REFUNDED:
        if order.shipped_at is None:
            listing_return_to_sale(listing_id=order.listing_id)
        else:
            # The buyer has the stub: it goes back on sale only when its seller has it again
            # and says so (payments.services.fulfilment.order_relist).
            audit_record(
                action="listing.kept_off_sale",
                order=order,
                stripe_event_id=event_id,
                message="Refunded in full after shipping: the stub stays off sale until the seller "
                "puts it back.",
            )
    elif succeeded_before >= payment.amount_cents > succeeded:
        _listing_take_back(order=order, event_id=event_id)


def _listing_take_back(*, order: Order, event_id: str) -> None:
    """A full refund that had put the stub back on sale failed: the buyer still has the stub."""
    listing = Listing.objects.select_for_update().get(pk=order.listing_id)
    if order.shipped_at is not None and listing.status == ListingStatus.SOLD and not listing_sold_after(
        order=order
    ):
        return  # a shipped stub its seller had not put back on sale: still this buyer's
    sold_again = Order.objects.filter(listing_id=order.listing_id, status__in=LIVE_ORDER_STATUSES).exclude(
        pk=order.pk
    ).exists() or listing.status in (ListingStatus.SOLD, ListingStatus.RESERVED)
    # A shipped stub back on sale came back to its seller: the buyer has neither it nor the money.
    if not sold_again and listing.status == ListingStatus.ACTIVE and order.shipped_at is None:
        listing_mark_sold(listing_id=listing.pk, buyer=order.buyer)
        audit_record(
            action="listing.taken_off_sale",
            order=order,
            stripe_event_id=event_id,
            message="The refund failed, so the stub is the buyer's again and off sale.",
        )
        return
    order.attention_reason = (
        "A full refund failed after the stub had gone back on sale and been bought or withdrawn; "
        "the buyer has neither the stub's money back nor a stub to return. Decide with the seller."
    )[:300]
    order.save(update_fields=["attention_reason", "updated_at"])
    audit_record(
        action="order.needs_attention",
        order=order,
        stripe_event_id=event_id,
        message="Refund failed after the stub had been sold again or withdrawn: needs staff.",
    )


def listing_sold_after(*, order: Order) -> bool:
    """Whether the stub was bought again after `order` (it went back on sale meanwhile)."""
    return Order.objects.filter(listing_id=order.listing_id, paid_at__gt=order.paid_at).exists()


def _refund_told(*, order, refund: Refund, before: str, after: str, event_id, actor, request) -> None:
    amount = format_usd(refund.amount_cents)
    reason = f" — {refund.reason_words.lower()}" if refund.reason_words else ""
    if after == R.SUCCEEDED:
        message, who = f"Refund of {amount} issued{reason}", notifications.notify_refund_issued
    elif after == R.PENDING:
        # Buyers read this line in the order's timeline: no word of the seller's balance (the
        # seller's and staff's email says why it waits).
        message = f"Refund of {amount} on its way (pending at Stripe)"
        who = notifications.notify_refund_pending
    elif after == R.FAILED:
        message, who = (
            (
                f"Refund of {amount} failed ({refund.failure_reason.replace('_', ' ')}); "
                "the buyer did not get this money back"
            ),
            notifications.notify_refund_failed,
        )
    elif after == R.CANCELED:
        message, who = f"Refund of {amount} was cancelled", notifications.notify_refund_failed
    else:
        message, who = f"Refund of {amount} needs action at Stripe", notifications.notify_refund_pending
    audit_record(
        action=f"refund.{after}",
        actor=actor,
        order=order,
        stripe_event_id=event_id,
        request=request,
        message=message,
        data={"refund": refund.pk, "stripe_refund": refund.stripe_refund_id},
    )
    if who is notifications.notify_refund_pending:
        # The buyer hears "on its way" once, the first time Stripe tells us of the refund.
        first_news = before == ""
        transaction.on_commit(lambda: who(refund=refund, tell_buyer=first_news))
    else:
        transaction.on_commit(lambda: who(refund=refund))
