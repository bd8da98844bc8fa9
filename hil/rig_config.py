"""The agent config that matches a rig: every device pointing at its emulator, the same physics.

The result is a plain mapping ready for YAML; it passes ``hems check-config``. Parameters come
from the rig's :class:`~hil.plant.params.HomeParams`, so the agent plans the house the plant
simulates (same R and C, COP curve, tank, battery, EV and PV).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.scenario.series import SeriesSpec, load_raw
from hil.plant.data import draw_pattern
from hil.plant.house import COOLING_COP, HEATING_COP
from hil.plant.params import HomeParams
from hil.plant.pv import INVERTER_EFFICIENCY
from hil.rig_settings import free_port

if TYPE_CHECKING:
    from hil.rig import Rig

# IEC 61851: a charger cannot offer less than 6 A (0 pauses).
EV_MIN_A = 6.0
PROFILE_SLOT_H = 0.25
HOURS_PER_YEAR = 8760.0
# A provider's forecast is refreshed every half hour (WeatherService.period_s); three missed
# refreshes make it stale.
WEATHER_STALE_S = 3 * 3600.0


def hot_water_profile(pattern: Sequence[tuple[int, int, float, float]]) -> dict[float, float]:
    """The household's draw habits as the agent's ``forecast.hot_water.profile_l_per_h``.

    What an installer would write from the household's routine: each draw's litres (at the
    mixing valve, the planner's ``delivery_c``) spread over the quarter hours it falls in, as a
    rate (l/h) per quarter hour of the day. A step profile: each value holds until the next key.
    """
    slots = round(24 / PROFILE_SLOT_H)
    rate = [0.0] * slots
    for hour, minute, litres, duration_s in pattern:
        start_h, span_h = hour + minute / 60.0, duration_s / 3600.0
        for k in range(slots):
            lo, hi = k * PROFILE_SLOT_H, (k + 1) * PROFILE_SLOT_H
            overlap_h = min(hi, start_h + span_h) - max(lo, start_h)
            if overlap_h > 0:
                rate[k] += litres * (overlap_h / span_h) / PROFILE_SLOT_H
    profile: dict[float, float] = {}
    for k, value in enumerate(rate):
        if k == 0 or abs(value - rate[k - 1]) > 1e-9:
            profile[k * PROFILE_SLOT_H] = round(value, 2)
    return profile


def annual_consumption_kwh(base_load_kw: SeriesSpec | float) -> float:
    """The household's yearly base-load energy, as its bill would tell the installer: the mean of
    the plant's base-load series (over the whole file) times a year's hours."""
    if isinstance(base_load_kw, SeriesSpec):
        values = load_raw(base_load_kw).values
        mean_kw = float(np.nanmean(values))
    else:
        mean_kw = float(base_load_kw)
    return round(mean_kw * HOURS_PER_YEAR, 1)


def _forecast(p: HomeParams, broker: str, weather_topic: str) -> dict[str, Any]:
    def source(quantity: str) -> dict[str, Any]:
        return {
            "type": "mqtt",
            "broker": broker,
            "topic": f"{weather_topic}/{quantity}",
            "stale_after_s": WEATHER_STALE_S,
        }

    return {
        # The installer enters the system losses from the data sheets: here the inverter's alone.
        "pv": {
            "weather": source("ghi_w_per_m2"),
            "weather_kind": "ghi_w_per_m2",
            "losses": round(1.0 - INVERTER_EFFICIENCY, 4),
        },
        "outdoor_temperature": {"source": source("temp_air_c")},
        "hot_water": {"profile_l_per_h": hot_water_profile(draw_pattern(p.data.draws))},
        # The yearly consumption from the household's bill: a standard profile of that size is the
        # base-load forecast until the meter's own history takes over.
        "base_load": {"annual_consumption_kwh": annual_consumption_kwh(p.data.base_load_kw)},
    }


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
    cop = COOLING_COP if p.mode == "cooling" else HEATING_COP
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
            "house": {
                "r_k_per_kw": p.house_r_k_per_kw,
                "c_kwh_per_k": p.house_c_kwh_per_k,
                "internal_gain_kw": p.internal_gain_kw,
                "solar_aperture_m2": p.solar_aperture_m2,
            },
            "comfort": {"target_c": p.comfort_target_c, "band_c": p.comfort_band_c},
            "driver": _mqtt(broker_name, "zigbee2mqtt_thermostat", s.thermostat_topic),
        }
        if p.mode == "auto":
            assert p.cooling_season is not None  # HomeParams.mode_rule() demands it
            target_c, band_c = p.comfort("cooling")
            devices["thermostat"] |= {
                "cooling_season": {"from": str(p.cooling_season.start), "to": str(p.cooling_season.end)},
                "cooling_comfort": {"target_c": target_c, "band_c": band_c},
                "cooling_cop_curve": [{"outdoor_c": t, "cop": c} for t, c in COOLING_COP.points],
            }
        devices["ev"] = {
            "role": "ev_charger",
            "max_kw": p.ev_max_kw,
            "min_kw": round(EV_MIN_A * p.ev_phases * p.ev_voltage_v / 1000.0, 3),
            "phases": p.ev_phases,
            "voltage_v": p.ev_voltage_v,
            "departure_time": p.ev_departure.strftime("%H:%M"),
            "target_soc": round(min(1.0, p.ev_soc_at_arrival + p.ev_energy_kwh / p.ev_battery_kwh), 4),
            "arrival_time": p.ev_arrival.strftime("%H:%M"),
            "arrival_soc": p.ev_soc_at_arrival,
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
    if s.broker_host is not None:
        doc["forecast"] = _forecast(p, broker_name, s.weather_topic)
    doc["web"] = {"bind": "127.0.0.1", "port": free_port()}
    return doc
