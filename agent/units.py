"""Units and the one sign convention of hems.

Sign convention (the only place it is written down):

* Grid exchange: **positive = import** from the grid (the home buys), negative = export.
* Battery and EV power: **positive = charging** (energy into the storage), negative = discharging.
* PV power is a production and always >= 0; curtailment is >= 0 and reduces it.
* Loads (heat pump, water heater, base load) are consumptions and always >= 0.

Hence the power balance at the meter is::

    grid_kw = base_kw + heat_pump_kw + water_heater_kw + battery_kw + ev_kw - (pv_kw - curtail_kw)

Names carry their unit: ``_w``, ``_kw``, ``_kwh``, ``_c`` (degrees Celsius), ``_s``, ``_h``,
``_per_kwh`` (currency per kWh). Money is :class:`decimal.Decimal` and is rounded only when shown.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

W_PER_KW = 1000.0
S_PER_H = 3600.0
KWH_PER_MWH = 1000.0

# Specific heat of water: kWh needed to warm one litre by one kelvin.
WATER_KWH_PER_L_K = 4.186 / 3600.0


def w_to_kw(power_w: float) -> float:
    return power_w / W_PER_KW


def kw_to_w(power_kw: float) -> float:
    return power_kw * W_PER_KW


def hours(span: timedelta) -> float:
    """Length of a time span in hours (as used by kW x h = kWh)."""
    return span.total_seconds() / S_PER_H


def energy_kwh(power_kw: float, span: timedelta) -> float:
    """Energy delivered at a constant rate over a span."""
    return power_kw * hours(span)


def per_mwh_to_per_kwh(price_per_mwh: Decimal) -> Decimal:
    return price_per_mwh / Decimal(1000)


def money(value: Decimal, places: int = 2) -> Decimal:
    """Round an amount for presentation only (banker's rounding); never store the result."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def to_decimal(value: float | int | str | Decimal) -> Decimal:
    """Exact decimal of a number; floats go through ``repr`` so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)
