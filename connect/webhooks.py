"""Connect's Stripe events, added to payments' webhook pipeline from ConnectConfig.ready
(`payments.services.webhooks.webhook_handlers_register`): the seller's account changed, and
the seller's balance moved.
"""

from djstripe.models import Event

from connect.services import seller_disconnect, seller_sync_account_from_stripe
from connect.services.payouts import balance_event_apply


def account_updated_apply(*, event: Event) -> None:
    # Only the account id is taken from the event; what the account says is read from Stripe
    # (never the event's copy, nor a mirror that may have fallen back to it).
    account = event.data.get("object") or {}
    account_id = account.get("id") if isinstance(account, dict) else ""
    seller_sync_account_from_stripe(account_id=str(account_id or ""), stripe_event_id=event.id)


def seller_balance_reread(*, event: Event) -> None:
    balance_event_apply(event=event)


CONNECT_HANDLERS = {
    "account.updated": account_updated_apply,
    "balance.available": seller_balance_reread,
    "payout.failed": seller_balance_reread,
}

# Events of payments' handlers that take money from a seller's balance. Stripe's event reference
# says balance.available "is not fired for negative transactions", so a refund or a dispute's
# withdrawal never arrives as one: after each of these (and payout.failed) the seller's balance
# is read again from Stripe (docs/operations.md, negative balances). Best effort: the hourly read
# (refresh_seller_balances) of every seller with a recent refund or dispute catches it later.
# Registered after payments' own handlers (payments is installed first), so it runs after them.
BALANCE_DEBIT_HANDLERS = {
    event_type: seller_balance_reread
    for event_type in (
        "charge.refunded", "charge.refund.updated", "refund.updated", "charge.dispute.funds_withdrawn",
    )
}


def account_deauthorized_receive(sender, *, account_id: str, stripe_event_id: str = "", **kwargs):
    """payments.signals.stripe_account_deauthorized: the seller of `account_id` is disconnected
    (None when no seller has it)."""
    return seller_disconnect(account_id=account_id, stripe_event_id=stripe_event_id)
