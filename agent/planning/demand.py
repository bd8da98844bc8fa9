"""The household contract's demand charge as the planner's :class:`~agent.optimizer.DemandInputs`.

Where ``market.source`` is a tariff with ``demand`` (agent/config/tariff.py), each plan interval
counts toward the month's peak when its time-of-use period is one the charge names (every period
without ``periods``), as the bill counts it (:func:`agent.tariff.bill.demand_counts`); a billing
month is a local calendar month, as the bill's; and the month's peak so far is the one the ledger
has booked (the sum of the month's demand rows, ``Ledger.contract_peak_kw``).

That peak counts the metering intervals settled so far: the interval under way, and one still
waiting for its firm price or its reading, are not in it yet. The plan then sees a peak a little
low and may plan a rise that is already paid; it never misses one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise

import numpy as np

from agent.config.tariff import TariffSource
from agent.optimizer import DemandInputs
from agent.tariff.bill import demand_counts
from agent.tariff.household import HouseholdPrice


def demand_inputs(
    tariff: TariffSource | None, prices: Sequence[HouseholdPrice], peak_so_far_kw: Decimal
) -> DemandInputs | None:
    """The demand charge over the plan intervals ``prices`` are for (in order), or None where the
    contract has none."""
    if tariff is None or tariff.demand is None:
        return None
    counts = np.array([1.0 if demand_counts(tariff, p) else 0.0 for p in prices])
    months = [(p.interval.start.year, p.interval.start.month) for p in prices]
    month_starts = np.array([0.0] + [1.0 if a != b else 0.0 for a, b in pairwise(months)])
    return DemandInputs(
        per_kw=float(tariff.demand.per_kw),
        counts=counts,
        month_starts=month_starts[: len(prices)],
        peak_so_far_kw=float(peak_so_far_kw),
    )
