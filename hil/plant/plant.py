"""The whole home: one step integrates every device and the meter.

``Plant.step(dt_s, inputs)`` holds the inputs (the agent's commands as the emulated devices turned
them into physical requests) for ``dt_s`` seconds of simulated time, integrates each device over
the step, and books the meter. With every device power constant inside a step the meter's net
power is exactly (``agent/units.py``)::

    grid_kw = base_kw + heat_pump_kw + water_heater_kw + battery_kw + ev_kw − pv_kw

and its counters integrate it: import += max(grid_kw·h, 0), export += max(−grid_kw·h, 0). Each
device also keeps its own energy total, so meter energy = Σ device energy holds after every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from hil.errors import HilError
from hil.plant.battery import Battery, BatteryStep
from hil.plant.ev import Ev, EvStep
from hil.plant.house import HeatPump, House, HouseStep
from hil.plant.pv import PvArray
from hil.plant.series import Series
from hil.plant.tank import DrawProfile, Tank, TankStep
from hil.plant.weather import DataClock, Weather

DEVICES = ("base", "heat_pump", "water_heater", "battery", "ev", "pv")


@dataclass(frozen=True)
class PlantInputs:
    heat_pump_kw: float = 0.0  # electric power asked of the heat pump
    element_on: bool = False  # water-heater relay
    battery_kw: float = 0.0  # +charge / −discharge setpoint
    # Self-consumption instead of the setpoint: the battery takes what the rest of the home leaves
    # at the meter (PV less the loads), held to (lo, hi) kW. A hybrid inverter's own loop settles
    # within a second or two, so inside a step it follows the step's own loads (not the last
    # step's: an element switched on would otherwise be served from the grid for a whole step).
    battery_window_kw: tuple[float, float] | None = None
    ev_limit_a: float = 0.0  # what the charger offers the car
    pv_limit_kw: float | None = None  # curtailment; None = none


@dataclass(frozen=True)
class PlantStep:
    start: datetime
    dt_s: float
    powers_kw: dict[str, float]  # per device, signed as in agent/units.py (pv as production >= 0)
    grid_kw: float
    outdoor_c: float
    ghi_w_per_m2: float
    pv_available_kw: float
    house: HouseStep | None
    tank: TankStep | None
    battery: BatteryStep | None
    ev: EvStep | None


@dataclass
class Meter:
    import_kwh: float
    export_kwh: float

    def book(self, grid_kw: float, dt_s: float) -> None:
        kwh = grid_kw * dt_s / 3600.0
        if kwh >= 0:
            self.import_kwh += kwh
        else:
            self.export_kwh -= kwh


@dataclass
class BaseLoad:
    """The household's other consumption, replayed from a recorded profile (kW per interval)."""

    series: Series
    clock: DataClock
    zone: tzinfo  # where the profile was recorded

    def kw(self, at: datetime) -> float:
        return max(0.0, self.series.step(self.clock.in_zone(at, self.zone)))


@dataclass
class Plant:
    now: datetime
    weather: Weather
    base_load: BaseLoad
    meter: Meter
    house: House | None = None
    heat_pump: HeatPump | None = None
    tank: Tank | None = None
    draws: DrawProfile | None = None
    battery: Battery | None = None
    ev: Ev | None = None
    pv: PvArray | None = None
    energy_kwh: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DEVICES, 0.0))
    last: PlantStep | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise HilError("plant time must be timezone-aware")
        if (self.house is None) != (self.heat_pump is None):
            raise HilError("a house needs its heat pump and a heat pump its house")
        if self.ev is not None:
            self.ev.update(self.now)

    def step(self, dt_s: float, inputs: PlantInputs) -> PlantStep:
        if dt_s <= 0:
            raise HilError(f"step must be > 0 s (got {dt_s})")
        start = self.now
        mid = start + timedelta(seconds=dt_s / 2.0)
        w = self.weather.at(mid)
        powers = dict.fromkeys(DEVICES, 0.0)
        powers["base"] = self.base_load.kw(mid)

        house_step = None
        if self.house is not None and self.heat_pump is not None:
            hp_kw = self.heat_pump.clip(inputs.heat_pump_kw)
            heat_kw = self.heat_pump.heat_kw(hp_kw, w.temp_air_c)
            house_step = self.house.step(heat_kw, self.house.gains_kw(w.ghi_w_per_m2), w.temp_air_c, dt_s)
            powers["heat_pump"] = hp_kw

        tank_step = None
        if self.tank is not None:
            el_kw = self.tank.element_power_kw(inputs.element_on)
            litres = self.draws.litres_between(start, start + timedelta(seconds=dt_s)) if self.draws else 0.0
            tank_step = self.tank.step(el_kw, litres, dt_s)
            powers["water_heater"] = el_kw

        ev_step = self.ev.step(inputs.ev_limit_a, dt_s) if self.ev is not None else None
        if ev_step is not None:
            powers["ev"] = ev_step.power_kw

        available = 0.0
        if self.pv is not None:
            available = self.pv.available_kw(w, self.weather.latitude_deg, self.weather.longitude_deg)
            powers["pv"] = self.pv.step(available, inputs.pv_limit_kw, dt_s)

        battery_step = None
        if self.battery is not None:
            requested_kw = inputs.battery_kw
            if inputs.battery_window_kw is not None:
                lo_kw, hi_kw = inputs.battery_window_kw
                rest_kw = sum(powers[d] for d in DEVICES if d not in ("pv", "battery")) - powers["pv"]
                requested_kw = min(max(-rest_kw, lo_kw), hi_kw)
            battery_step = self.battery.step(requested_kw, dt_s)
            powers["battery"] = battery_step.power_kw

        grid_kw = sum(powers[d] for d in DEVICES if d != "pv") - powers["pv"]
        self.meter.book(grid_kw, dt_s)
        h = dt_s / 3600.0
        for d in DEVICES:
            self.energy_kwh[d] += powers[d] * h
        self.now = start + timedelta(seconds=dt_s)
        if self.ev is not None:
            self.ev.update(self.now)
        self.last = PlantStep(
            start, dt_s, powers, grid_kw, w.temp_air_c, w.ghi_w_per_m2, available,
            house_step, tank_step, battery_step, ev_step,
        )  # fmt: skip
        return self.last

    def advance_to(self, until: datetime, inputs: PlantInputs, max_step_s: float = 10.0) -> list[PlantStep]:
        """Step in pieces of at most ``max_step_s`` until ``until`` (nothing if it is not later)."""
        steps: list[PlantStep] = []
        while (left_s := (until - self.now).total_seconds()) > 1e-6:
            steps.append(self.step(min(left_s, max_step_s), inputs))
        return steps

    def outdoor_c(self) -> float:
        return self.weather.at(self.now).temp_air_c
