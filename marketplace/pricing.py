"""Money arithmetic shared by the marketplace and payments: the one platform fee function."""

from django.conf import settings

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


def seller_receives_cents(amount_cents: int, bps: int | None = None) -> int:
    """What reaches the seller's Stripe balance before Stripe's own processing fee."""
    return amount_cents - platform_fee_cents(amount_cents, bps)


def platform_fee_percent(bps: int | None = None) -> str:
    """'10.00' for 1000 bps: a string, so no float rounding leaks into JSON."""
    if bps is None:
        bps = settings.PLATFORM_FEE_BPS
    return f"{bps // 100}.{bps % 100:02d}"


def format_usd(cents: int) -> str:
    """Cents as people read them: 123456 → '$1,234.56', -1500 → '-$15.00'."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"
