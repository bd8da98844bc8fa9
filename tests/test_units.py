"""Unit helpers: exact decimals, presentation rounding, energy from power."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from agent.units import energy_kwh, hours, kw_to_w, money, per_mwh_to_per_kwh, to_decimal, w_to_kw


def test_conversions() -> None:
    assert w_to_kw(2500.0) == 2.5
    assert kw_to_w(1.5) == 1500.0
    assert hours(timedelta(minutes=15)) == 0.25
    assert energy_kwh(4.0, timedelta(minutes=5)) == 4.0 / 12
    assert per_mwh_to_per_kwh(Decimal("31.83")) == Decimal("0.03183")


def test_to_decimal_keeps_what_was_written() -> None:
    # Guards against Decimal(0.1) == 0.1000000000000000055511151231257827...
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("0.2310") == Decimal("0.2310")
    assert to_decimal(3) == Decimal(3)


def test_money_rounds_half_even_for_display() -> None:
    assert money(Decimal("0.125")) == Decimal("0.12")
    assert money(Decimal("0.135")) == Decimal("0.14")
    assert money(Decimal("-1.005"), places=2) == Decimal("-1.00")


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**6), max_value=10**6))
def test_money_is_within_half_a_cent(value: Decimal) -> None:
    assert abs(money(value) - value) <= Decimal("0.005")
