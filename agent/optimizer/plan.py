"""What a plan says: per-interval setpoints and states, costs, marginal values and bid curves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.optimizer.structure import Vec


@dataclass(frozen=True)
class BidPoint:
    price_per_kwh: float
    quantity_kw: float  # + the home would buy this much more at this price; - it would sell


@dataclass(frozen=True)
class BidCurve:
    """How much the home would trade in interval ``interval`` at other prices, by rising price.

    The quantity never rises with the price (the QP is convex); the market step turns the points
    into the agent's own tenders: buy ``q`` at ``p`` where q > 0, sell ``-q`` at ``p`` where q < 0.
    """

    interval: int
    points: tuple[BidPoint, ...]


@dataclass(frozen=True)
class SolveInfo:
    backend: str  # "osqp" or "reference"
    status: str
    iterations: int
    solve_ms: float
    max_violation: float  # worst row of l <= Ax <= u, in the row's unit (kW, kWh, K)


@dataclass(frozen=True)
class Plan:
    """A checked plan over ``horizon`` intervals of ``dt_h`` hours, index 0 being the current one.

    ``series`` holds arrays named with their unit: setpoints (``battery_kw`` +charge,
    ``ev_kw``, ``heat_pump_kw``, ``water_heater_kw``, ``pv_curtail_kw``, ``grid_kw`` +import,
    ``bought_kw``/``sold_kw`` on the ladders) and states at the end of each interval
    (``battery_kwh``, ``ev_kwh``, ``indoor_c``, ``tank_c``).
    """

    horizon: int
    dt_h: float
    series: Mapping[str, Vec]
    cost: Mapping[str, float]
    marginal_value_per_kwh: Vec
    solver: SolveInfo
    bids: tuple[BidCurve, ...] = field(default=())

    @property
    def total_cost(self) -> float:
        return float(sum(self.cost.values()))

    def setpoints(self, interval: int = 0) -> dict[str, float]:
        """Every series' value in one interval (the dispatcher reads interval 0)."""
        return {name: float(values[interval]) for name, values in self.series.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "horizon": self.horizon,
            "dt_h": self.dt_h,
            "total_cost": self.total_cost,
            "cost": dict(self.cost),
            "marginal_value_per_kwh": _floats(self.marginal_value_per_kwh),
            "series": {name: _floats(values) for name, values in self.series.items()},
            "bids": [
                {
                    "interval": b.interval,
                    "points": [
                        {"price_per_kwh": p.price_per_kwh, "quantity_kw": p.quantity_kw} for p in b.points
                    ],
                }
                for b in self.bids
            ],
            "solver": {
                "backend": self.solver.backend,
                "status": self.solver.status,
                "iterations": self.solver.iterations,
                "solve_ms": self.solver.solve_ms,
                "max_violation": self.solver.max_violation,
            },
        }


def _floats(values: Vec) -> list[float]:
    # Round away solver noise (1e-9 kW) so the JSON reads cleanly; keeps 6 significant decimals.
    rounded: list[float] = np.round(np.asarray(values, dtype=np.float64), 6).tolist()
    return rounded
