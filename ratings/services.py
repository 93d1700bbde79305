"""Ratings and feedback: the buyer rates the seller once per completed order, the seller answers
once, staff hide abuse. Each write locks the row it judges, so a double click is one row and a
clear 409; the database itself refuses feedback for an order that does not allow it
(ratings.db), whatever calls it.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound
from payments.models import Order, OrderStatus
from payments.order_problems import order_problems
from payments.services.audit import audit_record
from payments.services.fulfilment import OrderNotFound
from ratings.models import Feedback, FeedbackExclusion, SellerRating

MAX_COMMENT = 1000


class FeedbackNotAllowed(Conflict):
    code = "feedback_not_allowed"
    message = "You can rate the seller once you have confirmed receipt of the stub."


class FeedbackOnHold(Conflict):
    code = "feedback_on_hold"
    message = "You can rate the seller once the problem you reported on this order is closed."


class FeedbackAlreadyLeft(Conflict):
    code = "feedback_already_left"
    message = "You have already rated this order."


class FeedbackAlreadyAnswered(Conflict):
    code = "feedback_already_answered"
    message = "You have already answered this feedback."


class FeedbackNotFound(NotFound):
    code = "feedback_not_found"
    message = "No such feedback."


class InvalidFeedback(DomainError):
    code = "invalid_feedback"
    message = "Give a rating from 1 to 5 stars; comments are at most 1,000 characters."


def _clean_text(text) -> str:
    text = (text or "").strip() if isinstance(text, str) else None
    if text is None or len(text) > MAX_COMMENT:
        raise InvalidFeedback()
    return text


@transaction.atomic
def feedback_leave(*, order_id, buyer, rating, comment: str = "", request=None) -> Feedback:
    """The order's buyer rates its seller 1–5, once, after confirming receipt."""
    try:
        order = Order.objects.select_for_update().get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise OrderNotFound() from None
    if not getattr(buyer, "is_authenticated", False) or order.buyer_id != buyer.pk:
        raise OrderNotFound()  # a stranger learns nothing about the order
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidFeedback()
    comment = _clean_text(comment)
    if Feedback.objects.filter(order=order).exists():
        raise FeedbackAlreadyLeft()
    if order.status != OrderStatus.COMPLETED:
        raise FeedbackNotAllowed()
    if order_problems().holds(order):  # an open problem report holds the rating (payments/order_problems.py)
        raise FeedbackOnHold()
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                order=order, buyer_id=order.buyer_id, seller_id=order.seller_id,
                rating=rating, comment=comment,
            )
    except IntegrityError:
        if Feedback.objects.filter(order=order).exists():
            raise FeedbackAlreadyLeft() from None
        raise FeedbackNotAllowed() from None
    seller_rating_refresh(seller_id=order.seller_id)
    audit_record(action="feedback.left", actor=buyer, order=order, subject_user=order.seller,
                 message=f"Rated {rating}/5", data={"feedback_id": feedback.pk, "rating": rating},
                 request=request)
    return feedback


@transaction.atomic
def feedback_reply(*, order_id, seller, reply: str, request=None) -> Feedback:
    """The seller answers the buyer's feedback on their order, once."""
    try:
        feedback = Feedback.objects.select_for_update().get(order_id=order_id)
    except (Feedback.DoesNotExist, ValueError, TypeError):
        raise FeedbackNotFound() from None
    if not getattr(seller, "is_authenticated", False) or feedback.seller_id != seller.pk:
        raise FeedbackNotFound()
    reply = _clean_text(reply)
    if not reply:
        raise InvalidFeedback("Write an answer first.")
    if feedback.replied_at is not None:
        raise FeedbackAlreadyAnswered()
    feedback.reply, feedback.replied_at = reply, timezone.now()
    feedback.save(update_fields=["reply", "replied_at"])
    audit_record(
        action="feedback.answered", actor=seller, order=feedback.order, subject_user=feedback.buyer,
        message="Seller answered the feedback", data={"feedback_id": feedback.pk}, request=request,
    )
    return feedback


@transaction.atomic
def feedback_set_hidden(*, feedback_id, staff, hidden: bool, reason: str = "", request=None) -> Feedback:
    """Staff hide abusive feedback (or show it again); audited, and the seller's average follows."""
    if not getattr(staff, "is_staff", False):
        raise FeedbackNotFound()
    try:
        feedback = Feedback.objects.select_for_update().get(pk=feedback_id)
    except (Feedback.DoesNotExist, ValueError, TypeError):
        raise FeedbackNotFound() from None
    if feedback.hidden == hidden:
        return feedback
    feedback.hidden = hidden
    feedback.hidden_reason = (reason or "")[:300] if hidden else ""
    feedback.save(update_fields=["hidden", "hidden_reason"])
    seller_rating_refresh(seller_id=feedback.seller_id)
    audit_record(
        action="feedback.hidden" if hidden else "feedback.shown", actor=staff, order=feedback.order,
        subject_user=feedback.seller, message=reason[:500] if hidden else "Shown again",
        data={"feedback_id": feedback.pk}, request=request,
    )
    return feedback


# A rating counts only while its order stands: a full refund or a lost dispute gives the money
# back, and a seller must not keep the stars of a purchase a second account of theirs undid.
EXCLUDED_WHEN = {
    OrderStatus.REFUNDED: FeedbackExclusion.REFUNDED,
    OrderStatus.DISPUTE_LOST: FeedbackExclusion.DISPUTE_LOST,
}


def feedback_follow_order_status(sender, *, order: Order, from_status, to_status, stripe_event_id="",
                                 now=None, **kwargs) -> None:
    """Receiver of payments.signals.order_status_changed (connected in ratings.apps): only a
    move into or out of a status that undoes the order can change whether its rating counts."""
    if from_status in EXCLUDED_WHEN or to_status in EXCLUDED_WHEN:
        feedback_follow_order(order=order, event_id=stripe_event_id, now=now)


def feedback_follow_order(*, order: Order, event_id: str = "", now=None) -> Feedback | None:
    """After the order's status moved (payments.services.orders.order_transition, through
    feedback_follow_order_status): exclude its rating from the seller's average, or count it
    again when a refund failed. Kept and marked, never deleted; staff see it in admin, the public
    pages no longer show it."""
    reason = EXCLUDED_WHEN.get(order.status, "")
    feedback = Feedback.objects.select_for_update().filter(order=order).first()
    if feedback is None or feedback.excluded_reason == reason:
        return feedback
    feedback.excluded_reason = reason
    feedback.excluded_at = (now or timezone.now()) if reason else None
    # Only these columns: the database's feedback guard (ratings.db) checks the order's
    # status when order, buyer or seller are written, and this order is no longer completed.
    feedback.save(update_fields=["excluded_reason", "excluded_at"])
    seller_rating_refresh(seller_id=feedback.seller_id)
    audit_record(
        action="feedback.excluded" if reason else "feedback.counted_again", order=order,
        subject_user=order.seller, stripe_event_id=event_id,
        message=(f"Rating left out of the seller's average: {feedback.get_excluded_reason_display().lower()}"
                 if reason else "Rating counts again: the order stands"),
        data={"feedback_id": feedback.pk, "rating": feedback.rating},
    )
    return feedback


def seller_rating_refresh(*, seller_id) -> SellerRating:
    """Recount the seller's visible, counted feedback into their SellerRating row."""
    totals = Feedback.objects.filter(seller_id=seller_id, hidden=False, excluded_reason="").aggregate(
        count=Count("id"), average=Avg("rating")
    )
    average = Decimal(str(totals["average"] or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    summary, _ = SellerRating.objects.update_or_create(
        seller_id=seller_id, defaults={"count": totals["count"], "average": average}
    )
    return summary
