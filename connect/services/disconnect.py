"""A seller's Stripe account that the platform has lost (`account.application.deauthorized`).

Stripe sends the event to the Connect endpoint when the account is deleted or disconnects from
the platform (https://docs.stripe.com/api/events/types#event_types-account.application.deauthorized)
and from then on refuses every read of that account, so nothing here calls Stripe: the seller is
marked disconnected, their listings leave the sale at once, their open checkouts are cancelled
(the buyer could not pay them any more), and the seller and staff are told. Paid orders stay
as they are: staff settle them by hand (the platform can no longer refund on that account).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import StripeAccountStatus, User
from connect.services.notices import notice_after_commit
from marketplace.models import Listing, ListingStatus
from payments.models import Order, OrderStatus
from payments.services.audit import audit_record
from payments.services.orders import order_transition

DISCONNECTED_ACTION = "connect.account_disconnected"
DISABLED_REASON_DISCONNECTED = "platform_disconnected"
# Listings that are on sale or could be: everything but sold and already withdrawn.
_ON_SALE = (ListingStatus.DRAFT, ListingStatus.ACTIVE, ListingStatus.RESERVED)
# Orders that still need the seller's account: paid, not yet settled.
_NEEDS_STAFF = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DISPUTED, OrderStatus.PARTIALLY_REFUNDED)


@transaction.atomic
def seller_disconnect(*, account_id: str, stripe_event_id: str = "", actor=None, now=None) -> User | None:
    """Mark the seller of `account_id` disconnected; idempotent (a repeat changes nothing).

    Returns the seller, or None for an account we do not know (audited).
    """
    now = now or timezone.now()
    user = (User.objects.select_for_update().filter(stripe_account_id=account_id).first()
            if account_id else None)
    if user is None:
        audit_record(action="connect.account_unknown", actor=actor, stripe_event_id=stripe_event_id,
                     message=f"account.application.deauthorized for an account we do not know: {account_id}",
                     data={"stripe_account": account_id})
        return None
    if user.stripe_disconnected_at is not None:
        return user
    previous_status = user.stripe_account_status
    user.stripe_disconnected_at = now
    user.stripe_account_status = StripeAccountStatus.DISABLED
    user.stripe_capabilities_enabled = False
    user.stripe_disabled_reason = DISABLED_REASON_DISCONNECTED
    user.save(update_fields=["stripe_disconnected_at", "stripe_account_status", "stripe_capabilities_enabled",
                             "stripe_disabled_reason"])

    listings = list(Listing.objects.select_for_update().filter(seller=user, status__in=_ON_SALE)
                    .values_list("pk", flat=True))
    Listing.objects.filter(pk__in=listings).update(
        status=ListingStatus.WITHDRAWN, reserved_by=None, reserved_until=None, updated_at=now
    )
    cancelled = []
    open_checkouts = Order.objects.select_for_update().filter(seller=user, status=OrderStatus.PENDING_PAYMENT)
    for order in open_checkouts:
        order_transition(order=order, to=OrderStatus.CANCELLED, actor=actor, stripe_event_id=stripe_event_id,
                         message="The seller's Stripe account was disconnected", now=now)
        cancelled.append(order.pk)
    needs_staff = list(Order.objects.filter(seller=user, status__in=_NEEDS_STAFF)
                       .values_list("pk", flat=True))
    audit_record(
        action=DISCONNECTED_ACTION, actor=actor, subject_user=user, stripe_event_id=stripe_event_id,
        from_status=previous_status, to_status=StripeAccountStatus.DISABLED,
        message=f"{len(listings)} listings withdrawn, {len(cancelled)} checkouts cancelled, "
                f"{len(needs_staff)} paid orders need staff",
        data={"stripe_account": account_id, "withdrawn_listings": listings, "cancelled_orders": cancelled,
              "orders_needing_staff": needs_staff},
    )
    notice_after_commit(
        subject="Your Stripe account is no longer connected to Stub Collector",
        body=(
            f"Hello {user.display_name},\n\n"
            f"Stripe told us that your account {account_id} is no longer connected to Stub Collector. "
            f"We took your {len(listings)} listing(s) off sale and cancelled {len(cancelled)} unpaid "
            "checkout(s), because buyers can no longer pay you through us.\n\n"
            + (f"Orders already paid ({', '.join(f'#{pk}' for pk in needs_staff)}) are being looked at by "
               "our staff, who will contact you.\n\n" if needs_staff else "")
            + "To sell again, connect a Stripe account from your seller dashboard.\n"
        ),
        to_seller=user, to_staff=True,
    )
    return user
