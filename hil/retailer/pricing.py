"""The retailer's prices: a real day-ahead series plus a documented retail adder and spread.

All prices are Decimal currency per kWh, quantized to :data:`PRICE_QUANTUM`. With ``w`` the
wholesale (day-ahead) price of the hour holding an interval, the retailer's **basis** is
``b = w + retail_adder`` (levies and the retailer's mark-up, on every kWh it sells or settles):

* **sell ladder** (the retailer sells to the home), step k = 0, 1, ...:
  ``b + half_spread + k * step_increment`` for ``step_kw`` each (more kW cost more);
* **buy ladder** (the retailer buys from the home): ``b - half_spread - k * step_increment`` (the
  home gets less for more kW); every buy price is below every sell price;
* **spot** (deviations from the position, both directions, one price): ``s + retail_adder +
  spot_adder`` with ``s`` the spot (wholesale) price of the interval, which is the day-ahead
  price unless the scenario's spot model or series says otherwise;
* **transport**: import adds ``import_adder``, export ``export_adder`` (fixed, per kWh);
* **the home's own tenders**: the retailer buys a home *sell* tender priced at or below its
  marginal cost ``b + margin``, and sells against a home *buy* tender priced at or above its own
  best sell price ``b + half_spread``.

The spread is narrow on purpose: a home that expects to settle deviations at spot trades forward
only when the forward price beats spot by more than its own risk margin (half the agent's
``market.spot_spread_per_kwh``, 0.02 by default), so a retailer whose ladder straddles spot by
more than that would never trade. With the scenario's spot equal to the day-ahead price and no
premium, spot is the mid of the best quotes: a home that knows it (the rig's benchmark weeks
configure a spread under the quotes' gap) leaves everything to spot. Where the scenario's spot
is realised apart from the day-ahead price (``agent/scenario/spot.py``) and the quotes carry a
risk premium by hour (``hil/retailer/premium.py``, laid over ``w``), a forward trade earns or
pays the difference: ``volatile_spot_week.yaml``.

The recorded week is replayed at the same local wall-clock time and weekday offset as the
simulated clock, looped (like the plant's weather and load): day ``d`` after ``anchor`` uses the
series day ``d mod 7``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from hil.errors import PlantDataError

PRICE_QUANTUM = Decimal("0.0001")
_MWH_PER_KWH = Decimal(1000)


def quantize(price: Decimal) -> Decimal:
    return price.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class PricingRules:
    """The simulator's documented tariff (defaults: a plausible German retail mark-up)."""

    retail_adder_per_kwh: Decimal = Decimal("0.10")
    half_spread_per_kwh: Decimal = Decimal("0.002")
    step_increment_per_kwh: Decimal = Decimal("0.003")
    ladder_steps: int = 3
    step_kw: Decimal = Decimal("2")
    spot_adder_per_kwh: Decimal = Decimal("0")
    margin_per_kwh: Decimal = Decimal("0.002")
    import_adder_per_kwh: Decimal = Decimal("0.07")
    export_adder_per_kwh: Decimal = Decimal("0.01")
    # The risk premium in the forward quotes by local hour (hil/retailer/premium.py): flat, in
    # the evening peak, in the PV hours. Spot is left alone.
    forward_premium_per_kwh: Decimal = Decimal("0")
    peak_premium_per_kwh: Decimal = Decimal("0")
    solar_premium_per_kwh: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        if not 1 <= self.ladder_steps <= 5:
            raise ValueError("ladder_steps must be 1..5")
        if self.half_spread_per_kwh < 0 or self.step_increment_per_kwh < 0 or self.step_kw <= 0:
            raise ValueError("spread and increment must be >= 0, step_kw > 0")

    def basis(self, wholesale: Decimal) -> Decimal:
        return wholesale + self.retail_adder_per_kwh

    def sell_price(self, wholesale: Decimal, step: int) -> Decimal:
        b = self.basis(wholesale)
        return quantize(b + self.half_spread_per_kwh + step * self.step_increment_per_kwh)

    def buy_price(self, wholesale: Decimal, step: int) -> Decimal:
        b = self.basis(wholesale)
        return quantize(b - self.half_spread_per_kwh - step * self.step_increment_per_kwh)

    def spot_price(self, wholesale: Decimal) -> Decimal:
        return quantize(self.basis(wholesale) + self.spot_adder_per_kwh)

    def buys_home_offer(self, wholesale: Decimal, price: Decimal) -> bool:
        """The home sells at ``price``: taken when at or below the retailer's marginal cost."""
        return price <= self.basis(wholesale) + self.margin_per_kwh

    def sells_home_bid(self, wholesale: Decimal, price: Decimal) -> bool:
        """The home buys at ``price``: taken when at or above the retailer's best sell price."""
        return price >= self.basis(wholesale) + self.half_spread_per_kwh


class WholesalePrices(Protocol):
    """The retailer's wholesale prices (currency per kWh): the forward (day-ahead) price its quotes
    are built on, and the spot price deviations settle at."""

    def at(self, instant: datetime) -> Decimal: ...

    def spot_at(self, instant: datetime) -> Decimal: ...


@dataclass(frozen=True)
class Wholesale:
    """An hourly day-ahead series (currency per kWh), replayed week-looped from ``anchor``."""

    tz: ZoneInfo
    anchor: date  # the simulated local date that replays the series' first day
    first_day: date
    hourly: dict[tuple[int, int], Decimal]  # (day index 0..6, local hour) -> price per kWh

    @classmethod
    def from_csv(cls, path: Path, tz: ZoneInfo, anchor: date, *, first_day: date | None = None) -> Wholesale:
        """``time,price_eur_per_mwh`` rows (``scenarios/data/prices_de_2015.csv``): the week from
        ``first_day`` (default: the file's first)."""
        try:
            rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
        except OSError as e:
            raise PlantDataError(f"cannot read: {e}", field=str(path)) from e
        hourly: dict[tuple[int, int], Decimal] = {}
        first: date | None = first_day
        for n, row in enumerate(rows, start=2):
            try:
                at = datetime.fromisoformat(row["time"]).astimezone(tz)
                if first_day is not None and not 0 <= (at.date() - first_day).days < 7:
                    continue
                mwh = Decimal(row["price_eur_per_mwh"])
            except (KeyError, ValueError, ArithmeticError) as e:
                raise PlantDataError(f"bad row: {e}", field=f"{path}:{n}") from e
            first = first or at.date()
            hourly[((at.date() - first).days % 7, at.hour)] = mwh / _MWH_PER_KWH
        if first is None or len(hourly) < 24:
            raise PlantDataError("needs at least one day of hourly prices", field=str(path))
        return cls(tz, anchor, first, hourly)

    def spot_at(self, instant: datetime) -> Decimal:
        """Spot equals the day-ahead price here."""
        return self.at(instant)

    def at(self, instant: datetime) -> Decimal:
        """The wholesale price of the hour holding ``instant`` (a missing hour: the nearest earlier one)."""
        local = instant.astimezone(self.tz)
        day = (local.date() - self.anchor).days % 7
        slot = day * 24 + local.hour
        for back in range(24 * 7):
            key = divmod((slot - back) % (24 * 7), 24)
            if key in self.hourly:
                return self.hourly[key]
        raise PlantDataError("no price at all", field="wholesale")
