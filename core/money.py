"""Plain money helpers every layer may use: cents as people read them, and dollars people type
read as cents. No fee rule lives here (those are marketplace/pricing.py's)."""

import re


def format_usd(cents: int) -> str:
    """Cents as people read them: 123456 → '$1,234.56', -1500 → '-$15.00'."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


class InvalidDollarAmount(ValueError):
    pass


# Whole dollars either plain (1500) or grouped by thousands with commas in the right places only
# (1,500 and 12,345,678, never 1,50 or 1,5000), then at most two decimals after a dot. ASCII
# digits only: `\d` would also take other scripts' digits.
DOLLARS_PATTERN = re.compile(r"(?:[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)?(?:\.[0-9]{0,2})?")
DOLLARS_HELP = (
    "Enter an amount in dollars, like 10.00 or 1,500.00 "
    "(commas only between thousands, at most two decimals)."
)


def dollars_to_cents(text: str) -> int:
    """'10.00', '10', '$1,234.5' → cents. People type dollars; Stripe and our rows hold cents.

    Anything that is not a plain dollar amount is refused, never guessed at: a comma that does
    not separate thousands ('1,50' is not $150.00 nor $1.50), more than two decimals, signs,
    exponents. A refund amount must mean exactly what was typed.
    """
    value = (text or "").strip().removeprefix("$").strip()
    if not any(char.isdigit() for char in value) or not DOLLARS_PATTERN.fullmatch(value):
        raise InvalidDollarAmount(DOLLARS_HELP)
    whole, _, fraction = value.replace(",", "").partition(".")
    return int(whole or "0") * 100 + int(fraction.ljust(2, "0"))
