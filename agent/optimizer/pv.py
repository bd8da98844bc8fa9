"""PV from a forecast, curtailable or not.

One variable per interval, the curtailed power ``pv_curt`` (kW)::

    0 <= curt[t] <= pv_forecast[t]
    cost = sum_t dt * p_forbidden * curt[t]        (only when the inverter is not curtailable)

Used PV power is ``pv - curt``. For a curtailable inverter curtailing is free, so the plan
curtails exactly when exporting would cost money (a negative export price, or an export limit).
For one that cannot be curtailed the variable stays, priced at a penalty, so the problem is
still never infeasible when the export limit and full storage leave nowhere for the power to go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agent.optimizer import penalties
from agent.optimizer.structure import Numbers, Structure, Term, Vec

if TYPE_CHECKING:
    from agent.optimizer.model import PlanInputs


class PvTerm:
    name = "pv"
    load_key = "pv_curtail_kw"  # curtailing adds to the net load at the meter

    def __init__(self, horizon: int, dt_h: float, curtailable: bool = True) -> None:
        self.horizon = horizon
        self.dt_h = dt_h
        self.curtailable = curtailable

    def declare(self, s: Structure) -> list[Term]:
        s.var("pv_curt")
        return [Term("pv_curt", s.ones())]

    def fill(self, n: Numbers, inputs: PlanInputs) -> None:
        n.bounds("pv_curt", 0.0, inputs.pv_kw)
        if not self.curtailable:
            n.cost("pv_curt", self.dt_h * penalties.FORBIDDEN_CURTAILMENT_PER_KWH)

    def series(self, x: dict[str, Vec], inputs: PlanInputs) -> dict[str, Vec]:
        return {"pv_curtail_kw": x["pv_curt"]}

    def costs(self, ser: dict[str, Vec], inputs: PlanInputs) -> dict[str, float]:
        if self.curtailable:
            return {}
        penalty = self.dt_h * penalties.FORBIDDEN_CURTAILMENT_PER_KWH * float(ser["pv_curtail_kw"].sum())
        return {"pv_forbidden_curtailment": penalty}

    def check(self, ser: dict[str, Vec], inputs: PlanInputs, tol_kw: float) -> list[str]:
        curt = ser["pv_curtail_kw"]
        if curt.min() < -tol_kw or np.any(curt > inputs.pv_kw + tol_kw):
            return ["PV curtailment outside [0, forecast]"]
        return []
