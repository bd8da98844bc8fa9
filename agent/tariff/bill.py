"""A bill by component under the household's contract, from metered energy per interval.

Money comes from the meter's counter deltas (``Delivery``), never from power samples:

* each import component (``market``, every energy and network part): Σ import kWh × its price in
  the interval's period; ``tier``: each kWh × the adder of the monthly block it falls in (split
  exactly where a delivery crosses a block); ``vat``: the sum of those × (vat_multiplier − 1);
* ``export``: −Σ export kWh × the export price;
* each ``fixed_per_day`` charge × the local days the deliveries touch, each ``fixed_per_month``
  charge × the local months;
* ``demand``: per local month, the highest average import (kW over one metering interval) in the
  charge's periods × ``per_kw``.

A delivery is priced by the price interval that contains it (a 15-min reading in an hourly price).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from agent.config.tariff import TariffSource
from agent.market.records import Delivery, interval_hours
from agent.tariff.errors import TariffError
from agent.tariff.household import HouseholdPrice, tier_split

# Import components the bill works out itself: tiers by the month's running total, VAT over all.
_RECOMPUTED = frozenset({"tier", "vat"})


@dataclass(frozen=True, slots=True)
class BillLine:
    component: str
    quantity: Decimal
    unit: str  # kWh, day, month or kW
    amount: Decimal  # currency; negative: a credit


def bill_lines(
    tariff: TariffSource,
    prices: Sequence[HouseholdPrice],
    deliveries: Sequence[Delivery],
) -> list[BillLine]:
    energy: dict[str, Decimal] = defaultdict(Decimal)
    imported = exported = export_amount = Decimal(0)
    days: set[date] = set()
    months: set[tuple[int, int]] = set()
    peak_kw: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    month_kwh: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for d in sorted(deliveries, key=lambda d: d.interval.start_utc):
        price = _price_for(d, prices)
        local = d.interval.start
        month = (local.year, local.month)
        for component, amount in energy_amounts(tariff, price, d.import_kwh, month_kwh[month]).items():
            energy[component] += amount
        month_kwh[month] += d.import_kwh
        imported += d.import_kwh
        exported += d.export_kwh
        export_amount -= d.export_kwh * price.export_per_kwh
        days.add(local.date())
        months.add(month)
        if demand_counts(tariff, price):
            peak_kw[month] = max(peak_kw[month], d.import_kwh / interval_hours(d.interval))
    energy["vat"] = sum(energy.values(), Decimal(0)) * (tariff.vat_multiplier - 1)
    lines = [BillLine(c, imported, "kWh", amount) for c, amount in energy.items()]
    if exported:
        lines.append(BillLine("export", exported, "kWh", export_amount))
    n_days, n_months = Decimal(len(days)), Decimal(len(months))
    lines += [BillLine(name, n_days, "day", n_days * v) for name, v in tariff.fixed_per_day.items()]
    lines += [BillLine(name, n_months, "month", n_months * v) for name, v in tariff.fixed_per_month.items()]
    if tariff.demand is not None:
        for _month, kw in sorted(peak_kw.items()):
            lines.append(BillLine("demand", kw, "kW", kw * tariff.demand.per_kw))
    return lines


def energy_amounts(
    tariff: TariffSource, price: HouseholdPrice, import_kwh: Decimal, month_before_kwh: Decimal
) -> dict[str, Decimal]:
    """The import components of ``import_kwh`` at ``price`` (VAT excluded), after
    ``month_before_kwh`` imported earlier in the month (which places the kWh in their tiers)."""
    out = {c: import_kwh * per_kwh for c, per_kwh in price.import_parts.items() if c not in _RECOMPUTED}
    pieces = tier_split(tariff, month_before_kwh, import_kwh) if tariff.tiers else []
    if pieces:
        out["tier"] = sum((kwh * adder for kwh, adder in pieces), Decimal(0))
    return out


def demand_counts(tariff: TariffSource, price: HouseholdPrice) -> bool:
    """Whether an interval at ``price`` counts towards the month's demand peak."""
    if tariff.demand is None:
        return False
    return tariff.demand.periods is None or price.period in tariff.demand.periods


def _price_for(d: Delivery, prices: Sequence[HouseholdPrice]) -> HouseholdPrice:
    for p in prices:
        if p.interval.contains_interval(d.interval):
            return p
    raise TariffError(
        f"no tariff price for the delivery of {d.interval.start.isoformat()} {d.interval.duration.value}"
    )
