"""The agent config that matches a rig: every device pointing at its emulator, the same physics.

The result is a plain mapping ready for YAML; it passes ``hems check-config``. Parameters come
from the rig's :class:`~hil.plant.params.HomeParams`, so the agent plans the house the plant
simulates (same R and C, COP curve, tank, battery, EV and PV).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hil.plant.house import COOLING_COP, HEATING_COP
from hil.rig_settings import free_port

if TYPE_CHECKING:
    from hil.rig import Rig

# IEC 61851: a charger cannot offer less than 6 A (0 pauses).
EV_MIN_A = 6.0


def _modbus(host: str, port: int, unit_id: int) -> dict[str, Any]:
    return {
        "type": "modbus_tcp",
        "host": host,
        "port": port,
        "unit_id": unit_id,
        "sunspec": True,
        "timeout_s": 2.0,
    }


def _mqtt(broker: str, topic_map: str, base: str) -> dict[str, Any]:
    return {
        "type": "mqtt",
        "broker": broker,
        "topic_map": topic_map,
        "base_topic": base,
        "stale_after_s": 60.0,
    }


def agent_config(rig: Rig, *, state_dir: Path, broker_name: str, site_id: str) -> dict[str, Any]:
    p, s = rig.params, rig.settings
    host = s.host_for_clients
    cop = HEATING_COP if p.mode == "heating" else COOLING_COP
    devices: dict[str, Any] = {
        "grid": {
            "role": "meter",
            "phases": 3,
            "driver": _modbus(host, rig.meter.port, s.unit_id),
        },
        "pv": {
            "role": "pv_inverter",
            "peak_kw": p.pv_peak_kw,
            "tilt_deg": p.pv_tilt_deg,
            "azimuth_deg": p.pv_azimuth_deg,
            "curtailable": p.pv_curtailable,
            "driver": _modbus(host, rig.inverter.port, s.unit_id),
        },
        "battery": {
            "role": "battery",
            "capacity_kwh": p.battery_kwh,
            "charge_max_kw": p.battery_charge_kw,
            "discharge_max_kw": p.battery_discharge_kw,
            "charge_efficiency": p.battery_efficiency,
            "discharge_efficiency": p.battery_efficiency,
            "soc_min": p.soc_min,
            "soc_max": p.soc_max,
            "reserve_soc": max(p.soc_min, 0.1),
            "driver": _modbus(host, rig.inverter.port, s.unit_id),
        },
    }
    if s.broker_host is not None:
        devices["thermostat"] = {
            "role": "thermostat",
            "mode": p.mode,
            "electric_max_kw": p.heat_pump_max_kw,
            "cop_curve": [{"outdoor_c": t, "cop": c} for t, c in cop.points],
            "house": {"r_k_per_kw": p.house_r_k_per_kw, "c_kwh_per_k": p.house_c_kwh_per_k},
            "comfort": {"target_c": p.comfort_target_c, "band_c": p.comfort_band_c},
            "driver": _mqtt(broker_name, "zigbee2mqtt_thermostat", s.thermostat_topic),
        }
        devices["ev"] = {
            "role": "ev_charger",
            "max_kw": p.ev_max_kw,
            "min_kw": round(EV_MIN_A * p.ev_phases * p.ev_voltage_v / 1000.0, 3),
            "phases": p.ev_phases,
            "voltage_v": p.ev_voltage_v,
            "departure_time": p.ev_departure.strftime("%H:%M"),
            "target_soc": round(min(1.0, p.ev_soc_at_arrival + p.ev_energy_kwh / p.ev_battery_kwh), 4),
            "battery_kwh": p.ev_battery_kwh,
            "driver": _mqtt(broker_name, "openevse", s.evse_topic),
        }
    water_driver: dict[str, Any] | None = None
    if s.water_heater_link == "gpio":
        water_driver = {
            "type": "gpio_relay",
            "pin": s.relay_pin,
            "active_high": s.relay_active_high,
            "min_on_s": 60,
            "min_off_s": 60,
            "window_s": 900,
        }
    elif s.broker_host is not None:
        water_driver = _mqtt(broker_name, "shelly_water_heater", s.water_heater_topic)
    if water_driver is not None:
        devices["water_heater"] = {
            "role": "water_heater",
            "tank_l": p.tank_l,
            "element_kw": p.element_kw,
            "target_c": p.tank_target_c,
            "min_c": p.tank_min_c,
            "max_c": p.tank_max_c,
            "ua_w_per_k": p.tank_ua_w_per_k,
            "inlet_c": p.inlet_c,
            "ambient_c": p.tank_ambient_c,
            "driver": water_driver,
        }
    doc: dict[str, Any] = {
        "site": {
            "id": site_id,
            "timezone": p.timezone,
            "latitude": p.latitude_deg,
            "longitude": p.longitude_deg,
            "currency": "EUR",
        },
        "state_dir": str(state_dir),
    }
    if s.broker_host is not None:
        doc["mqtt_brokers"] = {broker_name: {"host": s.broker_host, "port": s.broker_port}}
    doc["devices"] = devices
    doc["web"] = {"bind": "127.0.0.1", "port": free_port()}
    return doc
