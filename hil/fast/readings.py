"""What each capability-level device reads from the rig, rounded as the wire carries it.

Per role, a function of the rig returning ``name -> (value, unit)``: W as whole watts, energy
counters as whole Wh (in kWh), temperatures to 0.1 °C, as the SunSpec registers and the MQTT
payloads the field drivers read carry them, so both simulation modes see the same resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from drivers.base import ThermostatMode
from hil.rig import Rig

Role = Literal["meter", "pv_inverter", "battery", "ev_charger", "heat_pump", "thermostat", "water_heater"]


def _last(rig: Rig, device: str) -> float:
    last = rig.plant.last
    return last.powers_kw[device] if last is not None else 0.0


def _meter(rig: Rig) -> Callable[[], dict[str, tuple[Any, str]]]:
    def read() -> dict[str, tuple[Any, str]]:
        m = rig.plant.meter
        grid_kw = rig.plant.last.grid_kw if rig.plant.last is not None else 0.0
        return {
            "power_w": (float(round(grid_kw * 1000.0)), "W"),
            "import_kwh": (round(m.import_kwh * 1000.0) / 1000.0, "kWh"),
            "export_kwh": (round(m.export_kwh * 1000.0) / 1000.0, "kWh"),
        }

    return read


def _pv(rig: Rig) -> Callable[[], dict[str, tuple[Any, str]]]:
    def read() -> dict[str, tuple[Any, str]]:
        energy = rig.plant.pv.energy_kwh if rig.plant.pv is not None else 0.0
        return {
            "power_w": (float(round(_last(rig, "pv") * 1000.0)), "W"),
            "energy_kwh": (round(energy * 1000.0) / 1000.0, "kWh"),
        }

    return read


def _battery(rig: Rig) -> Callable[[], dict[str, tuple[Any, str]]]:
    def read() -> dict[str, tuple[Any, str]]:
        soc = rig.plant.battery.soc if rig.plant.battery is not None else 0.0
        return {
            "soc_pct": (round(soc * 1000.0) / 10.0, "%"),
            "power_w": (float(round(_last(rig, "battery") * 1000.0)), "W"),
        }

    return read


def _thermostat(rig: Rig) -> Callable[[], dict[str, tuple[Any, str]]]:
    def read() -> dict[str, tuple[Any, str]]:
        t = rig.thermostat
        indoor = rig.plant.house.indoor_c if rig.plant.house is not None else float("nan")
        mode = {"heat": ThermostatMode.HEAT, "cool": ThermostatMode.COOL, "off": ThermostatMode.OFF}
        return {
            "indoor_c": (round(indoor, 1), "°C"),
            "setpoint_c": (t.setpoint_c, "°C"),
            "mode": (mode.get(t.system_mode, ThermostatMode.AUTO), ""),
        }

    return read


def _water_heater(rig: Rig) -> Callable[[], dict[str, tuple[Any, str]]]:
    def read() -> dict[str, tuple[Any, str]]:
        tank = rig.plant.tank.tank_c if rig.plant.tank is not None else float("nan")
        return {
            "tank_c": (round(tank, 1), "°C"),
            "element_on": (rig.water_heater.output, ""),
            "element_power_w": (float(round(_last(rig, "water_heater") * 1000.0, 1)), "W"),
        }

    return read


def _ev(rig: Rig) -> Callable[[], dict[str, tuple[Any, str]]]:
    def read() -> dict[str, tuple[Any, str]]:
        ev, evse = rig.plant.ev, rig.evse
        power_w = float(round(_last(rig, "ev") * 1000.0))
        session = ev.current.grid_kwh if ev is not None and ev.current else 0.0
        return {
            "plugged": (ev is not None and ev.plugged, ""),
            "charging": (power_w > 0.0, ""),
            "power_w": (power_w, "W"),
            "current_limit_a": (0.0 if evse.disabled else evse.pilot_a, "A"),
            "session_kwh": (round(session * 10000.0) / 10000.0, "kWh"),
            "vehicle_soc_pct": (round((ev.soc if ev is not None else 0.0) * 100.0, 1), "%"),
        }

    return read


READERS: dict[Role, Callable[[Rig], Callable[[], dict[str, tuple[Any, str]]]]] = {
    "meter": _meter,
    "pv_inverter": _pv,
    "battery": _battery,
    "thermostat": _thermostat,
    "heat_pump": _thermostat,  # a heat pump is driven through its thermostat's setpoint
    "water_heater": _water_heater,
    "ev_charger": _ev,
}
