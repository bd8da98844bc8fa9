"""The household price formula over market prices: what the home pays to import and is paid to export.

For an interval in time-of-use period ``p`` with market price ``m``::

    import = (m · market_multiplier + Σ energy_per_kwh[part](p) + Σ network_per_kwh[part](p)) · vat_multiplier
    export = feed-in price (fixed) | share · m (market_share) | 0 (none)

The import price is kept by component (``market``, each energy and network part, ``vat``) so a
bill can show it line by line; the parts always add up to the import price exactly.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from agent.config.tariff import FixedExport, MarketShareExport, PeriodRate, TariffSource
from agent.market.intervals import Interval
from agent.tariff.calendar import TariffCalendar
from agent.tariff.errors import TariffError
from agent.tariff.sources import MarketPrice, PriceState

_STATE_RANK: dict[PriceState, int] = {"firm": 0, "indicative": 1, "estimated": 2}


@dataclass(frozen=True, slots=True)
class HouseholdPrice:
    interval: Interval
    period: str
    market_per_kwh: Decimal
    # Import price by component, VAT as its own line; the values sum to import_per_kwh.
    import_parts: Mapping[str, Decimal]
    import_per_kwh: Decimal
    export_per_kwh: Decimal
    currency: str
    state: PriceState


def rate_in(rate: PeriodRate, period: str) -> Decimal:
    return rate[period] if isinstance(rate, Mapping) else rate


class MarketIndex:
    """Market prices by start, so each interval finds its prices by bisection, not by a scan."""

    def __init__(self, prices: Sequence[MarketPrice], zone: ZoneInfo) -> None:
        spans = sorted(((p.interval(zone), p) for p in prices), key=lambda sp: sp[0].start_utc)
        self._spans = spans
        self._starts = [span.start_utc for span, _ in spans]
        self._longest = max((span.span for span, _ in spans), default=timedelta(0))

    def price_of(self, interval: Interval) -> tuple[Decimal, PriceState]:
        """The market price over ``interval``: the shortest price covering it, else the mean of the
        prices inside it, which must cover all of it. The least firm state used is the result's."""
        lo = bisect_right(self._starts, interval.start_utc)
        chosen = self._covering(interval, lo)
        if not chosen:
            hi = bisect_left(self._starts, interval.end_utc)
            inside = [
                (span, p)
                for span, p in self._spans[lo - 1 if lo else 0 : hi]
                if interval.contains_interval(span)
            ]
            covered_s = sum(span.span.total_seconds() for span, _ in inside)
            if covered_s < interval.span.total_seconds():
                raise TariffError(
                    f"no market price for all of {interval.start.isoformat()} {interval.duration.value}"
                )
            chosen = [p for _, p in inside]
        mean = sum((p.price_per_kwh for p in chosen), Decimal(0)) / len(chosen)
        state = max((p.state for p in chosen), key=_STATE_RANK.__getitem__)
        return mean, state

    def _covering(self, interval: Interval, lo: int) -> list[MarketPrice]:
        # Walking back from the last start at or before the interval's: the first price that
        # covers it is the shortest (intervals nest); none starting before end - longest can.
        earliest = interval.end_utc - self._longest
        for i in range(lo - 1, -1, -1):
            span, price = self._spans[i]
            if span.start_utc < earliest:
                break
            if span.contains_interval(interval):
                return [price]
        return []


def household_prices(
    tariff: TariffSource,
    calendar: TariffCalendar,
    intervals: Sequence[Interval],
    market: Sequence[MarketPrice],
    currency: str,
    *,
    month_import_kwh: Decimal = Decimal(0),
) -> list[HouseholdPrice]:
    """One import and one export price per interval, in order.

    A tiered contract prices every interval in the tier that ``month_import_kwh`` (the month's
    import so far) falls in: the price of the next kWh. The bill splits tiers exactly.
    """
    out = []
    index = MarketIndex(market, intervals[0].tz) if intervals else None
    tier = tier_adder(tariff, month_import_kwh) if tariff.tiers else None
    for interval in intervals:
        assert index is not None
        m, state = index.price_of(interval)
        period = calendar.period_of(interval)
        parts: dict[str, Decimal] = {"market": m * tariff.market_multiplier}
        for section in (tariff.energy_per_kwh, tariff.network_per_kwh):
            for name, rate in section.items():
                parts[name] = parts.get(name, Decimal(0)) + rate_in(rate, period)
        if tier is not None:
            parts["tier"] = tier
        before_vat = sum(parts.values(), Decimal(0))
        total = before_vat * tariff.vat_multiplier
        parts["vat"] = total - before_vat
        if tariff.state == "indicative" and state == "firm":
            state = "indicative"
        out.append(
            HouseholdPrice(interval, period, m, parts, total, _export_price(tariff, m), currency, state)
        )
    return out


def tier_adder(tariff: TariffSource, month_import_kwh: Decimal) -> Decimal:
    """The adder of the tier the next kWh falls in, after ``month_import_kwh`` this month."""
    for tier in tariff.tiers:
        if tier.up_to_kwh is None or month_import_kwh < tier.up_to_kwh:
            return tier.adder_per_kwh
    return tariff.tiers[-1].adder_per_kwh


def tier_split(tariff: TariffSource, before_kwh: Decimal, kwh: Decimal) -> list[tuple[Decimal, Decimal]]:
    """(kWh, adder) pieces of ``kwh`` imported after ``before_kwh`` this month, tier by tier."""
    pieces = []
    low = Decimal(0)
    for tier in tariff.tiers:
        high = tier.up_to_kwh
        start = max(before_kwh, low)
        end = before_kwh + kwh if high is None else min(before_kwh + kwh, high)
        if end > start:
            pieces.append((end - start, tier.adder_per_kwh))
        if high is not None:
            low = high
    return pieces


def _export_price(tariff: TariffSource, market_per_kwh: Decimal) -> Decimal:
    rule = tariff.export
    if isinstance(rule, FixedExport):
        return rule.price_per_kwh
    if isinstance(rule, MarketShareExport):
        return rule.share * market_per_kwh
    return Decimal(0)
