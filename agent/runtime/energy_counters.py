"""Energy counters (kWh) for the devices that report only power: what Home Assistant's energy
dashboard takes for PV, battery in/out, EV and the heat pump and water heater.

Each cycle's snapshot adds the trapezoid of the power between it and the previous snapshot
(agent clock). A gap longer than :data:`MAX_GAP_S` (the agent was stopped, or a device went
quiet) or a missing value adds nothing for that step, rather than a guess. Powers follow
``agent/units.py`` and are split by direction, so every counter only rises.

The counters are kept in ``<state_dir>/energy.json`` every :data:`SAVE_EVERY_S` and on stop;
:attr:`EnergyCounters.saved` is what was last written, and that is what is published: a crash
loses at most the energy since the last save and a published value never goes down, across
restarts too. A file that cannot be read is reported, moved aside as ``energy.json.bad``, and
the counters start again from zero (Home Assistant books that as a meter reset).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.config import Config
from agent.config.devices import WaterHeater
from agent.dispatch import Snapshot
from agent.runtime.state_file import StateFileError, read_json, write_json

log = logging.getLogger(__name__)

FILE_NAME = "energy.json"
FORMAT = 1
# Longer than any cycle or poll period; a longer gap is an outage, not a step to integrate over.
MAX_GAP_S = 300.0
# An SD card wears with every write: once a minute bounds both the wear and what a crash loses.
SAVE_EVERY_S = 60.0
# A file write on a Pi's SD card takes milliseconds; seconds mean the card is failing.
SAVE_TIMEOUT_S = 10.0

COUNTERS = (
    "pv_energy_kwh",
    "battery_charge_kwh",
    "battery_discharge_kwh",
    "ev_charge_kwh",
    "ev_discharge_kwh",
    "heat_pump_energy_kwh",
    "water_heater_energy_kwh",
)


def _value(snapshot: Snapshot, device: str, quantity: str) -> float | None:
    sample = snapshot.samples.get(device, {}).get(quantity)
    value = None if sample is None else sample.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _split(kw: float | None, plus: str, minus: str) -> dict[str, float | None]:
    if kw is None:
        return {plus: None, minus: None}
    return {plus: max(0.0, kw), minus: max(0.0, -kw)}


def powers_kw(
    snapshot: Snapshot, config: Config, roles: Mapping[str, str], heat_pump_kw: float | None
) -> dict[str, float | None]:
    """Each counter's power now (kW, >= 0), ``None`` where there is no fresh value.

    ``heat_pump_kw``: heat pumps seldom report their electric power; the plan's setpoint is
    what the agent knows it draws.
    """
    out: dict[str, float | None] = {}
    pv = [_value(snapshot, n, "pv.power_w") for n, d in config.devices.items() if d.role == "pv_inverter"]
    if pv:
        known = [w for w in pv if w is not None]
        out["pv_energy_kwh"] = max(0.0, sum(known) / 1000.0) if len(known) == len(pv) else None
    if "battery" in roles:
        w = _value(snapshot, roles["battery"], "battery.power_w")
        out |= _split(None if w is None else w / 1000.0, "battery_charge_kwh", "battery_discharge_kwh")
    if "ev" in roles:
        w = _value(snapshot, roles["ev"], "ev.power_w")
        out |= _split(None if w is None else w / 1000.0, "ev_charge_kwh", "ev_discharge_kwh")
    if "heat_pump" in roles:
        out["heat_pump_energy_kwh"] = None if heat_pump_kw is None else max(0.0, heat_pump_kw)
    if "water_heater" in roles:
        out["water_heater_energy_kwh"] = _element_kw(snapshot, config, roles["water_heater"])
    return out


def _element_kw(snapshot: Snapshot, config: Config, name: str) -> float | None:
    measured = _value(snapshot, name, "water_heater.element_power_w")
    if measured is not None:
        return max(0.0, measured / 1000.0)
    sample = snapshot.samples.get(name, {}).get("water_heater.element_on")
    device = config.devices[name]
    if sample is None or not isinstance(sample.value, bool) or not isinstance(device, WaterHeater):
        return None
    return device.element_kw if sample.value else 0.0  # a relay-switched element draws its rating


def decode(doc: dict[str, Any], path: Path) -> dict[str, float]:
    if doc.get("format") != FORMAT:
        raise StateFileError(path, f"format: must be {FORMAT} (got {doc.get('format')!r:.40})")
    counters = doc.get("counters")
    if not isinstance(counters, dict):
        raise StateFileError(path, "counters: must be a JSON object")
    out = dict.fromkeys(COUNTERS, 0.0)
    for key, value in counters.items():
        if key not in out:
            raise StateFileError(path, f"counters.{str(key)[:40]}: not a counter hems keeps")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise StateFileError(path, f"counters.{key}: must be a number >= 0 (got {value!r:.40})")
        out[key] = float(value)
    return out


class EnergyCounters:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME
        self.problem: str | None = None
        self.live: dict[str, float] = dict.fromkeys(COUNTERS, 0.0)
        self.saved: dict[str, float] = dict(self.live)
        self._last: tuple[float, dict[str, float | None]] | None = None
        self._saved_at_s: float | None = None

    def load(self) -> None:
        try:
            doc = read_json(self.path)
            if doc is not None:
                self.live = decode(doc, self.path)
        except StateFileError as e:
            self.problem = str(e)
            log.error("energy counters start again from zero: %s", e)
            with contextlib.suppress(OSError):
                os.replace(self.path, self.path.with_name(FILE_NAME + ".bad"))
        self.saved = dict(self.live)

    def add(self, mono_s: float, powers: Mapping[str, float | None]) -> None:
        """Integrate from the previous call's powers to these, over the agent clock's seconds."""
        now = dict(powers)
        if self._last is not None:
            then_s, before = self._last
            dt_s = mono_s - then_s
            if 0.0 < dt_s <= MAX_GAP_S:
                for key, kw in now.items():
                    prev = before.get(key)
                    if kw is not None and prev is not None and key in self.live:
                        self.live[key] += (prev + kw) / 2.0 * dt_s / 3600.0
        self._last = (mono_s, now)

    def save_due(self, mono_s: float) -> bool:
        return self._saved_at_s is None or mono_s - self._saved_at_s >= SAVE_EVERY_S

    async def save(self, mono_s: float) -> None:
        snapshot = dict(self.live)
        doc = {"format": FORMAT, "counters": snapshot}
        self._saved_at_s = mono_s
        try:
            await asyncio.wait_for(asyncio.to_thread(write_json, self.path, doc), SAVE_TIMEOUT_S)
        except (OSError, TimeoutError) as e:
            # Not published either: what HA sees must be what a restart will start from.
            self.problem = f"{FILE_NAME}: cannot be written ({e})"
            log.warning("energy counters not saved: %s", self.problem)
            return
        self.problem = None
        self.saved = snapshot
