"""The home's devices as a scenario names them: the planner's parameters, the starting state and
the physical details the rig's plant needs. One description serves ``hems plan`` and ``hems
simulate``; each device is optional."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any, TypeVar

from agent.optimizer.battery import BatteryParams
from agent.optimizer.errors import InputError
from agent.optimizer.ev import EvParams
from agent.optimizer.heat_pump import HeatPumpParams
from agent.optimizer.water_heater import WaterHeaterParams
from agent.scenario.errors import ScenarioError
from agent.scenario.keys import clock_time, instant, join, known, mapping, need, number
from agent.scenario.table import FIRST_DATA_ROW, read_table
from agent.season import HEATING_ALL_YEAR, MODE_SETTINGS, Mode, ModeRule, SeasonError, cooling_season

P = TypeVar("P")


@dataclass(frozen=True)
class Battery:
    params: BatteryParams
    energy_kwh: float  # stored at the start
    terminal_value_per_kwh: float = 0.0


@dataclass(frozen=True)
class EvTrip:
    """One plug-in: the car arrives with ``arrival_kwh`` and wants ``target_kwh`` by departure."""

    arrive: datetime
    depart: datetime
    arrival_kwh: float
    target_kwh: float


@dataclass(frozen=True)
class DailyEv:
    """A commuter's day: home at ``arrive``, gone at ``depart`` (the next morning if earlier)."""

    arrive: time
    depart: time
    arrival_kwh: float
    target_kwh: float


@dataclass(frozen=True)
class Ev:
    params: EvParams
    trips: tuple[EvTrip, ...] = ()
    daily: DailyEv | None = None
    phases: int = 1
    voltage_v: float = 230.0


@dataclass(frozen=True)
class HeatPump:
    params: HeatPumpParams
    indoor_c: float  # at the start
    target_c: float
    band_c: float  # the comfort band is target ± band_c
    internal_gain_kw: float = 0.3
    solar_aperture_m2: float = 2.0  # effective window area for global irradiance
    # heating or cooling all year, or auto by a cooling season (agent/season.py); the band while
    # cooling is cooling_target_c ± cooling_band_c (target_c ± band_c where not given)
    rule: ModeRule = HEATING_ALL_YEAR
    cooling_target_c: float | None = None
    cooling_band_c: float | None = None

    def comfort(self, mode: Mode) -> tuple[float, float]:
        """(target, half-width of the band), °C, while working in ``mode``."""
        if mode == "cooling" and self.cooling_target_c is not None:
            band = self.band_c if self.cooling_band_c is None else self.cooling_band_c
            return self.cooling_target_c, band
        return self.target_c, self.band_c


@dataclass(frozen=True)
class Draw:
    at: time
    litres: float  # at the delivery (mixing valve) temperature
    minutes: float


@dataclass(frozen=True)
class WaterHeater:
    params: WaterHeaterParams
    tank_c: float  # at the start
    target_c: float
    daily_draws: tuple[Draw, ...] = ()


@dataclass(frozen=True)
class Pv:
    peak_kw: float
    tilt_deg: float = 30.0
    azimuth_deg: float = 180.0
    curtailable: bool = True


@dataclass(frozen=True)
class Devices:
    battery: Battery | None = None
    ev: Ev | None = None
    heat_pump: HeatPump | None = None
    water_heater: WaterHeater | None = None
    pv: Pv | None = None


KEYS = {"battery", "ev", "heat_pump", "water_heater", "pv"}


def parse_devices(doc: Mapping[str, Any], base_dir: Path) -> Devices:
    known("devices", doc, KEYS)
    try:
        return Devices(
            battery=_battery(mapping("devices.battery", doc["battery"])) if "battery" in doc else None,
            ev=_ev(mapping("devices.ev", doc["ev"]), base_dir) if "ev" in doc else None,
            heat_pump=_heat_pump(mapping("devices.heat_pump", doc["heat_pump"]))
            if "heat_pump" in doc
            else None,
            water_heater=(
                _water_heater(mapping("devices.water_heater", doc["water_heater"]))
                if "water_heater" in doc
                else None
            ),
            pv=_pv(mapping("devices.pv", doc["pv"])) if "pv" in doc else None,
        )
    except InputError as e:
        raise ScenarioError(f"devices.{e.field}", e.message) from e


def _params(cls: type[P], key: str, doc: Mapping[str, Any], extra: set[str]) -> P:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    known(key, doc, names | extra)
    values = {k: v for k, v in doc.items() if k in names}
    for k, v in values.items():
        if k != "mode":
            number(join(key, k), v)
    return cls(**values)


def _battery(doc: Mapping[str, Any]) -> Battery:
    key = "devices.battery"
    params = _params(BatteryParams, key, doc, {"energy_kwh", "terminal_value_per_kwh"})
    return Battery(
        params,
        number(f"{key}.energy_kwh", need(doc, "energy_kwh", key), lo=0.0),
        number(f"{key}.terminal_value_per_kwh", doc.get("terminal_value_per_kwh", 0.0)),
    )


def _ev(doc: Mapping[str, Any], base_dir: Path) -> Ev:
    key = "devices.ev"
    params = _params(EvParams, key, doc, {"trips", "daily", "phases", "voltage_v"})
    phases = doc.get("phases", 1)
    if phases not in (1, 3):
        raise ScenarioError(f"{key}.phases", f"must be 1 or 3, got {phases!r}")
    trips: tuple[EvTrip, ...] = ()
    if "trips" in doc:
        raw = doc["trips"]
        if isinstance(raw, Mapping):
            known(f"{key}.trips", raw, {"csv"})
            trips = _trips_csv(f"{key}.trips.csv", base_dir / str(need(raw, "csv", f"{key}.trips")))
        elif isinstance(raw, list):
            trips = tuple(
                _trip(f"{key}.trips[{i}]", mapping(f"{key}.trips[{i}]", t)) for i, t in enumerate(raw)
            )
        else:
            raise ScenarioError(f"{key}.trips", "must be a list of trips or {csv: FILE}")
    daily = None
    if "daily" in doc:
        d = mapping(f"{key}.daily", doc["daily"])
        k = f"{key}.daily"
        known(k, d, {"arrive", "depart", "arrival_kwh", "target_kwh"})
        daily = DailyEv(
            clock_time(f"{k}.arrive", need(d, "arrive", k)),
            clock_time(f"{k}.depart", need(d, "depart", k)),
            number(f"{k}.arrival_kwh", need(d, "arrival_kwh", k), lo=0.0, hi=params.capacity_kwh),
            number(f"{k}.target_kwh", need(d, "target_kwh", k), lo=0.0, hi=params.capacity_kwh),
        )
    if trips and daily is not None:
        raise ScenarioError(f"{key}.daily", "give either trips or daily, not both")
    for a, b in itertools.pairwise(trips):
        if b.arrive < a.depart:
            raise ScenarioError(
                f"{key}.trips", f"the trip arriving {b.arrive.isoformat()} overlaps the one before"
            )
    voltage = number(f"{key}.voltage_v", doc.get("voltage_v", 230.0), lo=100.0, hi=500.0)
    return Ev(params, trips, daily, int(phases), voltage)


def _trip(key: str, d: Mapping[str, Any]) -> EvTrip:
    known(key, d, {"arrive", "depart", "arrival_kwh", "target_kwh", "energy_kwh"})
    arrive = instant(f"{key}.arrive", need(d, "arrive", key))
    depart = instant(f"{key}.depart", need(d, "depart", key))
    if depart <= arrive:
        raise ScenarioError(f"{key}.depart", "must be after arrive")
    arrival = number(f"{key}.arrival_kwh", need(d, "arrival_kwh", key), lo=0.0)
    if ("target_kwh" in d) == ("energy_kwh" in d):
        raise ScenarioError(key, "give target_kwh (wanted at departure) or energy_kwh (to add), one of them")
    if "target_kwh" in d:
        target = number(f"{key}.target_kwh", d["target_kwh"], lo=0.0)
    else:
        target = arrival + number(f"{key}.energy_kwh", d["energy_kwh"], lo=0.0)
    return EvTrip(arrive, depart, arrival, target)


def _trips_csv(key: str, path: Path) -> tuple[EvTrip, ...]:
    """Columns ``time`` (arrival), ``depart``, ``arrival_kwh`` and ``target_kwh`` or ``energy_kwh``."""
    table = read_table(path, key)
    departs = _column_raw(table.header, table.cells, "depart", key, path)
    arrival = table.column("arrival_kwh", key)
    goal_col = "target_kwh" if "target_kwh" in table.header else "energy_kwh"
    goal = table.column(goal_col, key)
    out = []
    for n, (t, dep, a, g) in enumerate(zip(table.times_s, departs, arrival, goal, strict=True)):
        row = n + FIRST_DATA_ROW
        for name, v in (("arrival_kwh", a), (goal_col, g)):
            if v is None:
                raise ScenarioError(key, "empty", file=path, row=row, column=name)
        try:
            depart = instant(key, dep)
        except ScenarioError as e:
            raise ScenarioError(key, e.message, file=path, row=row, column="depart") from e
        arrive = datetime.fromtimestamp(t, depart.tzinfo)
        if depart <= arrive:
            raise ScenarioError(key, "departure before arrival", file=path, row=row, column="depart")
        if a is not None and g is not None:
            out.append(EvTrip(arrive, depart, a, g if goal_col == "target_kwh" else a + g))
    return tuple(out)


def _column_raw(
    header: tuple[str, ...], cells: tuple[tuple[str, ...], ...], name: str, key: str, path: Path
) -> list[str]:
    if name not in header:
        raise ScenarioError(key, f"no column {name!r}", file=path, row=1, column=name)
    i = header.index(name) - 1
    return [row[i].strip() for row in cells]


def _heat_pump(doc: Mapping[str, Any]) -> HeatPump:
    key = "devices.heat_pump"
    extra = {"indoor_c", "target_c", "band_c", "internal_gain_kw", "solar_aperture_m2"}
    extra |= {"cooling_season", "cooling_target_c", "cooling_band_c"}
    rule = _mode_rule(key, doc)
    # the planner's parameters take the fixed mode; auto plans carry the mode in their inputs
    fixed = {**doc, "mode": "cooling" if rule.setting == "cooling" else "heating"}
    params = _params(HeatPumpParams, key, fixed, extra)
    target_c = number(f"{key}.target_c", need(doc, "target_c", key), lo=5.0, hi=35.0)
    cooling_c = None
    if "cooling_target_c" in doc:
        cooling_c = number(f"{key}.cooling_target_c", doc["cooling_target_c"], lo=5.0, hi=35.0)
    if rule.setting == "auto":
        if cooling_c is None:
            raise ScenarioError(f"{key}.cooling_target_c", "is required when mode is auto, e.g. 24.5")
        if cooling_c < target_c:
            raise ScenarioError(
                f"{key}.cooling_target_c", f"must be >= target_c {target_c:g} (got {cooling_c:g})"
            )
    elif rule.setting == "heating" and ({"cooling_target_c", "cooling_band_c"} & set(doc)):
        raise ScenarioError(f"{key}.cooling_target_c", "is only used with mode cooling or auto")
    cooling_band = None
    if "cooling_band_c" in doc:
        cooling_band = number(f"{key}.cooling_band_c", doc["cooling_band_c"], lo=0.0, hi=10.0)
    return HeatPump(
        params,
        indoor_c=number(f"{key}.indoor_c", need(doc, "indoor_c", key), lo=-30.0, hi=50.0),
        target_c=target_c,
        band_c=number(f"{key}.band_c", doc.get("band_c", 1.0), lo=0.0, hi=10.0),
        internal_gain_kw=number(f"{key}.internal_gain_kw", doc.get("internal_gain_kw", 0.3), lo=0.0),
        solar_aperture_m2=number(f"{key}.solar_aperture_m2", doc.get("solar_aperture_m2", 2.0), lo=0.0),
        rule=rule,
        cooling_target_c=cooling_c,
        cooling_band_c=cooling_band,
    )


def _mode_rule(key: str, doc: Mapping[str, Any]) -> ModeRule:
    setting = doc.get("mode", "heating")
    if setting not in MODE_SETTINGS:
        raise ScenarioError(f"{key}.mode", f"must be one of {', '.join(MODE_SETTINGS)} (got {setting!r})")
    try:
        season = None
        if "cooling_season" in doc:
            raw = doc["cooling_season"]
            season = cooling_season("cooling_season", dict(raw) if isinstance(raw, Mapping) else raw)
        return ModeRule(setting, season)
    except SeasonError as e:
        raise ScenarioError(f"{key}.{e.field}", e.message) from e


def _water_heater(doc: Mapping[str, Any]) -> WaterHeater:
    key = "devices.water_heater"
    params = _params(WaterHeaterParams, key, doc, {"tank_c", "target_c", "daily_draws"})
    draws = []
    raw = doc.get("daily_draws", [])
    if not isinstance(raw, list):
        raise ScenarioError(f"{key}.daily_draws", "must be a list of {at, litres, minutes}")
    for i, d in enumerate(raw):
        k = f"{key}.daily_draws[{i}]"
        m = mapping(k, d)
        known(k, m, {"at", "litres", "minutes"})
        draws.append(
            Draw(
                clock_time(f"{k}.at", need(m, "at", k)),
                number(f"{k}.litres", need(m, "litres", k), lo=0.0),
                number(f"{k}.minutes", m.get("minutes", 10), lo=0.1, hi=1440.0),
            )
        )
    tank_c = number(f"{key}.tank_c", need(doc, "tank_c", key), lo=0.0, hi=100.0)
    target = number(
        f"{key}.target_c", doc.get("target_c", (params.min_c + params.max_c) / 2), lo=0.0, hi=100.0
    )
    return WaterHeater(params, tank_c, target, tuple(draws))


def _pv(doc: Mapping[str, Any]) -> Pv:
    key = "devices.pv"
    known(key, doc, {"peak_kw", "tilt_deg", "azimuth_deg", "curtailable"})
    curtailable = doc.get("curtailable", True)
    if not isinstance(curtailable, bool):
        raise ScenarioError(f"{key}.curtailable", "must be true or false")
    return Pv(
        number(f"{key}.peak_kw", need(doc, "peak_kw", key), lo=0.0),
        number(f"{key}.tilt_deg", doc.get("tilt_deg", 30.0), lo=0.0, hi=90.0),
        number(f"{key}.azimuth_deg", doc.get("azimuth_deg", 180.0), lo=0.0, hi=360.0),
        curtailable,
    )
