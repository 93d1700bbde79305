"""Signals payments sends for the apps built on it (payments imports none of them)."""

from django.dispatch import Signal

# Stripe says a connected account left the platform (`account.application.deauthorized`, or a
# replay that Stripe refuses with `account_invalid`); sent with `account_id` and
# `stripe_event_id`. A receiver returns the seller it disconnected, or None when none of its
# sellers has that account; with no receiver the account counts as unknown. connect receives it.
stripe_account_deauthorized = Signal()
