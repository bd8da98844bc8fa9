"""Plug-in EV: charging only while plugged in, optional V2G, a soft energy target by departure.

A session runs over intervals ``arrival <= t < departure`` (indices into the horizon; an arrival
<= 0 means plugged in now). Variables per interval: ``ev_ch``, ``ev_dis`` (kW >= 0, the latter only
with V2G), the energy ``ev_e`` at the end of the interval (kWh) and ``ev_short``, the kWh missing
from the target at departure, booked as a virtual top-up in the departure interval::

    e[t] = link[t] e[t-1] + eta_c dt ch[t] - dt / eta_d dis[t] + short[t]      (e[-1] = energy now)
    link[t] = 0 in the interval before an arrival (the car comes home changed: the chain restarts
              at e = arrival energy), 1 elsewhere
    plugged:    0 <= ch <= ch_max,  0 <= dis <= dis_max,  lo <= e <= hi
                lo = min(floor, e_arrival),  hi = max(capacity, e_arrival)
    departure:  max(target, lo) <= e[dep - 1] <= hi,   0 <= short <= max(target - lo, 0)
    unplugged:  ch = dis = 0,  0 <= e <= cap'          (cap' = largest energy seen)
    cost = p_short * short + wear_v2g * dt * dis

The car's real energy is ``e - short`` from the departure interval on (the top-up is virtual), and
it never drops below ``lo``: so the bounds are feasible from any arrival. A departure beyond the
horizon moves the target to the last interval, reduced by what full-rate charging could still add
before departure, so the plan keeps the target reachable without charging early for nothing.

Why the top-up instead of a row ``e + short >= target``: every constraint stays an equality or a
box, and restarting the chain through ``link`` instead of an arrival-jump variable saves one
variable per interval; together about 9 % of the solve time of the whole home (docs/optimizer.md).
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
    # V2G may discharge the car in this session. False for a car whose energy is a guess (its SoC
    # unknown): dispatch never discharges such a car, so the plan must not count on it.
    discharge: bool = True


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
        for v in ("ev_ch", "ev_e", "ev_short"):
            s.var(v)
        terms = [
            Term("ev_e", s.ones()),
            Term("ev_e", s.full(-1.0), lag=1, dynamic=True),
            Term("ev_ch", s.full(-p.charge_efficiency * dt)),
            Term("ev_short", s.full(-1.0)),
        ]
        load = [Term("ev_ch", s.ones())]
        if p.v2g:
            s.var("ev_dis")
            terms.append(Term("ev_dis", s.full(dt / p.discharge_efficiency)))
            load.append(Term("ev_dis", s.full(-1.0)))
        s.row("ev:dyn", Sense.EQ, terms)
        return load

    def _inputs(self, inputs: PlanInputs) -> EvInputs:
        if inputs.ev is None:
            raise InputError("ev", "the model has an EV but the inputs give no EV sessions")
        for i, s in enumerate(inputs.ev.sessions):
            if s.target_kwh > self.p.capacity_kwh:
                raise InputError(f"ev.sessions[{i}].target_kwh", "exceeds the EV's capacity_kwh")
        return inputs.ev

    def layout(self, inputs: PlanInputs) -> dict[str, Vec]:
        """Per-interval session data: plugged mask, chain links, energy bounds, targets, rhs."""
        p, dt, t_n = self.p, self.dt_h, self.horizon
        inp = self._inputs(inputs)
        cap = max([p.capacity_kwh] + [s.arrival_kwh for s in inp.sessions])
        plugged = np.zeros(t_n)
        dischargeable = np.zeros(t_n)
        link = np.ones(t_n)
        rhs = np.zeros(t_n)
        e_lo, e_hi = np.zeros(t_n), np.full(t_n, cap)
        target = np.full(t_n, -np.inf)
        floor = p.v2g_floor_kwh if p.v2g else 0.0
        for s in inp.sessions:
            a, d = max(s.arrival, 0), min(s.departure, t_n)
            if a >= t_n:
                continue
            plugged[a:d] = 1.0
            dischargeable[a:d] = 1.0 if s.discharge else 0.0
            e_lo[a:d] = min(floor, s.arrival_kwh)
            e_hi[a:d] = max(p.capacity_kwh, s.arrival_kwh)
            if s.arrival >= 1:
                link[a - 1] = 0.0  # the chain restarts: e[a-1] = arrival energy
                rhs[a - 1] = s.arrival_kwh
            else:
                rhs[0] = s.arrival_kwh  # e[-1], the energy now
            late = max(s.departure - t_n, 0) * p.charge_max_kw * p.charge_efficiency * dt
            target[d - 1] = s.target_kwh - late if late == 0 or s.target_kwh - late > 0 else -np.inf
        return {
            "plugged": plugged,
            "dischargeable": dischargeable,
            "link": link,
            "rhs": rhs,
            "e_lo": e_lo,
            "e_hi": e_hi,
            "target": target,
        }

    def fill(self, n: Numbers, inputs: PlanInputs) -> None:
        p = self.p
        lay = self.layout(inputs)
        plugged = lay["plugged"]
        n.bounds("ev_ch", 0.0, plugged * p.charge_max_kw)
        if p.v2g:
            n.bounds("ev_dis", 0.0, lay["dischargeable"] * p.discharge_max_kw)
            n.cost("ev_dis", p.v2g_wear_per_kwh * self.dt_h)
        has_target = np.isfinite(lay["target"])
        target = np.where(has_target, lay["target"], -np.inf)
        n.bounds("ev_e", np.maximum(lay["e_lo"], target), lay["e_hi"])
        n.bounds("ev_short", 0.0, np.where(has_target, np.maximum(target - lay["e_lo"], 0.0), 0.0))
        n.dynamic("ev:dyn", "ev_e", -lay["link"])
        n.rhs("ev:dyn", lay["rhs"])
        n.cost("ev_short", penalties.EV_SHORTFALL_PER_KWH)

    def series(self, x: dict[str, Vec], inputs: PlanInputs) -> dict[str, Vec]:
        dis = x["ev_dis"] if self.p.v2g else np.zeros(self.horizon)
        return {
            "ev_kw": x["ev_ch"] - dis,
            "ev_charge_kw": x["ev_ch"],
            "ev_discharge_kw": dis,
            "ev_kwh": self.real_energy(x["ev_e"], x["ev_short"], self.layout(inputs)["link"]),
        }

    @staticmethod
    def real_energy(e: Vec, short: Vec, link: Vec) -> Vec:
        """``e`` minus the virtual top-ups booked since the chain last restarted."""
        out = np.empty_like(e)
        topped = 0.0
        for t in range(e.size):
            if link[t] == 0.0:
                topped = 0.0
            topped += short[t]
            out[t] = e[t] - topped
        return out

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
        if dis.min() < -tol_kw or np.any(dis > lay["dischargeable"] * p.discharge_max_kw + tol_kw):
            out.append("EV discharge outside [0, max], while unplugged or with its SoC unknown")
        if np.any(e < lay["e_lo"] - tol_kw * dt) or np.any(e > lay["e_hi"] + tol_kw * dt):
            out.append("EV energy outside its bounds")
        prev = np.concatenate([lay["rhs"][:1], e[:-1]]) * lay["link"] + lay["rhs"] * (1.0 - lay["link"])
        resid = (e - prev - p.charge_efficiency * dt * ch + dt / p.discharge_efficiency * dis) * plugged
        if np.abs(resid).max() > tol_kw * dt:
            out.append(f"EV energy does not follow its charging (off by {np.abs(resid).max():.2g} kWh)")
        return out
