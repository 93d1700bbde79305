"""Money arithmetic holds for every amount, not just the examples: hypothesis properties.

marketplace/pricing.py is the one place fees are computed (docs/architecture.md, "Money and
state"): the fee is `PLATFORM_FEE_BPS` basis points rounded half up to whole cents, never more
than the amount; a refund gives back the fee in proportion, never more than the fee; refunds
never add up to more than was paid. The service-level property refunds random partial amounts
through the real refund service and the Stripe sandbox.
"""

import json
import uuid
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from marketplace import pricing
from marketplace.pricing import (
    application_fee_cents,
    format_usd,
    platform_fee_cents,
    seller_receives_cents,
    stripe_processing_fee_cents,
)
from payments.tests.webhook_support import deliver
from security.world import build_world

# Stripe's USD limits for one charge (marketplace/models.py MIN_PRICE_CENTS, MAX_PRICE_CENTS):
# at least 50 cents, at most 99,999,999.
amounts = st.integers(min_value=50, max_value=99_999_999)
any_amount = st.integers(min_value=0, max_value=99_999_999)
fee_rates = st.integers(min_value=0, max_value=10_000)  # 0 % … 100 % in basis points


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


# -- the platform fee -----------------------------------------------------------------------------

@given(amount=any_amount, bps=fee_rates)
def test_the_fee_is_never_negative_and_never_above_the_amount(amount, bps):
    fee = platform_fee_cents(amount, bps)
    assert 0 <= fee <= amount


@given(amount=any_amount, bps=fee_rates)
@example(amount=5000, bps=1000)
@example(amount=1999, bps=1000)
@example(amount=55, bps=1000)
@example(amount=5, bps=1000)  # 0.5 cent → 1
@example(amount=4, bps=1000)  # 0.4 cent → 0
def test_the_fee_is_the_exact_share_rounded_half_up(amount, bps):
    assert platform_fee_cents(amount, bps) == min(amount, half_up(Fraction(amount * bps, 10_000)))


@pytest.mark.parametrize(
    ("amount", "fee"), [(5000, 500), (1999, 200), (55, 6), (50, 5), (99_999_999, 10_000_000)]
)
def test_the_design_examples_at_ten_percent(amount, fee):
    assert platform_fee_cents(amount, 1000) == fee


@given(a=any_amount, b=any_amount, bps=fee_rates)
def test_a_bigger_amount_never_pays_a_smaller_fee(a, b, bps):
    low, high = sorted((a, b))
    assert platform_fee_cents(low, bps) <= platform_fee_cents(high, bps)


@given(amount=any_amount, bps=fee_rates)
def test_fee_and_seller_share_add_up_to_the_amount(amount, bps):
    seller = seller_receives_cents(amount, bps)
    assert seller >= 0
    assert seller + application_fee_cents(amount, bps) == amount


@given(amount=any_amount, bps=fee_rates)
def test_the_platform_fee_covers_stripes_fee_and_never_exceeds_the_amount(amount, bps):
    fee = application_fee_cents(amount, bps)
    assert fee == min(amount, max(platform_fee_cents(amount, bps), stripe_processing_fee_cents(amount)))
    assert fee <= amount


@given(amount=any_amount)
def test_the_default_rate_is_the_setting(amount, settings):
    settings.PLATFORM_FEE_BPS = 1000
    assert platform_fee_cents(amount) == platform_fee_cents(amount, 1000)


@given(value=st.one_of(st.floats(allow_nan=True), st.text(max_size=5), st.booleans(), st.none(),
                       st.decimals(allow_nan=False, allow_infinity=False, places=2)))
def test_the_fee_refuses_anything_but_whole_cents(value):
    with pytest.raises(TypeError):
        platform_fee_cents(value, 1000)


@given(amount=st.integers(max_value=-1), bps=fee_rates)
def test_the_fee_refuses_negative_amounts(amount, bps):
    with pytest.raises(ValueError):
        platform_fee_cents(amount, bps)


@given(cents=st.integers(min_value=-10**12, max_value=10**12))
def test_money_is_shown_to_the_cent(cents):
    text = format_usd(cents)
    digits = text.lstrip("-").removeprefix("$").replace(",", "")
    whole, _, fraction = digits.partition(".")
    assert len(fraction) == 2
    assert (-1 if text.startswith("-") else 1) * (int(whole) * 100 + int(fraction)) == cents


# -- the fee given back with refunds (pricing.fee_refund_cents) -------------------------------------

fee_refund_cents = getattr(pricing, "fee_refund_cents", None)
needs_fee_refund = pytest.mark.skipif(
    fee_refund_cents is None, reason="pricing.fee_refund_cents is not in the code"
)


@st.composite
def refund_sequences(draw):
    """A charge, its fee, and refunds in the order they are made: their sum never exceeds it."""
    amount = draw(amounts)
    bps = draw(fee_rates)
    refunds, left = [], amount
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        if left == 0:
            break
        refund = draw(st.integers(min_value=1, max_value=left))
        refunds.append(refund)
        left -= refund
    if draw(st.booleans()) and left:
        refunds.append(left)  # often: the last refund takes what is left
    return amount, platform_fee_cents(amount, bps), refunds


@needs_fee_refund
@given(case=refund_sequences())
@example(case=(5000, 500, [1, 1, 4998]))
@example(case=(55, 6, [27, 28]))
@example(case=(1999, 200, [1] * 8))
def test_fee_refunds_never_exceed_the_fee_and_give_it_all_back_with_the_full_amount(case):
    amount, fee, refunds = case
    refunded = fee_refunded = 0
    for refund in refunds:
        share = fee_refund_cents(amount_cents=amount, fee_cents=fee, refund_cents=refund,
                                 refunded_before_cents=refunded, fee_refunded_before_cents=fee_refunded)
        assert 0 <= share <= fee - fee_refunded
        refunded += refund
        fee_refunded += share
        assert fee_refunded <= fee
    if refunded == amount:
        assert fee_refunded == fee


@needs_fee_refund
@given(amount=amounts, bps=fee_rates, data=st.data())
def test_one_partial_refund_gives_back_the_fee_in_proportion_rounded_half_up(amount, bps, data):
    fee = platform_fee_cents(amount, bps)
    refund = data.draw(st.integers(min_value=1, max_value=amount - 1))
    share = fee_refund_cents(amount_cents=amount, fee_cents=fee, refund_cents=refund)
    assert share == min(fee, half_up(Fraction(fee * refund, amount)))
    assert share <= fee


# -- dollars typed by staff (pricing.dollars_to_cents) ---------------------------------------------

dollars_to_cents = getattr(pricing, "dollars_to_cents", None)
needs_dollars = pytest.mark.skipif(
    dollars_to_cents is None, reason="pricing.dollars_to_cents is not in the code"
)


@needs_dollars
@given(cents=st.integers(min_value=0, max_value=99_999_999))
def test_dollars_as_shown_are_read_back_as_the_same_cents(cents):
    assert dollars_to_cents(format_usd(cents)) == cents
    assert dollars_to_cents(f"{cents // 100}.{cents % 100:02d}") == cents


@needs_dollars
@given(whole=st.integers(min_value=0, max_value=10**6),
       fraction=st.text("0123456789", min_size=3, max_size=6))
def test_more_than_two_decimals_are_refused_not_rounded(whole, fraction):
    with pytest.raises(ValueError):
        dollars_to_cents(f"{whole}.{fraction}")


@needs_dollars
@given(text=st.text(max_size=12))
def test_any_text_is_cents_or_a_clear_refusal(text):
    try:
        cents = dollars_to_cents(text)
    except ValueError:
        return
    assert isinstance(cents, int) and cents >= 0


@needs_dollars
@given(cents=st.integers(min_value=0, max_value=99_999_999_999))
def test_dollars_with_commas_between_thousands_are_read_as_written(cents):
    grouped = f"{cents // 100:,}.{cents % 100:02d}"
    assert dollars_to_cents(grouped) == cents
    assert dollars_to_cents("$" + grouped) == cents


@needs_dollars
@given(whole=st.integers(min_value=1, max_value=10**9), data=st.data())
def test_a_comma_anywhere_but_between_thousands_is_refused(whole, data):
    """'1,50' was read as $150.00: the comma was dropped wherever it stood."""
    digits = str(whole)
    at = data.draw(st.integers(min_value=1, max_value=len(digits)))
    misplaced = digits[:at] + "," + digits[at:]
    assume(misplaced != f"{whole:,}")  # "1,000": the one place a single comma belongs
    with pytest.raises(ValueError):
        dollars_to_cents(misplaced)


@needs_dollars
@pytest.mark.parametrize(
    "typed", ["1,50", "1,5000", "1.500,00", "1e3", "-5", "+5", "1.001", "1 000", ",100", "0,150", "1,,000",
              "1,000,00", "١٢", "", ".", "$", "1.2.3"],
)
def test_what_is_not_a_plain_dollar_amount_is_refused(typed):
    with pytest.raises(ValueError, match="in dollars"):
        dollars_to_cents(typed)


@needs_dollars
@given(text=st.text(alphabet="0123456789,.$ ", max_size=14))
def test_what_is_read_is_what_was_written(text):
    """Whatever the parser accepts, it reads as the digits say: cents from the digits after the
    dot, never a comma or a decimal moved or dropped."""
    try:
        cents = dollars_to_cents(text)
    except ValueError:
        return
    value = text.strip().removeprefix("$").strip()
    whole, _, fraction = value.partition(".")
    assert whole.count(",") == 0 or whole == f"{int(whole.replace(',', '')):,}"
    assert cents == int(whole.replace(",", "") or "0") * 100 + int(fraction.ljust(2, "0"))


# -- partial refunds through the real service -------------------------------------------------------

@pytest.mark.django_db
@settings(max_examples=15)
@given(requests=st.lists(st.integers(min_value=-100, max_value=6000), min_size=1, max_size=6))
@example(requests=[2500, 2500, 1])
@example(requests=[4999, 2, 1])
@example(requests=[0, -1, 5001, 5000])
def test_partial_refunds_never_add_up_to_more_than_was_paid(requests, stripe_sandbox, client, no_rate_limits):
    """Random partial refunds of a $50.00 order, each a deliberate request to the refund route
    (its own Idempotency-Key) by the seller, the sandbox's webhooks delivered between them: an
    amount is refunded exactly when it is positive and not above what is left, and what Stripe
    refunded never sums above what was paid."""
    world = build_world(stripe_sandbox)
    order = world.order
    client.force_login(world["seller"])
    accepted = 0
    for amount in requests:
        left = order.amount_cents - accepted
        response = client.post(
            f"/payments/orders/{order.pk}/refund/", json.dumps({"amount": amount}),
            content_type="application/json", HTTP_ACCEPT="application/json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        deliver(stripe_sandbox)
        if 0 < amount <= left:
            assert response.status_code == 201, (amount, left, response.content[:300])
            accepted += amount
        else:
            assert 400 <= response.status_code < 500, (amount, left, response.status_code)
    refunds = [e["data"]["object"] for e in stripe_sandbox.events(type="refund.created")
               if e["data"]["object"]["payment_intent"] == order.payment_intent_id]
    assert sum(r["amount"] for r in refunds) == accepted <= order.amount_cents
