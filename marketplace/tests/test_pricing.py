import pytest

from marketplace.pricing import platform_fee_cents, platform_fee_percent, seller_receives_cents


@pytest.mark.parametrize(("amount", "fee"), [(5000, 500), (1999, 200), (55, 6)])
def test_platform_fee_is_ten_percent_rounded_half_up(settings, amount, fee):
    settings.PLATFORM_FEE_BPS = 1000
    assert platform_fee_cents(amount) == fee


def test_platform_fee_reads_basis_points_from_settings(settings):
    settings.PLATFORM_FEE_BPS = 250
    assert platform_fee_cents(10_000) == 250


@pytest.mark.parametrize(
    ("amount", "bps", "fee"),
    [
        (0, 1000, 0),
        (1, 1000, 0),  # 0.1 cent rounds down
        (5, 1000, 1),  # 0.5 cent rounds up
        (50, 1000, 5),
        (99_999_999, 1000, 10_000_000),
        (1000, 0, 0),
        (1000, 10_000, 1000),
        (1000, 25_000, 1000),  # never more than the amount
        (15, 3333, 5),  # 4.9995 → 5
    ],
)
def test_platform_fee_edges(amount, bps, fee):
    assert platform_fee_cents(amount, bps) == fee


def test_platform_fee_refuses_negative_amounts_and_floats():
    with pytest.raises(ValueError):
        platform_fee_cents(-1, 1000)
    with pytest.raises(ValueError):
        platform_fee_cents(100, -1)
    with pytest.raises(TypeError):
        platform_fee_cents(10.5, 1000)


def test_seller_receives_the_amount_less_the_fee():
    assert seller_receives_cents(1999, 1000) == 1799


def test_fee_percent_is_a_two_decimal_string():
    assert platform_fee_percent(1000) == "10.00"
    assert platform_fee_percent(1250) == "12.50"
    assert platform_fee_percent(5) == "0.05"
