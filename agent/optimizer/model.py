"""The whole home as one QP: device terms declared once, numbers filled per re-plan.

:class:`Devices` is the static part (what is installed and its ratings, whether the contract has
a demand charge) and fixes the structure; :class:`PlanInputs` is what changes between re-plans
(prices, forecasts, states, the demand charge's periods and the month's peak so far).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from agent.optimizer import validate
from agent.optimizer.battery import BatteryInputs, BatteryParams, BatteryTerm
from agent.optimizer.demand import DemandInputs, DemandTerm
from agent.optimizer.errors import InputError
from agent.optimizer.ev import EvInputs, EvParams, EvTerm
from agent.optimizer.grid import GridInputs, GridParams, GridTerm
from agent.optimizer.heat_pump import HeatPumpInputs, HeatPumpParams, HeatPumpTerm
from agent.optimizer.pv import PvTerm
from agent.optimizer.structure import Numbers, Structure, Term, Vec
from agent.optimizer.water_heater import WaterHeaterInputs, WaterHeaterParams, WaterHeaterTerm

Probe = tuple[int, float]


@dataclass(frozen=True)
class Devices:
    grid: GridParams
    battery: BatteryParams | None = None
    ev: EvParams | None = None
    heat_pump: HeatPumpParams | None = None
    water_heater: WaterHeaterParams | None = None
    pv: bool = True
    pv_curtailable: bool = True
    # The contract bills the month's peak import (agent/optimizer/demand.py). Only then are the
    # peak's variables and rows declared: a home without a demand charge keeps its problem as it was.
    demand_charge: bool = False


@dataclass(frozen=True)
class PlanInputs:
    grid: GridInputs
    base_kw: Vec
    pv_kw: Vec
    battery: BatteryInputs | None = None
    ev: EvInputs | None = None
    heat_pump: HeatPumpInputs | None = None
    water_heater: WaterHeaterInputs | None = None
    demand: DemandInputs | None = None

    def __post_init__(self) -> None:
        validate.freeze_vectors(self, "inputs", ("base_kw", "pv_kw"))
        if np.any(self.base_kw < 0):
            raise InputError("inputs.base_kw", "base load must be >= 0 kW")
        if np.any(self.pv_kw < 0):
            raise InputError("inputs.pv_kw", "PV forecast must be >= 0 kW")


class DeviceTerm(Protocol):
    name: str
    load_key: str

    def declare(self, s: Structure) -> list[Term]: ...
    def fill(self, n: Numbers, inputs: PlanInputs) -> None: ...
    def series(self, x: dict[str, Vec], inputs: PlanInputs) -> dict[str, Vec]: ...
    def costs(self, ser: dict[str, Vec], inputs: PlanInputs) -> dict[str, float]: ...
    def check(self, ser: dict[str, Vec], inputs: PlanInputs, tol_kw: float) -> list[str]: ...


class Model:
    def __init__(self, devices: Devices, horizon: int, dt_h: float) -> None:
        if horizon < 1:
            raise InputError("horizon", "must be at least one interval")
        validate.positive("dt_h", dt_h)
        self.devices = devices
        self.horizon = horizon
        self.dt_h = dt_h
        self.terms: list[DeviceTerm] = []
        if devices.pv:
            self.terms.append(PvTerm(horizon, dt_h, devices.pv_curtailable))
        if devices.battery is not None:
            self.terms.append(BatteryTerm(devices.battery, horizon, dt_h))
        if devices.ev is not None:
            self.terms.append(EvTerm(devices.ev, horizon, dt_h))
        if devices.heat_pump is not None:
            self.terms.append(HeatPumpTerm(devices.heat_pump, horizon, dt_h))
        if devices.water_heater is not None:
            self.terms.append(WaterHeaterTerm(devices.water_heater, horizon, dt_h))
        self.grid = GridTerm(devices.grid, horizon, dt_h)
        self.structure = Structure(horizon)
        loads: list[Term] = []
        for term in self.terms:
            loads += term.declare(self.structure)
        self.grid.declare(self.structure, loads)
        self.demand = DemandTerm(horizon, dt_h) if devices.demand_charge else None
        if self.demand is not None:
            self.demand.declare(self.structure)

    def numbers(self, inputs: PlanInputs, probe: Probe | None = None) -> Numbers:
        validate.length("inputs.base_kw", inputs.base_kw, self.horizon)
        validate.length("inputs.pv_kw", inputs.pv_kw, self.horizon)
        n = Numbers.blank(self.structure)
        for term in self.terms:
            term.fill(n, inputs)
        if not self.devices.pv and np.any(inputs.pv_kw > 0):
            raise InputError("inputs.pv_kw", "the model has no PV; give zeros")
        self.grid.fill(n, inputs, probe)
        if self.demand is not None:
            self.demand.fill(n, inputs)
        elif inputs.demand is not None:
            raise InputError("inputs.demand", "the model has no demand charge (Devices.demand_charge)")
        return n

    def blocks(self, x: Vec) -> dict[str, Vec]:
        s = self.structure
        return {v: x[s.vslice(v)] for v in s.var_names}

    def series(self, x: Vec, inputs: PlanInputs) -> dict[str, Vec]:
        blocks = self.blocks(x)
        out: dict[str, Vec] = {"base_kw": np.asarray(inputs.base_kw), "pv_kw": np.asarray(inputs.pv_kw)}
        for term in self.terms:
            out.update(term.series(blocks, inputs))
        out.update(self.grid.series(blocks))
        if self.demand is not None:
            out.update(self.demand.series(out["grid_kw"], inputs))
        return out

    def net_load_kw(self, ser: dict[str, Vec]) -> Vec:
        """base - pv + sum of device loads (+import), recomputed from the plan's own series."""
        total = ser["base_kw"] - ser["pv_kw"]
        for term in self.terms:
            total = total + ser[term.load_key]
        return total

    def costs(self, ser: dict[str, Vec], inputs: PlanInputs, probe: Probe | None = None) -> dict[str, float]:
        out: dict[str, float] = {}
        for term in self.terms:
            out.update(term.costs(ser, inputs))
        out.update(self.grid.costs(ser, inputs, probe))
        if self.demand is not None:
            out.update(self.demand.costs(ser, inputs))
        return out

    def check(self, ser: dict[str, Vec], inputs: PlanInputs, tol_kw: float) -> list[str]:
        problems: list[str] = []
        for name, values in ser.items():
            if not np.all(np.isfinite(values)):
                problems.append(f"{name} is not finite")
        if problems:
            return problems
        for term in self.terms:
            problems += term.check(ser, inputs, tol_kw)
        problems += self.grid.check(ser, inputs, tol_kw, self.net_load_kw(ser))
        return problems
