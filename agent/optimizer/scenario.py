"""Scenario files (docs/scenario-format.md): YAML describing one home and one planning horizon.

``load_scenario(path)`` returns the static :class:`Devices`, the per-interval :class:`PlanInputs`
and the interval start times. Every problem raises :class:`ScenarioError` naming the key path.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml

from agent.errors import HemsError
from agent.market.intervals import Duration, parse_instant, zone
from agent.optimizer.battery import BatteryInputs, BatteryParams
from agent.optimizer.errors import InputError
from agent.optimizer.ev import EvInputs, EvParams, EvSession
from agent.optimizer.grid import GridInputs, GridParams
from agent.optimizer.heat_pump import HeatPumpInputs, HeatPumpParams
from agent.optimizer.model import Devices, PlanInputs
from agent.optimizer.scenario_series import ScenarioError, SeriesTable
from agent.optimizer.water_heater import WaterHeaterInputs, WaterHeaterParams

TOP_KEYS = {"name", "site", "start", "step", "horizon", "series", "grid", "base_load_kw", "pv_kw"} | {
    "battery", "ev", "heat_pump", "water_heater",
}  # fmt: skip
P = TypeVar("P")


@dataclass(frozen=True)
class Scenario:
    name: str
    devices: Devices
    inputs: PlanInputs
    starts: list[datetime]
    dt_h: float


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError("scenario", f"cannot read {path}: {e.strerror}") from e
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ScenarioError("scenario", f"{path} is not valid YAML: {e}") from e
    if not isinstance(doc, Mapping):
        raise ScenarioError("scenario", "the top level must be a mapping")
    try:
        return _build(doc, path.parent, path.stem)
    except InputError as e:
        raise ScenarioError(e.field, str(e).split(": ", 1)[-1]) from e
    except ScenarioError:
        raise
    except HemsError as e:
        raise ScenarioError(getattr(e, "field", "scenario"), str(e)) from e


def _build(doc: Mapping[str, Any], base_dir: Path, stem: str) -> Scenario:
    _known("", doc, TOP_KEYS)
    site = _map("site", doc.get("site", {}))
    tz = zone(str(site.get("tz", "UTC")))
    start_raw = _need(doc, "start")
    start = parse_instant(start_raw.isoformat() if isinstance(start_raw, datetime) else start_raw, "start")
    step = Duration.parse(_need(doc, "step"), "step")
    if step.is_calendar:
        raise ScenarioError("step", "must be PT1H or shorter")
    horizon = _need(doc, "horizon")
    if not isinstance(horizon, int) or isinstance(horizon, bool) or horizon < 1:
        raise ScenarioError("horizon", "must be a whole number of intervals >= 1")
    starts = [(start + k * step.nominal).astimezone(tz) for k in range(horizon)]
    dt_h = step.nominal / timedelta(hours=1)
    table = SeriesTable(_map("series", doc.get("series", {})), base_dir, starts)

    grid_doc = _map("grid", _need(doc, "grid"))
    _known("grid", grid_doc, {"import_limit_kw", "export_limit_kw", "buy", "sell", "position_kw"} | {
        "import_adder_per_kwh", "export_adder_per_kwh"})  # fmt: skip
    ladders = {}
    for side in ("buy", "sell"):
        steps = grid_doc.get(side, [])
        if not isinstance(steps, list):
            raise ScenarioError(f"grid.{side}", "must be a list of ladder steps")
        prices, caps = [], []
        for i, st in enumerate(steps):
            key = f"grid.{side}[{i}]"
            _known(key, _map(key, st), {"price_per_kwh", "max_kw"})
            prices.append(table.resolve(f"{key}.price_per_kwh", _need(st, "price_per_kwh", key)))
            caps.append(table.resolve(f"{key}.max_kw", _need(st, "max_kw", key)))
        ladders[side] = (
            np.stack(prices, axis=1) if prices else np.zeros((horizon, 0)),
            np.stack(caps, axis=1) if caps else np.zeros((horizon, 0)),
        )
    grid = GridParams(
        import_limit_kw=_need(grid_doc, "import_limit_kw", "grid"),
        export_limit_kw=_need(grid_doc, "export_limit_kw", "grid"),
        buy_steps=ladders["buy"][0].shape[1],
        sell_steps=ladders["sell"][0].shape[1],
    )

    def grid_series(name: str) -> np.ndarray:
        return table.resolve(f"grid.{name}", grid_doc.get(name, 0.0))

    grid_inputs = GridInputs(
        buy_price_per_kwh=ladders["buy"][0], buy_max_kw=ladders["buy"][1],
        sell_price_per_kwh=ladders["sell"][0], sell_max_kw=ladders["sell"][1],
        position_kw=grid_series("position_kw"),
        import_adder_per_kwh=grid_series("import_adder_per_kwh"),
        export_adder_per_kwh=grid_series("export_adder_per_kwh"),
    )  # fmt: skip

    battery = battery_in = ev = ev_in = hp = hp_in = wh = wh_in = None
    if "battery" in doc:
        b = _map("battery", doc["battery"])
        battery = _params(BatteryParams, "battery", b, {"energy_kwh", "terminal_value_per_kwh"})
        battery_in = BatteryInputs(
            _need(b, "energy_kwh", "battery"), float(b.get("terminal_value_per_kwh", 0.0))
        )
    if "ev" in doc:
        e = _map("ev", doc["ev"])
        ev = _params(EvParams, "ev", e, {"sessions"})
        ev_in = EvInputs(
            tuple(_session(i, s, start, step.nominal) for i, s in enumerate(e.get("sessions", [])))
        )
    if "heat_pump" in doc:
        h = _map("heat_pump", doc["heat_pump"])
        series_keys = {"outdoor_c", "band_lo_c", "band_hi_c", "target_c", "gain_kw"}
        hp = _params(HeatPumpParams, "heat_pump", h, {"indoor_c"} | series_keys)
        vals = {k: table.resolve(f"heat_pump.{k}", h[k]) for k in series_keys if k in h}
        for k in ("outdoor_c", "band_lo_c", "band_hi_c"):
            if k not in vals:
                raise ScenarioError(f"heat_pump.{k}", "missing")
        vals.setdefault("target_c", (vals["band_lo_c"] + vals["band_hi_c"]) / 2)
        vals.setdefault("gain_kw", np.zeros(horizon))
        hp_in = HeatPumpInputs(indoor_c=_need(h, "indoor_c", "heat_pump"), **vals)
    if "water_heater" in doc:
        w = _map("water_heater", doc["water_heater"])
        wh = _params(WaterHeaterParams, "water_heater", w, {"tank_c", "draw_l"})
        wh_in = WaterHeaterInputs(
            _need(w, "tank_c", "water_heater"), table.resolve("water_heater.draw_l", w.get("draw_l", 0.0))
        )
    pv_kw = table.resolve("pv_kw", doc.get("pv_kw", 0.0))
    devices = Devices(
        grid=grid, battery=battery, ev=ev, heat_pump=hp, water_heater=wh, pv=bool(np.any(pv_kw > 0))
    )
    inputs = PlanInputs(
        grid=grid_inputs,
        base_kw=table.resolve("base_load_kw", doc.get("base_load_kw", 0.0)),
        pv_kw=pv_kw,
        battery=battery_in, ev=ev_in, heat_pump=hp_in, water_heater=wh_in,
    )  # fmt: skip
    return Scenario(str(doc.get("name", stem)), devices, inputs, starts, dt_h)


def _session(i: int, s: Any, start: datetime, step: timedelta) -> EvSession:
    key = f"ev.sessions[{i}]"
    s = _map(key, s)
    _known(key, s, {"arrive", "depart", "arrival_kwh", "target_kwh"})

    def at(name: str) -> float:
        raw = _need(s, name, key)
        when = parse_instant(raw.isoformat() if isinstance(raw, datetime) else raw, f"{key}.{name}")
        return (when - start) / step

    # Plugged in for every interval that starts at or after the arrival and before the departure.
    return EvSession(
        arrival=math.ceil(at("arrive")),
        departure=math.ceil(at("depart")),
        arrival_kwh=float(_need(s, "arrival_kwh", key)),
        target_kwh=float(_need(s, "target_kwh", key)),
    )


def _params(cls: type[P], key: str, doc: Mapping[str, Any], extra: set[str]) -> P:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    _known(key, doc, names | extra)
    return cls(**{k: v for k, v in doc.items() if k in names})


def _known(key: str, doc: Mapping[str, Any], allowed: set[str]) -> None:
    for k in doc:
        if k not in allowed:
            where = f"{key}.{k}" if key else str(k)
            raise ScenarioError(where, f"unknown key; allowed: {', '.join(sorted(allowed))}")


def _map(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(key, "must be a mapping")
    return value


def _need(doc: Mapping[str, Any], name: str, key: str = "") -> Any:
    if name not in doc:
        raise ScenarioError(f"{key}.{name}" if key else name, "missing")
    return doc[name]
