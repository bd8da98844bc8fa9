"""Settling a closed metering interval: pure arithmetic, no I/O.

Metered energy comes from the meter's cumulative counters (import and export, kWh), never from
integrated power: the energy of an interval is the counter delta between the reading at (or
nearest) its start and the reading at (or nearest) its end. Consecutive intervals therefore share
their boundary reading, and no energy is lost or counted twice between them.

A counter that goes down has either **rolled over** (it wrapped at its configured modulus, e.g. a
6-digit register at 1 000 000 kWh) or been **reset** (meter replaced or restarted at zero). A
drop is a rollover when a modulus is configured and the wrapped delta is less than half the
modulus (a real rollover happens near the top of the range); otherwise it is a reset, and the
energy since the reset is the new value, the energy between the last reading and the reset being
unknown. Both are flagged on the settlement.

The deviation (metered net energy minus position × interval length) is bought at the interval's
spot price when positive (the home used more than it had bought) and sold when negative.
``amount`` is what the home owes: positive it pays, negative it is paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from agent.market.errors import MarketError
from agent.market.intervals import Interval
from agent.market.records import Delivery, Product, Transaction

_SECONDS_PER_HOUR = Decimal(3600)

# A meter polled every few seconds always has a reading within a minute of a bound; a reading
# further away would shift visible energy into the neighbouring interval.
DEFAULT_READING_TOLERANCE = timedelta(seconds=60)

FLAG_RESET = "reset"
FLAG_ROLLOVER = "rollover"
FLAG_ESTIMATED = "estimated"


class SettlementError(MarketError):
    """Root of settlement and billing errors."""


class MissingReadingError(SettlementError):
    """No meter reading close enough to a bound of the interval (``bound`` is start or end)."""

    def __init__(self, bound: str, message: str) -> None:
        super().__init__(f"meter reading at the {bound}: {message}")
        self.bound = bound
        self.reason = message


class BillingError(SettlementError):
    """Items that cannot be billed together (mixed currencies); ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One reading of a meter's cumulative counters (kWh) at ``ts``, from ``source``."""

    source: str
    ts: datetime
    import_kwh: Decimal
    export_kwh: Decimal
    # Interpolated across a meter outage rather than read; settlements using it are flagged.
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class CounterDelta:
    kwh: Decimal
    resets: int = 0
    rollovers: int = 0


def energy_kwh(rate_kw: Decimal, seconds: int) -> Decimal:
    """Energy of a constant rate over whole seconds; divides last to keep the product exact."""
    return rate_kw * Decimal(seconds) / _SECONDS_PER_HOUR


def counter_delta(values: Sequence[Decimal], modulus_kwh: Decimal | None = None) -> CounterDelta:
    """Energy counted across a chronological series of one counter's values."""
    if modulus_kwh is not None and modulus_kwh <= 0:
        raise SettlementError("counter modulus must be > 0")
    total = Decimal(0)
    resets = rollovers = 0
    for prev, cur in pairwise(values):
        if cur >= prev:
            total += cur - prev
            continue
        if modulus_kwh is not None and 0 <= cur + modulus_kwh - prev < modulus_kwh / 2:
            total += cur + modulus_kwh - prev
            rollovers += 1
        else:
            total += cur
            resets += 1
    return CounterDelta(total, resets, rollovers)


def _nearest(readings: Sequence[MeterReading], at: datetime, tolerance: timedelta, bound: str) -> int:
    best: int | None = None
    for i, r in enumerate(readings):
        gap = abs(r.ts - at)
        # Ties go to the earlier reading so both intervals sharing a bound pick the same one.
        if gap <= tolerance and (best is None or gap < abs(readings[best].ts - at)):
            best = i
    if best is None:
        raise MissingReadingError(bound, f"none within {tolerance} of {at.isoformat()}")
    return best


def bound_readings(
    readings: Sequence[MeterReading],
    interval: Interval,
    tolerance: timedelta = DEFAULT_READING_TOLERANCE,
) -> list[MeterReading]:
    """The readings from the one nearest the start to the one nearest the end, in time order."""
    ordered = sorted(readings, key=lambda r: r.ts)
    first = _nearest(ordered, interval.start, tolerance, "start")
    last = _nearest(ordered, interval.end, tolerance, "end")
    if last <= first:
        raise MissingReadingError("end", "the same reading is nearest to both bounds")
    return ordered[first : last + 1]


@dataclass(frozen=True, slots=True)
class Settlement:
    """The settled deviation of one party in one closed metering interval."""

    interval: Interval
    party: str
    source: str
    position_kw: Decimal
    scheduled_kwh: Decimal
    import_kwh: Decimal
    export_kwh: Decimal
    deviation_kwh: Decimal
    spot_price_per_kwh: Decimal
    amount: Decimal
    currency: str
    flags: tuple[str, ...]
    start_reading_ts: datetime
    end_reading_ts: datetime

    @property
    def net_kwh(self) -> Decimal:
        """Metered net import (grid sign convention: + import, - export)."""
        return self.import_kwh - self.export_kwh

    @property
    def delivery(self) -> Delivery:
        return Delivery(self.interval, self.party, self.import_kwh, self.export_kwh)


def settle_interval(
    *,
    interval: Interval,
    party: str,
    position_kw: Decimal,
    readings: Sequence[MeterReading],
    spot_price_per_kwh: Decimal,
    currency: str,
    modulus_kwh: Decimal | None = None,
    tolerance: timedelta = DEFAULT_READING_TOLERANCE,
) -> Settlement:
    """Settle ``interval``: metered net energy against position × length, deviation at spot."""
    used = bound_readings(readings, interval, tolerance)
    sources = {r.source for r in used}
    if len(sources) != 1:
        raise SettlementError(f"readings of one meter expected, got sources {sorted(sources)}")
    imported = counter_delta([r.import_kwh for r in used], modulus_kwh)
    exported = counter_delta([r.export_kwh for r in used], modulus_kwh)
    flags = [
        f"{name}:{kind}"
        for name, delta in (("import", imported), ("export", exported))
        for kind, count in ((FLAG_RESET, delta.resets), (FLAG_ROLLOVER, delta.rollovers))
        if count
    ]
    if any(r.estimated for r in used):
        flags.append(FLAG_ESTIMATED)
    scheduled = energy_kwh(position_kw, int(interval.span.total_seconds()))
    deviation = imported.kwh - exported.kwh - scheduled
    return Settlement(
        interval=interval,
        party=party,
        source=used[0].source,
        position_kw=position_kw,
        scheduled_kwh=scheduled,
        import_kwh=imported.kwh,
        export_kwh=exported.kwh,
        deviation_kwh=deviation,
        spot_price_per_kwh=spot_price_per_kwh,
        amount=deviation * spot_price_per_kwh,
        currency=currency,
        flags=tuple(flags),
        start_reading_ts=used[0].ts,
        end_reading_ts=used[-1].ts,
    )


# --- billing -------------------------------------------------------------------------------


class LineKind(StrEnum):
    FORWARD = "forward"
    TRANSPORT = "transport"
    SPOT = "spot"


@dataclass(frozen=True, slots=True)
class BillLine:
    """One item of a bill, seen from the billed party: energy + when it receives, amount + when it pays."""

    kind: LineKind
    ref: str
    interval: Interval
    energy_kwh: Decimal
    price_per_kwh: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Bill:
    """What ``party`` owes for ``[start, end)``; every figure exact, rounded only when shown."""

    party: str
    start: datetime
    end: datetime
    currency: str | None  # None only for an empty bill
    lines: tuple[BillLine, ...]
    forward_cost: Decimal
    forward_revenue: Decimal
    spot: Decimal
    transport: Decimal

    @property
    def forward(self) -> Decimal:
        """Cost of forward energy bought minus revenue of forward energy sold."""
        return self.forward_cost - self.forward_revenue

    @property
    def total(self) -> Decimal:
        return self.forward + self.spot + self.transport


def _overlap_s(interval: Interval, start: datetime, end: datetime) -> int:
    lo = max(interval.start_utc, start)
    hi = min(interval.end_utc, end)
    return max(0, int((hi - lo).total_seconds()))


def _transaction_line(t: Transaction, party: str, start: datetime, end: datetime) -> BillLine | None:
    # A block that straddles the period is billed for the part inside it, so that the bills of
    # adjoining periods add up to the bill of their union.
    seconds = _overlap_s(t.interval, start, end)
    if seconds == 0 or not t.involves(party):
        return None
    kind = LineKind.TRANSPORT if t.product is Product.TRANSPORT else LineKind.FORWARD
    energy = energy_kwh(t.signed_kw(party), seconds)
    amount = t.signed_kw(party) * t.price_per_kwh * Decimal(seconds) / _SECONDS_PER_HOUR
    return BillLine(kind, t.id, t.interval, energy, t.price_per_kwh, amount)


def make_bill(
    party: str,
    start: datetime,
    end: datetime,
    transactions: Sequence[Transaction],
    settlements: Sequence[Settlement],
) -> Bill:
    """The bill of ``party`` for ``[start, end)``.

    Transactions count for the part of their interval inside the period; a settlement counts in
    the period holding its interval's start. Items of other parties are ignored.
    """
    if end <= start:
        raise BillingError("period", f"end {end.isoformat()} is not after start {start.isoformat()}")
    lines: list[BillLine] = []
    currencies: dict[str, str] = {}
    for t in transactions:
        line = _transaction_line(t, party, start, end)
        if line is not None:
            lines.append(line)
            currencies.setdefault(t.currency, f"transaction {t.id}")
    for s in settlements:
        if s.party == party and start <= s.interval.start_utc < end:
            ref = f"{s.interval.start.isoformat()}/{s.interval.duration.value}"
            lines.append(
                BillLine(LineKind.SPOT, ref, s.interval, s.deviation_kwh, s.spot_price_per_kwh, s.amount)
            )
            currencies.setdefault(s.currency, f"settlement {ref}")
    if len(currencies) > 1:
        listed = ", ".join(f"{c} ({where})" for c, where in currencies.items())
        raise BillingError("currency", f"items in more than one currency: {listed}")
    lines.sort(key=lambda line: (line.interval.start_utc, line.kind.value, line.ref))
    forward = [line for line in lines if line.kind is LineKind.FORWARD]
    return Bill(
        party=party,
        start=start,
        end=end,
        currency=next(iter(currencies), None),
        lines=tuple(lines),
        forward_cost=sum((x.amount for x in forward if x.energy_kwh > 0), Decimal(0)),
        forward_revenue=-sum((x.amount for x in forward if x.energy_kwh < 0), Decimal(0)),
        spot=sum((x.amount for x in lines if x.kind is LineKind.SPOT), Decimal(0)),
        transport=sum((x.amount for x in lines if x.kind is LineKind.TRANSPORT), Decimal(0)),
    )
