"""Demand charge: the billing month's peak import, charged per kW, as a running peak over the horizon.

A household contract may bill ``per_kw`` times the month's highest average import over one
metering interval, counting only the intervals of some time-of-use periods (agent/tariff/bill.py).
The horizon (a day by default, a week at most) is much shorter than a month and a peak, once
set, holds for the rest of the month, so a rise of the peak anywhere in the horizon is charged in
full at once.

Variables per interval t: the running peak ``pk`` (kW), its rise ``pk_rise`` and the room
``pk_room`` between the peak and the meter's import (``imp + over``, grid.py)::

    pk[t] = link[t] * pk[t-1] + pk_rise[t]       pk[-1] = the month's peak so far (the ledger's);
                                                 link[t] = 0 where t begins a new billing month
    pk[t] = imp[t] + over[t] + pk_room[t]
    pk >= 0,  pk_rise >= 0,  pk_room >= 0 where t counts toward the peak (free where it does not)
    cost = per_kw * sum_t pk_rise[t]

Why this form:

* The rises' cost telescopes: per month, the sum of the rises is the peak at the month's last
  interval in the horizon less the peak it started from (the peak so far for the first month,
  0 for a month that begins inside the horizon), which is what the bill adds; and the rises are
  what the ledger books as the month's demand rows (agent/tariff/contract_book.py). No cost
  needs to find a month's last interval.
* Only equalities and boxes, as the battery writes its soft bounds (battery.py): PIQP gets no
  inequality block, and the solve without the penalty slacks (screened.py) stays possible. An
  uncounted interval frees its room instead of dropping the row, so the structure stays the
  same from one re-plan to the next and only bounds change.
* A new month restarts the chain through a dynamic coefficient, as an EV's chain restarts at an
  arrival (ev.py): the pattern of A never changes.
* Linear rows and a linear cost with ``per_kw >= 0``: convex, and at most four entries per
  interval and row.

The row bounds the import side of the meter flow, ``imp + over``. Where the adders leave
importing and exporting in the same interval free (a contract whose whole price sits on the
trades), the plan may show such a pair, which no meter would: ``imp + over`` is then above the
net import ``max(grid, 0)``, never below it, and the optimum keeps no such pair where it would
raise the peak. So at the optimum the peak at each month's last interval is the largest counted
net import of the month in the horizon, or the peak so far if that is higher. *When* a rise is
booked inside a month is not unique (raising the peak early or when the import comes costs the
same), so the plan's series ``demand_peak_kw`` is the running peak worked out from the planned
net import itself, and its cost ``demand`` is priced from that series.

A plan step longer than the metering interval plans its import flat across the step, so the
peak the plan sees is the step's mean: the bill's peak over the step's metering intervals is at
least that (the dispatcher follows the step's setpoints).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agent.optimizer import validate
from agent.optimizer.errors import InputError
from agent.optimizer.structure import Numbers, Sense, Structure, Term, Vec

if TYPE_CHECKING:
    from agent.optimizer.model import PlanInputs


@dataclass(frozen=True)
class DemandInputs:
    """The demand charge over one horizon.

    ``counts[t]`` is 1 where interval t's import counts toward the peak (its time-of-use period is
    one the charge names), else 0; ``month_starts[t]`` is 1 where interval t begins a new billing
    month (never the first interval: that one lies in the month whose peak so far is
    ``peak_so_far_kw``).
    """

    per_kw: float  # currency per kW of the month's peak
    counts: Vec
    month_starts: Vec
    peak_so_far_kw: float = 0.0

    def __post_init__(self) -> None:
        validate.non_negative("demand.per_kw", self.per_kw)
        validate.non_negative("demand.peak_so_far_kw", self.peak_so_far_kw)
        validate.freeze_vectors(self, "demand", ("counts", "month_starts"))
        for name in ("counts", "month_starts"):
            values = getattr(self, name)
            if not np.all((values == 0.0) | (values == 1.0)):
                raise InputError(f"demand.{name}", "expected 0 or 1 per interval")
        if self.month_starts.size and self.month_starts[0] != 0.0:
            raise InputError(
                "demand.month_starts", "the first interval lies in the month of peak_so_far_kw: give 0 there"
            )


def running_peak_kw(import_kw: Vec, d: DemandInputs) -> Vec:
    """The month's peak at the end of each interval: the counted imports' running maximum from the
    peak so far, starting again from 0 at each new month."""
    out = np.empty(import_kw.size)
    peak = d.peak_so_far_kw
    for t in range(import_kw.size):
        if d.month_starts[t]:
            peak = 0.0
        if d.counts[t]:
            peak = max(peak, float(import_kw[t]))
        out[t] = peak
    return out


def demand_cost(peak_kw: Vec, d: DemandInputs) -> float:
    """``per_kw`` times each month's rise: its peak at its last interval in the horizon less the
    peak it started from (the peak so far, or 0 for a month that begins in the horizon)."""
    if peak_kw.size == 0:
        return 0.0
    ends = np.flatnonzero(np.append(d.month_starts[1:], 1.0))
    starts_from = np.zeros(ends.size)
    starts_from[0] = d.peak_so_far_kw
    return float(d.per_kw * (peak_kw[ends] - starts_from).sum())


class DemandTerm:
    name = "demand"

    def __init__(self, horizon: int, dt_h: float) -> None:
        self.horizon = horizon
        self.dt_h = dt_h

    def declare(self, s: Structure) -> None:
        """After the grid's: the room row reads the grid's ``imp`` and ``over``."""
        for v in ("pk", "pk_rise", "pk_room"):
            s.var(v)
        one, neg = s.ones(), s.full(-1.0)
        s.row(
            "peak:hold",
            Sense.EQ,
            [Term("pk", one), Term("pk", neg, lag=1, dynamic=True), Term("pk_rise", neg)],
        )
        s.row(
            "peak:room",
            Sense.EQ,
            [Term("pk", one), Term("imp", neg), Term("over", neg), Term("pk_room", neg)],
        )

    def _inputs(self, inputs: PlanInputs) -> DemandInputs:
        d = inputs.demand
        if d is None:
            raise InputError("demand", "the model has a demand charge but the inputs give none")
        validate.length("demand.counts", d.counts, self.horizon)
        validate.length("demand.month_starts", d.month_starts, self.horizon)
        return d

    def fill(self, n: Numbers, inputs: PlanInputs) -> None:
        d = self._inputs(inputs)
        n.bounds("pk", 0.0, np.inf)
        n.bounds("pk_rise", 0.0, np.inf)
        n.bounds("pk_room", np.where(d.counts == 1.0, 0.0, -np.inf), np.inf)
        n.dynamic("peak:hold", "pk", -(1.0 - d.month_starts))
        rhs = np.zeros(self.horizon)
        rhs[0] = d.peak_so_far_kw  # pk[-1]: the lagged term of the first interval
        n.rhs("peak:hold", rhs)
        n.rhs("peak:room", 0.0)
        n.cost("pk_rise", d.per_kw)

    def series(self, grid_kw: Vec, inputs: PlanInputs) -> dict[str, Vec]:
        """The running peak of the planned net import (``grid_kw`` is +import)."""
        return {"demand_peak_kw": running_peak_kw(np.maximum(grid_kw, 0.0), self._inputs(inputs))}

    def costs(self, ser: dict[str, Vec], inputs: PlanInputs) -> dict[str, float]:
        return {"demand": demand_cost(ser["demand_peak_kw"], self._inputs(inputs))}
