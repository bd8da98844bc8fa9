"""Heat pump (heating or cooling) on a 1R1C house: soft comfort band, quadratic comfort term.

The house is one thermal capacity C (kWh/K) behind one resistance R (K/kW) to the outdoor air.
With electric power ``hp_kw`` (0..max), a COP that follows the outdoor temperature
``cop[t] = clip(cop_ref + cop_slope * (T_out[t] - cop_ref_outdoor), 1, 10)``, heat gains g[t]
(kW, sun and people) and s = +1 heating / -1 cooling, the exact step response over dt is::

    a = exp(-dt / (R C))
    T[t] = a T[t-1] + (1 - a) (T_out[t] + R g[t] + s R cop[t] hp[t])       (T[-1] = indoor now)
    T[t] = z[t] - cold[t] + hot[t],   band_lo[t] <= z[t] <= band_hi[t],   cold, hot >= 0
    cost = sum_t dt * (p_band * (cold + hot) + w * (z - target)^2)

The quadratic term measures the in-band part z (T clipped to the band): outside the band the
linear band penalty, far steeper, takes over. Writing the band into the state keeps every
constraint an equality or a box (faster for the interior-point solver than band rows).

The COP multiplies a decision variable, so its coefficient is *dynamic*: updated per re-plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from agent.optimizer import penalties, validate
from agent.optimizer.errors import InputError
from agent.optimizer.structure import Numbers, Sense, Structure, Term, Vec

if TYPE_CHECKING:
    from agent.optimizer.model import PlanInputs

COP_MIN = 1.0
COP_MAX = 10.0


@dataclass(frozen=True)
class HeatPumpParams:
    max_kw: float
    r_k_per_kw: float
    c_kwh_per_k: float
    mode: Literal["heating", "cooling"] = "heating"
    cop_ref: float = 3.5
    cop_ref_outdoor_c: float = 7.0
    cop_slope_per_k: float = 0.0
    comfort_weight_per_k2h: float = 0.0

    def __post_init__(self) -> None:
        validate.non_negative("heat_pump.max_kw", self.max_kw)
        validate.positive("heat_pump.r_k_per_kw", self.r_k_per_kw)
        validate.positive("heat_pump.c_kwh_per_k", self.c_kwh_per_k)
        validate.at_least("heat_pump.cop_ref", self.cop_ref, COP_MIN)
        validate.finite("heat_pump.cop_slope_per_k", self.cop_slope_per_k)
        validate.non_negative("heat_pump.comfort_weight_per_k2h", self.comfort_weight_per_k2h)
        if self.mode not in ("heating", "cooling"):
            raise InputError("heat_pump.mode", f"must be 'heating' or 'cooling', got {self.mode!r}")

    def cop(self, outdoor_c: Vec) -> Vec:
        raw = self.cop_ref + self.cop_slope_per_k * (outdoor_c - self.cop_ref_outdoor_c)
        return np.clip(raw, COP_MIN, COP_MAX)


@dataclass(frozen=True)
class HeatPumpInputs:
    indoor_c: float
    outdoor_c: Vec
    band_lo_c: Vec
    band_hi_c: Vec
    target_c: Vec
    gain_kw: Vec
    # The mode in force for this plan (a seasonal changeover); None: the params' mode. Only the
    # sign of a dynamic coefficient changes, so one built problem serves both modes.
    mode: Literal["heating", "cooling"] | None = None
    # COP per interval where the caller has it (the other mode's own curve); None: the params' line.
    cop: Vec | None = None

    def __post_init__(self) -> None:
        validate.finite("heat_pump.indoor_c", self.indoor_c)
        if self.mode not in (None, "heating", "cooling"):
            raise InputError("heat_pump.mode", f"must be 'heating' or 'cooling', got {self.mode!r}")
        if self.cop is not None:
            validate.freeze_vectors(self, "heat_pump", ("cop",))
            if np.any(self.cop < COP_MIN) or np.any(self.cop > COP_MAX):
                raise InputError("heat_pump.cop", f"must lie in [{COP_MIN:g}, {COP_MAX:g}]")
        validate.freeze_vectors(
            self, "heat_pump", ("outdoor_c", "band_lo_c", "band_hi_c", "target_c", "gain_kw")
        )
        if np.any(self.band_lo_c > self.band_hi_c):
            raise InputError("heat_pump.band_lo_c", "must not exceed band_hi_c")


# Indoor temperature = in-band part - shortfall below the band + excess above it.
INDOOR = {"hp_z": 1.0, "hp_cold": -1.0, "hp_hot": 1.0}


class HeatPumpTerm:
    name = "heat_pump"
    load_key = "heat_pump_kw"

    def __init__(self, params: HeatPumpParams, horizon: int, dt_h: float) -> None:
        self.p = params
        self.horizon = horizon
        self.dt_h = dt_h
        self.a = math.exp(-dt_h / (params.r_k_per_kw * params.c_kwh_per_k))
        self.sign = 1.0 if params.mode == "heating" else -1.0

    def declare(self, s: Structure) -> list[Term]:
        for v in ("hp_kw", *INDOOR):
            s.var(v)
        gain = (1 - self.a) * self.p.r_k_per_kw * self.sign * self.p.cop_ref
        state = [Term(v, s.full(sign)) for v, sign in INDOOR.items()]
        state += [Term(v, s.full(-self.a * sign), lag=1) for v, sign in INDOOR.items()]
        s.row("hp:dyn", Sense.EQ, [*state, Term("hp_kw", s.full(-gain), dynamic=True)])
        s.quadratic("hp_z", s.full(self.p.comfort_weight_per_k2h * self.dt_h))
        return [Term("hp_kw", s.ones())]

    def _inputs(self, inputs: PlanInputs) -> HeatPumpInputs:
        if inputs.heat_pump is None:
            raise InputError("heat_pump", "the model has a heat pump but the inputs give no house state")
        return inputs.heat_pump

    def _cop(self, inp: HeatPumpInputs) -> Vec:
        return self.p.cop(inp.outdoor_c) if inp.cop is None else inp.cop

    def _sign(self, inp: HeatPumpInputs) -> float:
        return self.sign if inp.mode is None else (1.0 if inp.mode == "heating" else -1.0)

    def fill(self, n: Numbers, inputs: PlanInputs) -> None:
        p, dt, inp, a = self.p, self.dt_h, self._inputs(inputs), self.a
        for name in ("outdoor_c", "band_lo_c", "band_hi_c", "target_c", "gain_kw"):
            validate.length(f"heat_pump.{name}", getattr(inp, name), self.horizon)
        if inp.cop is not None:
            validate.length("heat_pump.cop", inp.cop, self.horizon)
        n.bounds("hp_kw", 0.0, p.max_kw)
        n.bounds("hp_z", inp.band_lo_c, inp.band_hi_c)
        n.bounds("hp_cold", 0.0, np.inf)
        n.bounds("hp_hot", 0.0, np.inf)
        n.dynamic("hp:dyn", "hp_kw", -(1 - a) * p.r_k_per_kw * self._sign(inp) * self._cop(inp))
        rhs = (1 - a) * (inp.outdoor_c + p.r_k_per_kw * inp.gain_kw)
        rhs = rhs.copy()
        rhs[0] += a * inp.indoor_c
        n.rhs("hp:dyn", rhs)
        n.cost("hp_cold", penalties.COMFORT_BAND_PER_K_H * dt)
        n.cost("hp_hot", penalties.COMFORT_BAND_PER_K_H * dt)
        n.cost("hp_z", -2.0 * p.comfort_weight_per_k2h * dt * inp.target_c)

    def series(self, x: dict[str, Vec], inputs: PlanInputs) -> dict[str, Vec]:
        indoor = sum((sign * x[v] for v, sign in INDOOR.items()), np.zeros(self.horizon))
        return {"heat_pump_kw": x["hp_kw"], "indoor_c": indoor}

    def costs(self, ser: dict[str, Vec], inputs: PlanInputs) -> dict[str, float]:
        inp, dt = self._inputs(inputs), self.dt_h
        t_in = ser["indoor_c"]
        out = np.maximum(inp.band_lo_c - t_in, 0.0) + np.maximum(t_in - inp.band_hi_c, 0.0)
        in_band = np.clip(t_in, inp.band_lo_c, inp.band_hi_c)
        return {
            "comfort_penalty": float(penalties.COMFORT_BAND_PER_K_H * dt * out.sum()),
            "comfort": float(self.p.comfort_weight_per_k2h * dt * ((in_band - inp.target_c) ** 2).sum()),
        }

    def check(self, ser: dict[str, Vec], inputs: PlanInputs, tol_kw: float) -> list[str]:
        p, inp, a = self.p, self._inputs(inputs), self.a
        hp, t_in = ser["heat_pump_kw"], ser["indoor_c"]
        out = []
        if hp.min() < -tol_kw or hp.max() > p.max_kw + tol_kw:
            out.append(f"heat pump power outside [0, {p.max_kw}] kW")
        prev = np.concatenate([[inp.indoor_c], t_in[:-1]])
        model = a * prev + (1 - a) * (
            inp.outdoor_c + p.r_k_per_kw * (inp.gain_kw + self._sign(inp) * self._cop(inp) * hp)
        )
        # 1e-3 kW of heat-pump power moves the house by at most (1-a) R COP 1e-3 K in one step.
        tol_c = (1 - a) * p.r_k_per_kw * COP_MAX * tol_kw
        if np.abs(t_in - model).max() > tol_c:
            out.append(f"indoor temperature off the house model by {np.abs(t_in - model).max():.2g} K")
        return out
