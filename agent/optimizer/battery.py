"""Home battery: one-way efficiencies, soft SoC limits, a soft reserve floor, wear.

Variables per interval t (dt hours): charge ``bat_ch`` and discharge ``bat_dis`` (kW, >= 0) and
the stored energy at the end of the interval split into an in-band part ``bat_z`` and the soft
excursions ``bat_res`` (below the reserve floor), ``bat_low`` (below soc_min), ``bat_high``
(above soc_max), all kWh::

    e[t] = z[t] - res[t] - low[t] + high[t]
    e[t] = e[t-1] + eta_c * dt * ch[t] - dt / eta_d * dis[t]        (e[-1] = energy now)
    0 <= ch[t] <= ch_max,   0 <= dis[t] <= dis_max
    max(reserve, soc_min) <= z[t] <= soc_max,   0 <= res[t] <= max(reserve - soc_min, 0)
    low[t], high[t] >= 0
    cost = sum_t dt * (wear * (ch + dis) + wear_q * (ch^2 + dis^2)
                       + p_reserve * res + p_soc * (low + high))  -  value_end * e[T-1]

Writing the soft bounds into the state (instead of rows ``e + low >= soc_min``) keeps every
constraint an equality or a box, which makes the interior-point solve about a fifth faster.

Net power is ``ch - dis`` (+charge, agent.units). Charging and discharging in the same interval
only burns energy through the losses; the optimum does it only when that earns money (negative
export prices), which a real inverter cannot, so such a plan still reads correctly as ``ch - dis``
with the loss spent elsewhere (the plan check requires nothing more).
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
class BatteryParams:
    capacity_kwh: float
    charge_max_kw: float
    discharge_max_kw: float
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    soc_min_kwh: float = 0.0
    soc_max_kwh: float | None = None  # None: the capacity
    reserve_kwh: float = 0.0
    wear_per_kwh: float = 0.0
    wear_quadratic_per_kw2h: float = 0.0

    def __post_init__(self) -> None:
        validate.positive("battery.capacity_kwh", self.capacity_kwh)
        validate.non_negative("battery.charge_max_kw", self.charge_max_kw)
        validate.non_negative("battery.discharge_max_kw", self.discharge_max_kw)
        validate.fraction("battery.charge_efficiency", self.charge_efficiency)
        validate.fraction("battery.discharge_efficiency", self.discharge_efficiency)
        validate.non_negative("battery.soc_min_kwh", self.soc_min_kwh)
        validate.non_negative("battery.reserve_kwh", self.reserve_kwh)
        validate.non_negative("battery.wear_per_kwh", self.wear_per_kwh)
        validate.non_negative("battery.wear_quadratic_per_kw2h", self.wear_quadratic_per_kw2h)
        if not self.soc_min_kwh <= self.max_kwh <= self.capacity_kwh:
            raise InputError("battery.soc_max_kwh", "need soc_min_kwh <= soc_max_kwh <= capacity_kwh")
        if self.reserve_kwh > self.max_kwh:
            raise InputError("battery.reserve_kwh", "must not exceed soc_max_kwh")

    @property
    def max_kwh(self) -> float:
        return self.capacity_kwh if self.soc_max_kwh is None else self.soc_max_kwh


@dataclass(frozen=True)
class BatteryInputs:
    energy_kwh: float  # stored now; may lie outside the SoC limits
    terminal_value_per_kwh: float = 0.0  # worth of energy left at the horizon's end

    def __post_init__(self) -> None:
        validate.non_negative("battery.energy_kwh", self.energy_kwh)
        validate.finite("battery.terminal_value_per_kwh", self.terminal_value_per_kwh)


# The stored energy is the sum of these parts with these signs.
ENERGY = {"bat_z": 1.0, "bat_res": -1.0, "bat_low": -1.0, "bat_high": 1.0}


class BatteryTerm:
    name = "battery"
    load_key = "battery_kw"

    def __init__(self, params: BatteryParams, horizon: int, dt_h: float) -> None:
        self.p = params
        self.horizon = horizon
        self.dt_h = dt_h

    def declare(self, s: Structure) -> list[Term]:
        p, dt = self.p, self.dt_h
        for v in ("bat_ch", "bat_dis", *ENERGY):
            s.var(v)
        state = [Term(v, s.full(sign)) for v, sign in ENERGY.items()]
        state += [Term(v, s.full(-sign), lag=1) for v, sign in ENERGY.items()]
        s.row(
            "bat:dyn",
            Sense.EQ,
            [
                *state,
                Term("bat_ch", s.full(-p.charge_efficiency * dt)),
                Term("bat_dis", s.full(dt / p.discharge_efficiency)),
            ],
        )
        s.quadratic("bat_ch", s.full(p.wear_quadratic_per_kw2h * dt))
        s.quadratic("bat_dis", s.full(p.wear_quadratic_per_kw2h * dt))
        return [Term("bat_ch", s.ones()), Term("bat_dis", s.full(-1.0))]

    def _inputs(self, inputs: PlanInputs) -> BatteryInputs:
        if inputs.battery is None:
            raise InputError("battery", "the model has a battery but the inputs give no battery state")
        return inputs.battery

    def fill(self, n: Numbers, inputs: PlanInputs) -> None:
        p, dt, inp = self.p, self.dt_h, self._inputs(inputs)
        n.bounds("bat_ch", 0.0, p.charge_max_kw)
        n.bounds("bat_dis", 0.0, p.discharge_max_kw)
        n.bounds("bat_z", max(p.reserve_kwh, p.soc_min_kwh), p.max_kwh)
        n.bounds("bat_low", 0.0, np.inf)
        n.bounds("bat_res", 0.0, max(p.reserve_kwh - p.soc_min_kwh, 0.0))
        n.bounds("bat_high", 0.0, np.inf)
        rhs = np.zeros(self.horizon)
        rhs[0] = inp.energy_kwh
        n.rhs("bat:dyn", rhs)
        n.cost("bat_ch", p.wear_per_kwh * dt)
        n.cost("bat_dis", p.wear_per_kwh * dt)
        n.cost("bat_res", penalties.BATTERY_RESERVE_PER_KWH * dt)
        n.cost("bat_low", penalties.BATTERY_SOC_LIMIT_PER_KWH * dt)
        n.cost("bat_high", penalties.BATTERY_SOC_LIMIT_PER_KWH * dt)
        end = np.zeros(self.horizon)
        for v, sign in ENERGY.items():
            end[-1] = -inp.terminal_value_per_kwh * sign
            n.cost(v, end)

    def series(self, x: dict[str, Vec], inputs: PlanInputs) -> dict[str, Vec]:
        return {
            "battery_kw": x["bat_ch"] - x["bat_dis"],
            "battery_charge_kw": x["bat_ch"],
            "battery_discharge_kw": x["bat_dis"],
            "battery_kwh": sum((sign * x[v] for v, sign in ENERGY.items()), np.zeros(self.horizon)),
        }

    def costs(self, ser: dict[str, Vec], inputs: PlanInputs) -> dict[str, float]:
        p, dt, inp = self.p, self.dt_h, self._inputs(inputs)
        ch, dis, e = ser["battery_charge_kw"], ser["battery_discharge_kw"], ser["battery_kwh"]
        wear = dt * (p.wear_per_kwh * (ch + dis) + p.wear_quadratic_per_kw2h * (ch**2 + dis**2))
        floor = max(p.reserve_kwh, p.soc_min_kwh)
        below_res = np.clip(floor - e, 0.0, max(p.reserve_kwh - p.soc_min_kwh, 0.0))
        below_min = np.maximum(floor - e - below_res, 0.0)
        above = np.maximum(e - p.max_kwh, 0.0)
        penalty = dt * (
            penalties.BATTERY_RESERVE_PER_KWH * below_res
            + penalties.BATTERY_SOC_LIMIT_PER_KWH * (below_min + above)
        )
        return {
            "battery_wear": float(wear.sum()),
            "battery_penalty": float(penalty.sum()),
            "battery_terminal": float(-inp.terminal_value_per_kwh * e[-1]),
        }

    def check(self, ser: dict[str, Vec], inputs: PlanInputs, tol_kw: float) -> list[str]:
        p, dt, inp = self.p, self.dt_h, self._inputs(inputs)
        ch, dis, e = ser["battery_charge_kw"], ser["battery_discharge_kw"], ser["battery_kwh"]
        out = []
        if ch.min() < -tol_kw or ch.max() > p.charge_max_kw + tol_kw:
            out.append(f"battery charge outside [0, {p.charge_max_kw}] kW")
        if dis.min() < -tol_kw or dis.max() > p.discharge_max_kw + tol_kw:
            out.append(f"battery discharge outside [0, {p.discharge_max_kw}] kW")
        prev = np.concatenate([[inp.energy_kwh], e[:-1]])
        resid = e - prev - p.charge_efficiency * dt * ch + dt / p.discharge_efficiency * dis
        if np.abs(resid).max() > tol_kw * dt:
            out.append(
                f"battery energy does not follow its charge/discharge (off by {np.abs(resid).max():.2g} kWh)"
            )
        return out
