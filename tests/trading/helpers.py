"""Re-solving a plan after trading, to check that a trade never raises the expected cost."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

import numpy as np

from agent.config import Config
from agent.market.records import Side, SpotPrice, Tender
from agent.optimizer import Devices, Plan, PlanInputs, Planner
from agent.planning.devices import devices_from_config
from agent.planning.inputs import BuiltInputs, MeasuredState, build_inputs, plan_horizon, planner_shape
from agent.trading.accept import AcceptDecision
from tests.planning.helpers import NOW, config, forecasts

# Interior-point accuracy: objective differences below this are solver noise.
REL_TOL = 1e-5


@cache
def home(hedge: float = 1.0, window_h: int = 3, max_kw: float = 8.0) -> tuple[Config, Devices, Planner]:
    cfg = config(hedge=hedge, window_h=window_h, max_kw=max_kw)
    dev = devices_from_config(cfg, buy_steps=3, sell_steps=3)
    return cfg, dev, Planner(dev, *planner_shape(cfg))


def scenario(
    cfg: Config,
    dev: Devices,
    tenders: Sequence[Tender],
    *,
    base_kw: float | list[float] = 1.0,
    pv_kw: float | list[float] = 0.0,
    soc: float = 0.5,
    positions: dict[int, float] | None = None,
    spot: Sequence[SpotPrice] = (),
) -> BuiltInputs:
    ivs = plan_horizon(cfg, NOW)
    return build_inputs(
        cfg,
        dev,
        NOW,
        tenders=tenders,
        forecasts=forecasts(tuple(i.start for i in ivs), base_kw=base_kw, pv_kw=pv_kw),
        state=MeasuredState(battery_soc=soc),
        positions_kw={ivs[t]: Decimal(repr(kw)) for t, kw in (positions or {}).items()},
        spot=spot,
    )


def traded(
    inputs: PlanInputs,
    delta_kw: np.ndarray,
    *,
    buy_max: np.ndarray | None = None,
    sell_max: np.ndarray | None = None,
) -> PlanInputs:
    g = inputs.grid
    grid = dataclasses.replace(
        g,
        position_kw=g.position_kw + delta_kw,
        buy_max_kw=g.buy_max_kw if buy_max is None else buy_max,
        sell_max_kw=g.sell_max_kw if sell_max is None else sell_max,
    )
    return dataclasses.replace(inputs, grid=grid)


def no_worse(after: Plan, paid: float, before: Plan) -> bool:
    return after.total_cost + paid <= before.total_cost + REL_TOL * (1 + abs(before.total_cost))


def apply_acceptances(
    built: BuiltInputs, decisions: Sequence[AcceptDecision], max_tender_kw: float, *, remove: bool
) -> tuple[PlanInputs, float]:
    """Inputs after executing ``decisions``; with ``remove`` the tenders leave the ladder, else
    only the accepted kW do. Returns the inputs and what was paid (negative: received)."""
    g, dt = built.inputs.grid, built.intervals[0].hours
    delta = np.zeros(len(built.intervals))
    buy_max, sell_max = g.buy_max_kw.copy(), g.sell_max_kw.copy()
    paid = 0.0
    for d in decisions:
        m = built.ladders.map
        sign = 1.0 if d.home_side is Side.BUY else -1.0
        table = buy_max if d.home_side is Side.BUY else sell_max
        left = float(m.open_kw[d.tender_id] - d.quantity_kw)
        for t, k in m.cells(d.tender_id):
            delta[t] += sign * float(d.quantity_kw)
            table[t, k] = 0.0 if remove else min(left, max_tender_kw)
            paid += sign * float(d.quantity_kw) * float(d.price_per_kwh) * dt
    return traded(built.inputs, delta, buy_max=buy_max, sell_max=sell_max), paid


def without(built: BuiltInputs, tender_ids: Sequence[str]) -> PlanInputs:
    g = built.inputs.grid
    buy_max, sell_max = g.buy_max_kw.copy(), g.sell_max_kw.copy()
    m = built.ladders.map
    for tid in tender_ids:
        table = buy_max if m.tenders[tid].side is Side.SELL else sell_max
        for cell in m.cells(tid):
            table[cell] = 0.0
    return traded(built.inputs, np.zeros(len(built.intervals)), buy_max=buy_max, sell_max=sell_max)
