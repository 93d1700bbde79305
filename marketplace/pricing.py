"""Money arithmetic shared by the marketplace and payments: the one platform fee function.

The plain helpers (formatting cents, reading typed dollars) live in core/money.py, below every
app; they are imported here too, so a caller that reads fees and prices needs one module.
"""

from django.conf import settings

from core.money import DOLLARS_HELP as DOLLARS_HELP
from core.money import DOLLARS_PATTERN as DOLLARS_PATTERN
from core.money import InvalidDollarAmount as InvalidDollarAmount
from core.money import dollars_to_cents as dollars_to_cents
from core.money import format_usd as format_usd

BPS_DENOMINATOR = 10_000  # basis points in a whole


def platform_fee_cents(amount_cents: int, bps: int | None = None) -> int:
    """The platform's cut of `amount_cents`, in whole cents.

    `bps` basis points (default `settings.PLATFORM_FEE_BPS`), rounded half up with integer
    arithmetic only (no float can turn 0.5 cents into 0), and never more than the amount:
    5000 → 500, 1999 → 200, 55 → 6 at 1000 bps.
    """
    if bps is None:
        bps = settings.PLATFORM_FEE_BPS
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise TypeError("amount_cents must be an integer number of cents")
    if isinstance(bps, bool) or not isinstance(bps, int):
        raise TypeError("bps must be an integer number of basis points")
    if amount_cents < 0:
        raise ValueError("amount_cents cannot be negative")
    if bps < 0:
        raise ValueError("bps cannot be negative")
    fee = (amount_cents * bps + BPS_DENOMINATOR // 2) // BPS_DENOMINATOR
    return min(fee, amount_cents)


# The controller properties every seller's Express account is made with (direct charges). At API
# version 2026-08-26.dahlia (stripe-python 15.x) Stripe supports an Express dashboard only with
# the platform paying Stripe's fees and liable for negative balances
# (https://docs.stripe.com/connect/migrate-to-controller-properties; a Stripe-liable Express
# account needs 2026-11-18.endive). We are liable: docs/operations.md. It lives here because who
# pays Stripe's fees decides the money arithmetic below; Connect makes the accounts with it.
EXPRESS_DIRECT_CHARGES_CONTROLLER = {
    "fees": {"payer": "application"},
    "losses": {"payments": "application"},
    "stripe_dashboard": {"type": "express"},
    "requirement_collection": "stripe",
}

# Stripe's fees for a US card payment and for a dispute (https://stripe.com/pricing). Sellers'
# accounts are made with controller.fees.payer=application, so Stripe takes both from the
# platform, not from the seller (https://docs.stripe.com/connect/direct-charges-fee-payer-behavior;
# the decision and its arithmetic: docs/going-live.md).
STRIPE_CARD_FEE_BPS = 290
STRIPE_CARD_FEE_FIXED_CENTS = 30
STRIPE_DISPUTE_FEE_CENTS = 1500


def stripe_processing_fee_cents(amount_cents: int) -> int:
    """What Stripe charges the platform for a card payment of `amount_cents`: 2.9 % rounded half
    up, plus 30 cents."""
    return platform_fee_cents(amount_cents, STRIPE_CARD_FEE_BPS) + STRIPE_CARD_FEE_FIXED_CENTS


def application_fee_cents(amount_cents: int, bps: int | None = None) -> int:
    """The platform fee a sale pays (`application_fee_amount`): `bps` of the amount, but never
    less than Stripe's processing fee, which the platform pays; never more than the amount.

    At 10 % the floor matters below $4.23: a $3.00 sale pays $0.39 (Stripe's fee), not $0.30.
    """
    share = platform_fee_cents(amount_cents, bps)
    return min(amount_cents, max(share, stripe_processing_fee_cents(amount_cents)))


def seller_receives_cents(amount_cents: int, bps: int | None = None) -> int:
    """What reaches the seller's Stripe balance: the amount less the platform fee. Stripe's
    processing fee is the platform's, so nothing else is taken from it."""
    return amount_cents - application_fee_cents(amount_cents, bps)


def platform_fee_percent(bps: int | None = None) -> str:
    """'10.00' for 1000 bps: a string, so no float rounding leaks into JSON."""
    if bps is None:
        bps = settings.PLATFORM_FEE_BPS
    return f"{bps // 100}.{bps % 100:02d}"



def fee_refund_cents(
    *, amount_cents: int, fee_cents: int, refund_cents: int,
    refunded_before_cents: int = 0, fee_refunded_before_cents: int = 0,
) -> int:
    """What `refund_application_fee=true` gives back of the platform fee for one refund.

    The fee in proportion to the refund, rounded half up; the refund that completes the amount
    gives back whatever rounding left, so the fee refunds sum to the fee exactly and never
    above it (as Stripe does).
    """
    fee_left = max(0, fee_cents - fee_refunded_before_cents)
    if refunded_before_cents + refund_cents >= amount_cents:
        return fee_left
    share = (2 * fee_cents * refund_cents + amount_cents) // (2 * amount_cents)
    return min(fee_left, share)

