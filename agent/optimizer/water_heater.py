"""Resistive water heater: a fully mixed tank with standing loss and forecast hot-water draws.

Heat capacity C = volume * 4.186 kJ/(kg K) (kWh/K), standing loss UA (kW/K) to the room at
T_amb, element power ``wh_kw`` (0..element_kw). Draws are forecast in litres delivered at
``delivery_c`` through a mixing valve; the tank then loses exactly
``draw_l * c_w * (delivery_c - inlet_c)`` kWh whatever its own temperature (the hotter the tank, the
less of its water the valve takes), which keeps the model linear::

    a = exp(-UA dt / C)
    T[t] = a T[t-1] + (1 - a) T_amb + (dt * wh[t] - draw_kwh[t]) / C        (T[-1] = tank now)
    T[t] = z[t] - cold[t] + hot[t],   min_c <= z[t] <= max_c,   cold, hot >= 0
    cost = sum_t dt * p_tank * (cold + hot)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agent.optimizer import penalties, validate
from agent.optimizer.errors import InputError
from agent.optimizer.structure import Numbers, Sense, Structure, Term, Vec
from agent.units import WATER_KWH_PER_L_K

if TYPE_CHECKING:
    from agent.optimizer.model import PlanInputs


@dataclass(frozen=True)
class WaterHeaterParams:
    volume_l: float
    element_kw: float
    standing_loss_kw_per_k: float = 0.002
    ambient_c: float = 20.0
    inlet_c: float = 10.0
    delivery_c: float = 40.0
    min_c: float = 50.0
    max_c: float = 75.0

    def __post_init__(self) -> None:
        validate.positive("water_heater.volume_l", self.volume_l)
        validate.non_negative("water_heater.element_kw", self.element_kw)
        validate.non_negative("water_heater.standing_loss_kw_per_k", self.standing_loss_kw_per_k)
        for f in ("ambient_c", "inlet_c", "delivery_c"):
            validate.finite(f"water_heater.{f}", getattr(self, f))
        if not validate.finite("water_heater.min_c", self.min_c) <= validate.finite(
            "water_heater.max_c", self.max_c
        ):
            raise InputError("water_heater.min_c", "must not exceed max_c")
        if self.delivery_c < self.inlet_c:
            raise InputError("water_heater.delivery_c", "must not be below inlet_c")

    @property
    def c_kwh_per_k(self) -> float:
        return self.volume_l * WATER_KWH_PER_L_K

    def draw_kwh(self, draw_l: Vec) -> Vec:
        return draw_l * WATER_KWH_PER_L_K * (self.delivery_c - self.inlet_c)


@dataclass(frozen=True)
class WaterHeaterInputs:
    tank_c: float
    draw_l: Vec

    def __post_init__(self) -> None:
        validate.finite("water_heater.tank_c", self.tank_c)
        validate.freeze_vectors(self, "water_heater", ("draw_l",))
        if np.any(self.draw_l < 0):
            raise InputError("water_heater.draw_l", "draws must be >= 0 litres")


# Tank temperature = in-band part - shortfall below min_c + excess above max_c.
TANK = {"wh_z": 1.0, "wh_cold": -1.0, "wh_hot": 1.0}


class WaterHeaterTerm:
    name = "water_heater"
    load_key = "water_heater_kw"

    def __init__(self, params: WaterHeaterParams, horizon: int, dt_h: float) -> None:
        self.p = params
        self.horizon = horizon
        self.dt_h = dt_h
        self.a = math.exp(-params.standing_loss_kw_per_k * dt_h / params.c_kwh_per_k)

    def declare(self, s: Structure) -> list[Term]:
        for v in ("wh_kw", *TANK):
            s.var(v)
        state = [Term(v, s.full(sign)) for v, sign in TANK.items()]
        state += [Term(v, s.full(-self.a * sign), lag=1) for v, sign in TANK.items()]
        s.row("wh:dyn", Sense.EQ, [*state, Term("wh_kw", s.full(-self.dt_h / self.p.c_kwh_per_k))])
        return [Term("wh_kw", s.ones())]

    def _inputs(self, inputs: PlanInputs) -> WaterHeaterInputs:
        if inputs.water_heater is None:
            raise InputError("water_heater", "the model has a water heater but the inputs give no tank state")
        validate.length("water_heater.draw_l", inputs.water_heater.draw_l, self.horizon)
        return inputs.water_heater

    def fill(self, n: Numbers, inputs: PlanInputs) -> None:
        p, dt, inp, a = self.p, self.dt_h, self._inputs(inputs), self.a
        n.bounds("wh_kw", 0.0, p.element_kw)
        n.bounds("wh_z", p.min_c, p.max_c)
        n.bounds("wh_cold", 0.0, np.inf)
        n.bounds("wh_hot", 0.0, np.inf)
        rhs = (1 - a) * p.ambient_c - p.draw_kwh(inp.draw_l) / p.c_kwh_per_k
        rhs[0] += a * inp.tank_c
        n.rhs("wh:dyn", rhs)
        n.cost("wh_cold", penalties.TANK_BAND_PER_K_H * dt)
        n.cost("wh_hot", penalties.TANK_BAND_PER_K_H * dt)

    def series(self, x: dict[str, Vec], inputs: PlanInputs) -> dict[str, Vec]:
        tank = sum((sign * x[v] for v, sign in TANK.items()), np.zeros(self.horizon))
        return {"water_heater_kw": x["wh_kw"], "tank_c": tank}

    def costs(self, ser: dict[str, Vec], inputs: PlanInputs) -> dict[str, float]:
        t = ser["tank_c"]
        out = np.maximum(self.p.min_c - t, 0.0) + np.maximum(t - self.p.max_c, 0.0)
        return {"tank_penalty": float(penalties.TANK_BAND_PER_K_H * self.dt_h * out.sum())}

    def check(self, ser: dict[str, Vec], inputs: PlanInputs, tol_kw: float) -> list[str]:
        p, inp, a, dt = self.p, self._inputs(inputs), self.a, self.dt_h
        wh, t = ser["water_heater_kw"], ser["tank_c"]
        out = []
        if wh.min() < -tol_kw or wh.max() > p.element_kw + tol_kw:
            out.append(f"water heater power outside [0, {p.element_kw}] kW")
        prev = np.concatenate([[inp.tank_c], t[:-1]])
        model = a * prev + (1 - a) * p.ambient_c + (dt * wh - p.draw_kwh(inp.draw_l)) / p.c_kwh_per_k
        tol_c = dt * tol_kw / p.c_kwh_per_k
        if np.abs(t - model).max() > tol_c:
            out.append(
                f"tank temperature does not follow the tank model (off by {np.abs(t - model).max():.2g} K)"
            )
        return out
