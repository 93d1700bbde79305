"""Signals payments sends for the apps built on it (payments imports none of them)."""

from django.dispatch import Signal

# An order has just moved from one status to another (payments.services.orders.order_transition),
# inside the caller's transaction and under the order's row lock; sent with `order` (already
# saved with its new status), `from_status`, `to_status`, `stripe_event_id` ("" when no Stripe
# event caused it) and `now` (the time the caller gave, or None). Receivers run in that
# transaction: one that raises undoes the move. ratings follows it to take a refunded or lost
# order's rating out of the seller's average.
order_status_changed = Signal()

# Stripe says a connected account left the platform (`account.application.deauthorized`, or a
# replay that Stripe refuses with `account_invalid`); sent with `account_id` and
# `stripe_event_id`. A receiver returns the seller it disconnected, or None when none of its
# sellers has that account; with no receiver the account counts as unknown. connect receives it.
stripe_account_deauthorized = Signal()
