"""Metered energy per interval from the meter's stored counter readings, for a tariff bill.

Each metering interval takes the readings nearest its bounds (as settlement does) and the
counters' deltas between them, resets counted; an interval without a reading near a bound is
listed as unmetered rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.market.intervals import Interval
from agent.market.records import Delivery
from agent.market.settlement import MeterReading, MissingReadingError, bound_readings, counter_delta


@dataclass(frozen=True, slots=True)
class Metered:
    deliveries: list[Delivery]
    unmetered: list[Interval]


def metered(readings: Sequence[MeterReading], intervals: Sequence[Interval], party: str) -> Metered:
    deliveries: list[Delivery] = []
    unmetered: list[Interval] = []
    for iv in intervals:
        try:
            span = bound_readings(readings, iv)
        except MissingReadingError:
            unmetered.append(iv)
            continue
        imp = counter_delta([r.import_kwh for r in span]).kwh
        exp = counter_delta([r.export_kwh for r in span]).kwh
        deliveries.append(Delivery(iv, party, imp, exp))
    return Metered(deliveries, unmetered)
