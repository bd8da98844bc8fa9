"""Grid: tender ladders, the forward position, transport adders, import/export limits, balance.

Per interval t: purchases ``buy_k`` from each step k of the retailer's sell ladder (price, max kW),
sales ``sell_k`` into each step of its buy ladder, unmatched energy ``x_buy``/``x_sell`` (nobody
offered it: priced at a penalty, so only taken when the ladder runs out), the meter flow split
into ``imp`` (up to the import limit), ``over`` (above it, penalised) and ``exp`` (up to the export
limit). P is the position already held (kW, +bought)::

    trade:  P + sum_k buy_k - sum_k sell_k + x_buy - x_sell = imp + over - exp
    meter:  imp + over - exp = base - pv + curt + sum_devices load        (+import, agent.units)
    cost = sum_t dt * ( sum_k price_buy_k buy_k - sum_k price_sell_k sell_k
                        + p_unmatched (x_buy + x_sell)
                        + adder_imp (imp + over) + adder_exp exp + p_over over )

The dual of ``trade`` is the marginal value of energy (currency/kWh): what one more kWh bought
at t is worth to the home. For a bid curve, interval t's unmatched steps are re-priced at a probe
price (buy and sell at that price without limit) and the probe quantity ``x_buy - x_sell`` is the
kW the home would take at that price on top of its plan.

A negative import adder plus export adder would pay for importing and exporting at once, so
``adder_imp + adder_exp >= 0`` is required.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agent.optimizer import penalties, validate
from agent.optimizer.errors import InputError
from agent.optimizer.structure import Numbers, Sense, Structure, Term, Vec

if TYPE_CHECKING:
    from agent.optimizer.model import PlanInputs


@dataclass(frozen=True)
class GridParams:
    import_limit_kw: float
    export_limit_kw: float
    buy_steps: int = 1  # ladder steps offered to the home (retailer sells)
    sell_steps: int = 1  # ladder steps the home can sell into (retailer buys)

    def __post_init__(self) -> None:
        validate.non_negative("grid.import_limit_kw", self.import_limit_kw)
        validate.non_negative("grid.export_limit_kw", self.export_limit_kw)
        if self.buy_steps < 0 or self.sell_steps < 0:
            raise InputError("grid.buy_steps", "ladder step counts must be >= 0")


@dataclass(frozen=True)
class GridInputs:
    """Ladders are (intervals, steps) tables; a step with max 0 is simply not on offer."""

    buy_price_per_kwh: Vec
    buy_max_kw: Vec
    sell_price_per_kwh: Vec
    sell_max_kw: Vec
    position_kw: Vec
    import_adder_per_kwh: Vec
    export_adder_per_kwh: Vec

    def __post_init__(self) -> None:
        for name in ("buy_price_per_kwh", "buy_max_kw", "sell_price_per_kwh", "sell_max_kw"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            if arr.ndim == 1:
                arr = arr.reshape(-1, 1)
            if arr.ndim != 2 or not np.all(np.isfinite(arr)):
                raise InputError(f"grid.{name}", "expected a table (intervals x steps) of finite numbers")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        validate.freeze_vectors(self, "grid", ("position_kw", "import_adder_per_kwh", "export_adder_per_kwh"))
        if np.any(self.buy_max_kw < 0) or np.any(self.sell_max_kw < 0):
            raise InputError("grid.buy_max_kw", "ladder step sizes must be >= 0 kW")
        if np.any(self.import_adder_per_kwh + self.export_adder_per_kwh < 0):
            raise InputError("grid.export_adder_per_kwh", "import adder + export adder must be >= 0")


class GridTerm:
    name = "grid"

    def __init__(self, params: GridParams, horizon: int, dt_h: float) -> None:
        self.p = params
        self.horizon = horizon
        self.dt_h = dt_h

    def declare(self, s: Structure, loads: list[Term]) -> None:
        buys = [f"buy_{k}" for k in range(self.p.buy_steps)]
        sells = [f"sell_{k}" for k in range(self.p.sell_steps)]
        for v in [*buys, *sells, "x_buy", "x_sell", "imp", "over", "exp"]:
            s.var(v)
        one, neg = s.ones(), s.full(-1.0)
        flow = [Term("imp", one), Term("over", one), Term("exp", neg)]
        s.row(
            "trade",
            Sense.EQ,
            [Term(b, one) for b in buys]
            + [Term(v, neg) for v in sells]
            + [Term("x_buy", one), Term("x_sell", neg)]
            + [Term(t.var, -t.coef) for t in flow],
        )
        s.row("meter", Sense.EQ, flow + [Term(t.var, -t.coef) for t in loads])

    def _check_shapes(self, g: GridInputs) -> None:
        t_n = self.horizon
        for name, steps in (
            ("buy_price_per_kwh", self.p.buy_steps),
            ("buy_max_kw", self.p.buy_steps),
            ("sell_price_per_kwh", self.p.sell_steps),
            ("sell_max_kw", self.p.sell_steps),
        ):
            arr = getattr(g, name)
            if arr.shape != (t_n, steps) and not (steps == 0 and arr.shape[0] == t_n):
                raise InputError(f"grid.{name}", f"expected shape ({t_n}, {steps}), got {arr.shape}")
        for name in ("position_kw", "import_adder_per_kwh", "export_adder_per_kwh"):
            validate.length(f"grid.{name}", getattr(g, name), t_n)

    def probe_prices(self, probe: tuple[int, float] | None) -> tuple[Vec, Vec]:
        """Cost per kW·h of x_buy and of x_sell (a probe makes interval t a market at its price)."""
        x_buy = np.full(self.horizon, penalties.UNMATCHED_ENERGY_PER_KWH)
        x_sell = np.full(self.horizon, penalties.UNMATCHED_ENERGY_PER_KWH)
        if probe is not None:
            x_buy[probe[0]] = probe[1]
            x_sell[probe[0]] = -probe[1]
        return x_buy, x_sell

    def fill(self, n: Numbers, inputs: PlanInputs, probe: tuple[int, float] | None) -> None:
        g, dt = inputs.grid, self.dt_h
        self._check_shapes(g)
        for k in range(self.p.buy_steps):
            n.bounds(f"buy_{k}", 0.0, g.buy_max_kw[:, k])
            n.cost(f"buy_{k}", g.buy_price_per_kwh[:, k] * dt)
        for k in range(self.p.sell_steps):
            n.bounds(f"sell_{k}", 0.0, g.sell_max_kw[:, k])
            n.cost(f"sell_{k}", -g.sell_price_per_kwh[:, k] * dt)
        x_buy, x_sell = self.probe_prices(probe)
        n.bounds("x_buy", 0.0, np.inf)
        n.bounds("x_sell", 0.0, np.inf)
        n.cost("x_buy", x_buy * dt)
        n.cost("x_sell", x_sell * dt)
        n.bounds("imp", 0.0, self.p.import_limit_kw)
        n.bounds("over", 0.0, np.inf)
        n.bounds("exp", 0.0, self.p.export_limit_kw)
        n.cost("imp", g.import_adder_per_kwh * dt)
        n.cost("over", (g.import_adder_per_kwh + penalties.IMPORT_OVER_LIMIT_PER_KWH) * dt)
        n.cost("exp", g.export_adder_per_kwh * dt)
        n.rhs("trade", -g.position_kw)
        n.rhs("meter", inputs.base_kw - inputs.pv_kw)

    def series(self, x: dict[str, Vec]) -> dict[str, Vec]:
        buy = sum((x[f"buy_{k}"] for k in range(self.p.buy_steps)), np.zeros(self.horizon))
        sell = sum((x[f"sell_{k}"] for k in range(self.p.sell_steps)), np.zeros(self.horizon))
        out = {
            "grid_kw": x["imp"] + x["over"] - x["exp"],
            "import_over_limit_kw": x["over"],
            "bought_kw": buy,
            "sold_kw": sell,
            "unmatched_buy_kw": x["x_buy"],
            "unmatched_sell_kw": x["x_sell"],
            "import_kw": x["imp"] + x["over"],
            "export_kw": x["exp"],
        }
        out.update({f"buy_{k}_kw": x[f"buy_{k}"] for k in range(self.p.buy_steps)})
        out.update({f"sell_{k}_kw": x[f"sell_{k}"] for k in range(self.p.sell_steps)})
        return out

    def costs(
        self, ser: dict[str, Vec], inputs: PlanInputs, probe: tuple[int, float] | None
    ) -> dict[str, float]:
        g, dt = inputs.grid, self.dt_h
        energy = sum(
            (g.buy_price_per_kwh[:, k] * ser[f"buy_{k}_kw"] for k in range(self.p.buy_steps)),
            np.zeros(self.horizon),
        ) - sum(
            (g.sell_price_per_kwh[:, k] * ser[f"sell_{k}_kw"] for k in range(self.p.sell_steps)),
            np.zeros(self.horizon),
        )
        x_buy, x_sell = self.probe_prices(probe)
        unmatched = x_buy * ser["unmatched_buy_kw"] + x_sell * ser["unmatched_sell_kw"]
        transport = g.import_adder_per_kwh * ser["import_kw"] + g.export_adder_per_kwh * ser["export_kw"]
        over = penalties.IMPORT_OVER_LIMIT_PER_KWH * ser["import_over_limit_kw"]
        return {
            "energy": float(dt * energy.sum()),
            "unmatched": float(dt * unmatched.sum()),
            "transport": float(dt * transport.sum()),
            "import_limit_penalty": float(dt * over.sum()),
        }

    def check(self, ser: dict[str, Vec], inputs: PlanInputs, tol_kw: float, net_load_kw: Vec) -> list[str]:
        g = inputs.grid
        out = []
        for k in range(self.p.buy_steps):
            v = ser[f"buy_{k}_kw"]
            if v.min() < -tol_kw or np.any(v > g.buy_max_kw[:, k] + tol_kw):
                out.append(f"purchase on ladder step {k} outside [0, max]")
        for k in range(self.p.sell_steps):
            v = ser[f"sell_{k}_kw"]
            if v.min() < -tol_kw or np.any(v > g.sell_max_kw[:, k] + tol_kw):
                out.append(f"sale on ladder step {k} outside [0, max]")
        for name in (
            "unmatched_buy_kw",
            "unmatched_sell_kw",
            "import_over_limit_kw",
            "export_kw",
            "import_kw",
        ):
            if ser[name].min() < -tol_kw:
                out.append(f"{name} negative")
        if ser["export_kw"].max() > self.p.export_limit_kw + tol_kw:
            out.append(f"export above the limit of {self.p.export_limit_kw} kW")
        if np.any(ser["import_kw"] - ser["import_over_limit_kw"] > self.p.import_limit_kw + tol_kw):
            out.append(f"import above the limit of {self.p.import_limit_kw} kW not booked as over-limit")
        traded = (
            g.position_kw
            + ser["bought_kw"]
            - ser["sold_kw"]
            + ser["unmatched_buy_kw"]
            - ser["unmatched_sell_kw"]
        )
        if np.abs(traded - ser["grid_kw"]).max() > tol_kw:
            out.append(
                f"trades do not cover the meter flow (off by {np.abs(traded - ser['grid_kw']).max():.2g} kW)"
            )
        if np.abs(net_load_kw - ser["grid_kw"]).max() > tol_kw:
            out.append(
                f"power balance at the meter off by {np.abs(net_load_kw - ser['grid_kw']).max():.2g} kW"
            )
        return out
