"""Plug-in EV: charging only while plugged in, optional V2G, a soft energy target by departure.

A session runs over intervals ``arrival <= t < departure`` (indices into the horizon; an arrival
<= 0 means plugged in now). Variables per interval: ``ev_ch``, ``ev_dis`` (kW >= 0, the latter only
with V2G), energy at the end of the interval ``ev_e`` (kWh), ``ev_away`` (kWh the car gains or
loses while unplugged: driving) and the shortfall ``ev_short`` (kWh)::

    e[t] = e[t-1] + eta_c * dt * ch[t] - dt / eta_d * dis[t] + away[t]      (e[-1] = energy now)
    plugged:    0 <= ch <= ch_max,  0 <= dis <= dis_max,  away = 0,
                min(floor, e_arrival) <= e <= max(capacity, e_arrival)
    unplugged:  ch = dis = 0,  away = 0,  0 <= e <= cap'          (cap' = largest energy seen)
    e[arrival - 1] = e_arrival, |away[arrival - 1]| <= cap'     (the car comes home changed)
    e[dep - 1] + short >= target,  short >= 0,  cost p_short * short
    cost += wear_v2g * dt * dis

Never below the V2G floor by discharging, never below what the car arrived with: so the lower
bound is feasible from any arrival. A departure beyond the horizon moves the target to the last
interval, reduced by what full-rate charging could still add before departure, so the plan keeps
the target reachable without charging early for nothing.
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
class EvParams:
    capacity_kwh: float
    charge_max_kw: float
    charge_efficiency: float = 0.92
    discharge_max_kw: float = 0.0  # > 0 enables V2G
    discharge_efficiency: float = 0.92
    v2g_floor_kwh: float = 0.0
    v2g_wear_per_kwh: float = 0.0

    def __post_init__(self) -> None:
        validate.positive("ev.capacity_kwh", self.capacity_kwh)
        validate.non_negative("ev.charge_max_kw", self.charge_max_kw)
        validate.fraction("ev.charge_efficiency", self.charge_efficiency)
        validate.non_negative("ev.discharge_max_kw", self.discharge_max_kw)
        validate.fraction("ev.discharge_efficiency", self.discharge_efficiency)
        validate.non_negative("ev.v2g_floor_kwh", self.v2g_floor_kwh)
        validate.non_negative("ev.v2g_wear_per_kwh", self.v2g_wear_per_kwh)
        if self.v2g_floor_kwh > self.capacity_kwh:
            raise InputError("ev.v2g_floor_kwh", "must not exceed capacity_kwh")

    @property
    def v2g(self) -> bool:
        return self.discharge_max_kw > 0


@dataclass(frozen=True)
class EvSession:
    arrival: int  # first plugged interval (<= 0: plugged in now)
    departure: int  # first interval after unplugging (may lie beyond the horizon)
    arrival_kwh: float  # energy when plugged in (for a car plugged in now: its energy now)
    target_kwh: float  # wanted at departure


@dataclass(frozen=True)
class EvInputs:
    sessions: tuple[EvSession, ...] = ()

    def __post_init__(self) -> None:
        last_dep = None
        for i, s in enumerate(self.sessions):
            f = f"ev.sessions[{i}]"
            validate.non_negative(f"{f}.arrival_kwh", s.arrival_kwh)
            validate.non_negative(f"{f}.target_kwh", s.target_kwh)
            if s.departure <= max(s.arrival, 0):
                raise InputError(f"{f}.departure", "must come after the arrival and after now")
            if last_dep is not None and s.arrival <= last_dep:
                raise InputError(
                    f"{f}.arrival", "sessions must be in order with an unplugged interval between"
                )
            last_dep = s.departure


class EvTerm:
    name = "ev"
    load_key = "ev_kw"

    def __init__(self, params: EvParams, horizon: int, dt_h: float) -> None:
        self.p = params
        self.horizon = horizon
        self.dt_h = dt_h

    def declare(self, s: Structure) -> list[Term]:
        p, dt = self.p, self.dt_h
        for v in ("ev_ch", "ev_e", "ev_away", "ev_short"):
            s.var(v)
        terms = [
            Term("ev_e", s.ones()),
            Term("ev_e", s.full(-1.0), lag=1),
            Term("ev_ch", s.full(-p.charge_efficiency * dt)),
            Term("ev_away", s.full(-1.0)),
        ]
        load = [Term("ev_ch", s.ones())]
        if p.v2g:
            s.var("ev_dis")
            terms.append(Term("ev_dis", s.full(dt / p.discharge_efficiency)))
            load.append(Term("ev_dis", s.full(-1.0)))
        s.row("ev:dyn", Sense.EQ, terms)
        s.row("ev:target", Sense.GE, [Term("ev_e", s.ones()), Term("ev_short", s.ones())])
        return load

    def _inputs(self, inputs: PlanInputs) -> EvInputs:
        if inputs.ev is None:
            raise InputError("ev", "the model has an EV but the inputs give no EV sessions")
        for i, s in enumerate(inputs.ev.sessions):
            if s.target_kwh > self.p.capacity_kwh:
                raise InputError(f"ev.sessions[{i}].target_kwh", "exceeds the EV's capacity_kwh")
        return inputs.ev

    def layout(self, inputs: PlanInputs) -> dict[str, Vec]:
        """Per-interval session data: plugged mask, energy bounds, target and initial energy."""
        p, dt, t_n = self.p, self.dt_h, self.horizon
        inp = self._inputs(inputs)
        cap = max([p.capacity_kwh] + [s.arrival_kwh for s in inp.sessions])
        plugged = np.zeros(t_n)
        e_lo, e_hi = np.zeros(t_n), np.full(t_n, cap)
        target = np.full(t_n, -np.inf)
        init = np.zeros(1)
        jump = np.zeros(t_n)
        floor = p.v2g_floor_kwh if p.v2g else 0.0
        for s in inp.sessions:
            a, d = max(s.arrival, 0), min(s.departure, t_n)
            if a >= t_n:
                continue
            plugged[a:d] = 1.0
            e_lo[a:d] = min(floor, s.arrival_kwh)
            e_hi[a:d] = max(p.capacity_kwh, s.arrival_kwh)
            if s.arrival >= 1:
                e_lo[a - 1] = e_hi[a - 1] = s.arrival_kwh
                jump[a - 1] = 1.0
            else:
                init[0] = s.arrival_kwh
            late = max(s.departure - t_n, 0) * p.charge_max_kw * p.charge_efficiency * dt
            target[d - 1] = s.target_kwh - late if late == 0 or s.target_kwh - late > 0 else -np.inf
        return {
            "plugged": plugged,
            "jump": jump,
            "e_lo": e_lo,
            "e_hi": e_hi,
            "target": target,
            "init": init,
            "cap": np.array([cap]),
        }

    def fill(self, n: Numbers, inputs: PlanInputs) -> None:
        p = self.p
        lay = self.layout(inputs)
        plugged, cap = lay["plugged"], float(lay["cap"][0])
        n.bounds("ev_ch", 0.0, plugged * p.charge_max_kw)
        if p.v2g:
            n.bounds("ev_dis", 0.0, plugged * p.discharge_max_kw)
            n.cost("ev_dis", p.v2g_wear_per_kwh * self.dt_h)
        n.bounds("ev_e", lay["e_lo"], lay["e_hi"])
        n.bounds("ev_away", -lay["jump"] * cap, lay["jump"] * cap)
        has_target = np.isfinite(lay["target"])
        n.bounds("ev_short", 0.0, np.where(has_target, cap, 0.0))
        rhs = np.zeros(self.horizon)
        rhs[0] = lay["init"][0]
        n.rhs("ev:dyn", rhs)
        # Outside departure intervals the row must not bind: 1 kWh below the energy's own lower
        # bound keeps it finite (interior-point solvers dislike rows free on both sides).
        n.rhs("ev:target", np.where(has_target, lay["target"], lay["e_lo"] - 1.0), np.inf)
        n.cost("ev_short", penalties.EV_SHORTFALL_PER_KWH)

    def series(self, x: dict[str, Vec]) -> dict[str, Vec]:
        dis = x["ev_dis"] if self.p.v2g else np.zeros(self.horizon)
        return {
            "ev_kw": x["ev_ch"] - dis,
            "ev_charge_kw": x["ev_ch"],
            "ev_discharge_kw": dis,
            "ev_kwh": x["ev_e"],
        }

    def costs(self, ser: dict[str, Vec], inputs: PlanInputs) -> dict[str, float]:
        lay = self.layout(inputs)
        has_target = np.isfinite(lay["target"])
        short = np.maximum(np.where(has_target, lay["target"], 0.0) - ser["ev_kwh"], 0.0) * has_target
        return {
            "ev_wear": float(self.p.v2g_wear_per_kwh * self.dt_h * ser["ev_discharge_kw"].sum()),
            "ev_penalty": float(penalties.EV_SHORTFALL_PER_KWH * short.sum()),
        }

    def check(self, ser: dict[str, Vec], inputs: PlanInputs, tol_kw: float) -> list[str]:
        p, dt = self.p, self.dt_h
        lay = self.layout(inputs)
        plugged = lay["plugged"]
        ch, dis, e = ser["ev_charge_kw"], ser["ev_discharge_kw"], ser["ev_kwh"]
        out = []
        if ch.min() < -tol_kw or np.any(ch > plugged * p.charge_max_kw + tol_kw):
            out.append("EV charge outside [0, max] or while unplugged")
        if dis.min() < -tol_kw or np.any(dis > plugged * p.discharge_max_kw + tol_kw):
            out.append("EV discharge outside [0, max] or while unplugged")
        if np.any(e < lay["e_lo"] - tol_kw * dt) or np.any(e > lay["e_hi"] + tol_kw * dt):
            out.append("EV energy outside its bounds")
        prev = np.concatenate([lay["init"], e[:-1]])
        resid = (e - prev - p.charge_efficiency * dt * ch + dt / p.discharge_efficiency * dis) * plugged
        if np.abs(resid).max() > tol_kw * dt:
            out.append(f"EV energy does not follow its charging (off by {np.abs(resid).max():.2g} kWh)")
        return out
