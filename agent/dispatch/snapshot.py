"""The cycle's frozen image of every reading dispatch (and the rest of the cycle) decides on.

Taken once per cycle from the drivers' getters, so every phase sees the same values. A value
that could not be had is kept as its reason, and asking for it raises
:class:`~agent.dispatch.errors.StaleTelemetry`: a stale value is an error, never a number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.clock import Clock
from agent.dispatch.errors import StaleTelemetry
from drivers.base import Capabilities, Device, MeteredElement, ModeSwitching, Reading, VehicleSoc
from drivers.errors import DriverError

Value = float | bool | str


@dataclass(frozen=True, slots=True)
class Sample:
    value: Value
    unit: str
    age_s: float
    source: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Samples by device and ``capability.quantity`` (``battery.soc_pct``, ``meter.power_w``)."""

    taken_at: datetime
    mono_s: float
    samples: Mapping[str, Mapping[str, Sample]] = field(default_factory=dict)
    problems: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def get(self, device: str, quantity: str) -> Sample:
        sample = self.samples.get(device, {}).get(quantity)
        if sample is None:
            reason = self.problems.get(device, {}).get(quantity, "not in the snapshot")
            raise StaleTelemetry(device, quantity, reason)
        return sample

    def number(self, device: str, quantity: str) -> float:
        value = self.get(device, quantity).value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StaleTelemetry(device, quantity, f"not a number ({value!r})")
        return float(value)

    def flag(self, device: str, quantity: str) -> bool:
        value = self.get(device, quantity).value
        if not isinstance(value, bool):
            raise StaleTelemetry(device, quantity, f"not a yes/no value ({value!r})")
        return value

    def fresh(self, device: str, quantity: str) -> bool:
        return quantity in self.samples.get(device, {})

    def to_json(self) -> dict[str, Any]:
        return {
            "taken_at": self.taken_at.isoformat(),
            "samples": {
                d: {q: {"value": s.value, "unit": s.unit, "age_s": round(s.age_s, 3)} for q, s in qs.items()}
                for d, qs in self.samples.items()
            },
            "problems": {d: dict(p) for d, p in self.problems.items()},
        }


Getter = Callable[[], Reading[Any]]


def _getters(caps: Capabilities) -> dict[str, Getter]:
    g: dict[str, Getter] = {}
    if caps.energy_meter is not None:
        m = caps.energy_meter
        g |= {"meter.power_w": m.power_w, "meter.import_kwh": m.import_kwh, "meter.export_kwh": m.export_kwh}
    if caps.pv_inverter is not None:
        g["pv.power_w"] = caps.pv_inverter.power_w
    if caps.battery is not None:
        g |= {"battery.soc_pct": caps.battery.soc_pct, "battery.power_w": caps.battery.power_w}
    if caps.ev_charger is not None:
        ev = caps.ev_charger
        g |= {
            "ev.plugged": ev.plugged,
            "ev.charging": ev.charging,
            "ev.power_w": ev.power_w,
            "ev.current_limit_a": ev.current_limit_a,
            "ev.session_kwh": ev.session_kwh,
        }
        if isinstance(ev, VehicleSoc):
            g["ev.vehicle_soc_pct"] = ev.vehicle_soc_pct
    if caps.thermostat is not None:
        g |= {
            "thermostat.indoor_c": caps.thermostat.indoor_c,
            "thermostat.setpoint_c": caps.thermostat.setpoint_c,
        }
        if isinstance(caps.thermostat, ModeSwitching):
            g["thermostat.mode"] = caps.thermostat.mode
    if caps.water_heater is not None:
        wh = caps.water_heater
        g |= {"water_heater.tank_c": wh.tank_c, "water_heater.element_on": wh.element_on}
        # Any element that measures its power, adjustable or only switched: the base-load
        # observation subtracts it (left out, the element counted as uncontrolled base load).
        if isinstance(wh, MeteredElement):
            g["water_heater.element_power_w"] = wh.element_power_w
    if caps.switch is not None:
        g["switch.on"] = caps.switch.is_on
    return g


def capture(devices: Mapping[str, Device], clock: Clock, *, max_age_s: float | None = None) -> Snapshot:
    """Read every capability getter once; ``max_age_s`` tightens the drivers' own limits."""
    samples: dict[str, dict[str, Sample]] = {}
    problems: dict[str, dict[str, str]] = {}
    for name, device in devices.items():
        got: dict[str, Sample] = {}
        bad: dict[str, str] = {}
        for quantity, getter in _getters(device.capabilities).items():
            try:
                reading = getter()
            except DriverError as e:
                bad[quantity] = str(e)
                continue
            age_s = reading.age_s(clock)
            if max_age_s is not None and age_s > max_age_s:
                bad[quantity] = f"{age_s:.1f} s old (dispatch limit {max_age_s:g} s)"
                continue
            got[quantity] = Sample(reading.value, reading.unit, age_s, reading.source)
        samples[name] = got
        if bad:
            problems[name] = bad
    return Snapshot(clock.now(), clock.monotonic_s(), samples, problems)
