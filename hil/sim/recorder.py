"""What the plant did, step by step: binned series for the report, violations, limit checks.

A :class:`Recorder` listens to every plant step (``rig.on_step`` in the closed loop, or the
baseline's own loop), so the agent's run and the baseline are measured by the same code. Steps
are summed into bins of ``bin_s`` (energies, and the state at the bin's end); comfort (on the
side the heat pump works against: :func:`comfort_limits_c`) and tank violations are integrated
per step; each step is checked against the devices' physical limits.

A recorder may start measuring after the plant starts (``measure_from``: a part of a run split
into parts, whose first days only warm the agent up): steps before it move the state the
integrals start from but count nowhere, and the stores at that instant are kept
(:attr:`Recorder.start_state`) so the parts can be joined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hil.plant import HomeParams, Plant, PlantInputs, PlantStep
from hil.plant.plant import DEVICES
from hil.sim.kpi import band_violation_c_h, energy_balance_error_kwh

# Numerical slack for the limit checks (the plant clips exactly; this only absorbs float noise).
LIMIT_EPS = 1e-6
# The tank's own safety thermostat cuts the element out at its cut-out temperature (the physical
# limit; above the configured tank_max_c is a tank violation, not a device limit); heat still in
# the element as it cuts out may carry the water a little past it.
TANK_OVERSHOOT_C = 1.0


def comfort_limits_c(params: HomeParams, at: datetime) -> tuple[float, float]:
    """The indoor temperatures (low, high) outside which the house is uncomfortable at ``at``:
    the band of the heat pump's mode in force by the home's rule, on the side the heat pump
    works against. A heating house warmer than its band (the sun's gains) or a cooling one
    cooler than its band (a cool night) is no discomfort: the householder set the heating
    setpoint as the least and the cooling setpoint as the most they want, and a heat pump can
    only move the house one way in each mode. Counting both sides made a summer of cool nights
    read as thousands of degree-hours of discomfort, the baseline's as much as the agent's."""
    mode = params.mode_at(at)
    target_c, band_c = params.comfort(mode)
    if mode == "cooling":
        return -math.inf, target_c + band_c
    return target_c - band_c, math.inf


@dataclass
class Bin:
    start: datetime
    energy_kwh: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DEVICES, 0.0))
    import_kwh: float = 0.0
    export_kwh: float = 0.0
    indoor_c: float = float("nan")
    tank_c: float = float("nan")
    battery_soc: float = float("nan")
    ev_soc: float = float("nan")
    ev_plugged: bool = False
    outdoor_c: float = float("nan")

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "energy_kwh": {k: round(v, 5) for k, v in self.energy_kwh.items()},
            "import_kwh": round(self.import_kwh, 5),
            "export_kwh": round(self.export_kwh, 5),
            "indoor_c": round(self.indoor_c, 3),
            "tank_c": round(self.tank_c, 3),
            "battery_soc": round(self.battery_soc, 4),
            "ev_soc": round(self.ev_soc, 4),
            "ev_plugged": self.ev_plugged,
            "outdoor_c": round(self.outdoor_c, 2),
        }


class Recorder:
    def __init__(
        self,
        plant: Plant,
        params: HomeParams,
        *,
        start: datetime,
        end: datetime,
        bin_s: float,
        measure_from: datetime | None = None,
    ) -> None:
        self.plant = plant
        self.params = params
        # Bins, integrals and checks begin here (the plant may have run since before).
        self.start = start if measure_from is None else measure_from
        self.end = end
        self.bin_s = bin_s
        self.bins: list[Bin] = []
        self.comfort_c_h = 0.0
        self.tank_c_h = 0.0
        self.limit_violations: list[str] = []
        self._indoor = plant.house.indoor_c if plant.house is not None else 0.0
        self._tank = plant.tank.tank_c if plant.tank is not None else 0.0
        self._meter0 = plant.meter.import_kwh - plant.meter.export_kwh
        self._energy0 = dict(plant.energy_kwh)
        self._meter_end: float | None = None
        self._energy_end: dict[str, float] | None = None
        self._measuring = measure_from is None or measure_from <= start
        self.start_state: dict[str, float] = self._state()

    def _state(self) -> dict[str, float]:
        """The stores now, keyed as a bin's JSON keys them (NaN: the home lacks the store)."""
        bat, ev, tank = self.plant.battery, self.plant.ev, self.plant.tank
        return {
            "battery_soc": bat.soc if bat is not None else float("nan"),
            "ev_soc": ev.soc if ev is not None else float("nan"),
            "tank_c": tank.tank_c if tank is not None else float("nan"),
        }

    def _warm_up(self, step: PlantStep) -> None:
        """A step before the measured window: the plant as it is after it is where the window's
        integrals and totals start, should the next step be the window's first."""
        if step.house is not None:
            self._indoor = step.house.indoor_c
        if step.tank is not None:
            self._tank = step.tank.tank_c
        self.start_state = self._state()
        self._meter0 = self.plant.meter.import_kwh - self.plant.meter.export_kwh
        self._energy0 = dict(self.plant.energy_kwh)

    def __call__(self, step: PlantStep, inputs: PlantInputs) -> None:
        if step.start >= self.end:
            self._close_totals()
            return
        if not self._measuring:
            if step.start < self.start:
                self._warm_up(step)
                return
            self._measuring = True
        p = self.params
        if step.house is not None:
            lo, hi = comfort_limits_c(p, step.start)
            self.comfort_c_h += band_violation_c_h(self._indoor, step.house.indoor_c, lo, hi, step.dt_s)
            self._indoor = step.house.indoor_c
        if step.tank is not None:
            self.tank_c_h += band_violation_c_h(
                self._tank, step.tank.tank_c, p.tank_min_c, p.tank_max_c, step.dt_s
            )
            self._tank = step.tank.tank_c
        self._check_limits(step)
        b = self._bin(step.start)
        h = step.dt_s / 3600.0
        for k, v in step.powers_kw.items():
            b.energy_kwh[k] += v * h
        kwh = step.grid_kw * h
        if kwh >= 0:
            b.import_kwh += kwh
        else:
            b.export_kwh -= kwh
        b.indoor_c = self._indoor
        b.tank_c = self._tank
        b.outdoor_c = step.outdoor_c
        if self.plant.battery is not None:
            b.battery_soc = self.plant.battery.soc
        if self.plant.ev is not None:
            b.ev_soc = self.plant.ev.soc
            b.ev_plugged = b.ev_plugged or self.plant.ev.plugged

    def _bin(self, at: datetime) -> Bin:
        idx = int((at - self.start).total_seconds() // self.bin_s)
        while len(self.bins) <= idx:
            self.bins.append(Bin(self.start + timedelta(seconds=len(self.bins) * self.bin_s)))
        return self.bins[idx]

    def _check_limits(self, step: PlantStep) -> None:
        p, pw = self.params, step.powers_kw
        problems = []
        if not -p.battery_discharge_kw - LIMIT_EPS <= pw["battery"] <= p.battery_charge_kw + LIMIT_EPS:
            problems.append(f"battery power {pw['battery']:.3f} kW")
        bat = self.plant.battery
        if bat is not None and not p.soc_min - 1e-4 <= bat.soc <= p.soc_max + 1e-4:
            problems.append(f"battery SoC {bat.soc:.4f}")
        if not 0.0 <= pw["ev"] <= p.ev_max_kw + LIMIT_EPS:
            problems.append(f"EV power {pw['ev']:.3f} kW")
        if not 0.0 <= pw["heat_pump"] <= p.heat_pump_max_kw + LIMIT_EPS:
            problems.append(f"heat pump power {pw['heat_pump']:.3f} kW")
        if not 0.0 <= pw["water_heater"] <= p.element_kw + LIMIT_EPS:
            problems.append(f"water heater power {pw['water_heater']:.3f} kW")
        tank = self.plant.tank
        if step.tank is not None and tank is not None and step.tank.tank_c > tank.cutout_c + TANK_OVERSHOOT_C:
            problems.append(f"tank at {step.tank.tank_c:.2f} °C")
        if not -LIMIT_EPS <= pw["pv"] <= step.pv_available_kw + LIMIT_EPS:
            problems.append(f"PV {pw['pv']:.3f} kW of {step.pv_available_kw:.3f} available")
        for problem in problems:
            if len(self.limit_violations) < 50:
                self.limit_violations.append(f"{step.start.isoformat()}: {problem}")

    def _close_totals(self) -> None:
        if self._meter_end is None:
            self._meter_end = self.plant.meter.import_kwh - self.plant.meter.export_kwh
            self._energy_end = dict(self.plant.energy_kwh)

    def finish(self) -> None:
        """Freeze the totals at the end of the period (or now, if the plant stopped short)."""
        self._close_totals()

    @property
    def energy_balance_error_kwh(self) -> float:
        self._close_totals()
        assert self._meter_end is not None
        assert self._energy_end is not None
        devices = {k: self._energy_end[k] - self._energy0[k] for k in self._energy_end}
        return energy_balance_error_kwh(self._meter_end - self._meter0, devices)

    def ev_shortfall_kwh(self) -> float:
        """Energy the car still needed when it left, over sessions that ended inside the period."""
        ev = self.plant.ev
        if ev is None:
            return 0.0
        return sum(
            r.shortfall_kwh
            for r in ev.records
            if self.start < r.session.departure <= min(self.end, self.plant.now)
        )

    def net_kwh_by_bin(self) -> list[float]:
        return [b.import_kwh - b.export_kwh for b in self.bins]
