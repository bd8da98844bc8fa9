"""The rig's home from a scenario: :class:`HomeParams` (devices) and :class:`PlantData` (data).

The rig emulates every device, so a scenario for ``hems simulate`` names them all, or names a
``simulate.preset`` (``summer``, ``winter``: ``hil/plant/params.py``) whose devices fill in the
ones it leaves out. A scenario that names no data with a preset replays the preset's week; one
that names data stands on its own data. Parameters the rig's physics does not take (the
planner's COP line: the plant has its own curve, ``hil/plant/house.py``; wear prices; reserves)
are the agent's business and are left to its generated config.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agent.scenario import ScenarioError, ScenarioSpec
from agent.scenario.series import SeriesSpec
from hil.plant.data import PlantData
from hil.plant.params import SUMMER, WINTER, HomeParams

PRESETS = {"summer": SUMMER, "winter": WINTER}
REQUIRED_DATA = ("forward_price_per_kwh", "base_load_kw", "outdoor_c")


def home_params(spec: ScenarioSpec) -> HomeParams:
    preset_name = spec.simulate.get("preset")
    if preset_name is not None and preset_name not in PRESETS:
        raise ScenarioError("simulate.preset", f"must be one of {', '.join(PRESETS)}, got {preset_name!r}")
    base = PRESETS[preset_name] if preset_name else None
    changes: dict[str, Any] = {"timezone": spec.site.tz}
    if spec.site.latitude_deg is not None:
        changes["latitude_deg"] = spec.site.latitude_deg
    if spec.site.longitude_deg is not None:
        changes["longitude_deg"] = spec.site.longitude_deg
    dev = spec.devices
    for name in ("battery", "ev", "heat_pump", "water_heater", "pv"):
        if getattr(dev, name) is None and base is None:
            raise ScenarioError(
                f"devices.{name}", "missing: the rig emulates every device (or name a simulate.preset)"
            )
    if (b := dev.battery) is not None:
        p = b.params
        if p.charge_efficiency != p.discharge_efficiency:
            raise ScenarioError(
                "devices.battery.discharge_efficiency", "the rig's battery has one efficiency"
            )
        cap = p.capacity_kwh
        changes |= {
            "battery_kwh": cap,
            "battery_charge_kw": p.charge_max_kw,
            "battery_discharge_kw": p.discharge_max_kw,
            "battery_efficiency": p.charge_efficiency,
            "soc_min": p.soc_min_kwh / cap,
            "soc_max": (p.soc_max_kwh if p.soc_max_kwh is not None else cap) / cap,
            "soc_start": b.energy_kwh / cap,
        }
    if (e := dev.ev) is not None:
        changes |= {
            "ev_battery_kwh": e.params.capacity_kwh,
            "ev_max_kw": e.params.charge_max_kw,
            "ev_phases": e.phases,
            "ev_voltage_v": e.voltage_v,
        }
        if e.daily is not None:
            changes |= {
                "ev_arrival": e.daily.arrive,
                "ev_departure": e.daily.depart,
                "ev_energy_kwh": max(0.0, e.daily.target_kwh - e.daily.arrival_kwh),
                "ev_soc_at_arrival": e.daily.arrival_kwh / e.params.capacity_kwh,
            }
        elif not e.trips:
            raise ScenarioError("devices.ev", "the rig's car needs trips or daily")
    if (h := dev.heat_pump) is not None:
        changes |= {
            "mode": h.rule.setting,
            "cooling_season": h.rule.cooling,
            "cooling_target_c": h.cooling_target_c,
            "cooling_band_c": h.cooling_band_c,
            "heat_pump_max_kw": h.params.max_kw,
            "house_r_k_per_kw": h.params.r_k_per_kw,
            "house_c_kwh_per_k": h.params.c_kwh_per_k,
            "indoor_start_c": h.indoor_c,
            "comfort_target_c": h.target_c,
            "comfort_band_c": h.band_c,
            "internal_gain_kw": h.internal_gain_kw,
            "solar_aperture_m2": h.solar_aperture_m2,
        }
    if (w := dev.water_heater) is not None:
        p2 = w.params
        changes |= {
            "tank_l": p2.volume_l,
            "element_kw": p2.element_kw,
            "tank_start_c": w.tank_c,
            "tank_target_c": w.target_c,
            "tank_min_c": p2.min_c,
            "tank_max_c": p2.max_c,
            "tank_ua_w_per_k": p2.standing_loss_kw_per_k * 1000.0,
            "inlet_c": p2.inlet_c,
            "mixing_valve_c": p2.delivery_c,
            "tank_ambient_c": p2.ambient_c,
        }
    if (pv := dev.pv) is not None:
        changes |= {
            "pv_peak_kw": pv.peak_kw,
            "pv_tilt_deg": pv.tilt_deg,
            "pv_azimuth_deg": pv.azimuth_deg,
            "pv_curtailable": pv.curtailable,
        }
    changes["data"] = _data(spec, base)
    return dataclasses.replace(base or HomeParams(), **changes)


def _data(spec: ScenarioSpec, base: HomeParams | None) -> PlantData:
    wh, ev = spec.devices.water_heater, spec.devices.ev
    if not spec.data and base is not None:
        data = base.data
    else:
        for name in REQUIRED_DATA:
            if name not in spec.data:
                raise ScenarioError(f"data.{name}", "missing: the rig's plant and retailer need it")
        if "pv_kw" in spec.data:
            raise ScenarioError(
                "data.pv_kw", "the rig's PV array needs irradiance (ghi, dni, dhi), not measured PV"
            )
        d = spec.data
        data = PlantData(
            forward_price_per_kwh=d["forward_price_per_kwh"],
            base_load_kw=d["base_load_kw"],
            outdoor_c=d["outdoor_c"],
            ghi_w_per_m2=d.get("ghi_w_per_m2", 0.0),
            dni_w_per_m2=d.get("dni_w_per_m2", 0.0),
            dhi_w_per_m2=d.get("dhi_w_per_m2", 0.0),
            spot_price_per_kwh=d.get("spot_price_per_kwh"),
            spot=spec.tariff.spot,
            hot_water_l_per_h=d.get("hot_water_l_per_h", 0.0),
            replay=spec.replay,
            station_deg=spec.station,
        )
        if spec.replay is not None:
            for name, s in d.items():
                if isinstance(s, SeriesSpec) and s.align == "standard":
                    raise ScenarioError(
                        f"data.{name}.align", "the rig replays by wall clock: wall or instant"
                    )
        if isinstance(data.hot_water_l_per_h, SeriesSpec) and spec.replay is not None:
            raise ScenarioError("data.hot_water_l_per_h", "the rig replays draw series only without replay")
    changes: dict[str, Any] = {}
    if wh is not None:
        changes["draws"] = wh.daily_draws
    if ev is not None and ev.trips:
        changes["ev_trips"] = ev.trips
    return dataclasses.replace(data, **changes)


def pricing_overrides(spec: ScenarioSpec) -> dict[str, str]:
    """The scenario's tariff as the rig's retailer rules (its retailer settles both ways at one spot
    price plus flat network charges: the parts it cannot bill are refused, not dropped)."""
    t = spec.tariff
    if t.tax_multiplier != 1.0:
        raise ScenarioError("tariff.tax_multiplier", "the rig's retailer bills no tax multiplier (use 1)")
    if not t.flat_network:
        raise ScenarioError("tariff.network.periods", "the rig's retailer charges flat network prices")
    if t.export_rule != "retail":
        raise ScenarioError("tariff.export.rule", "the rig's retailer settles export at spot: rule retail")
    if t.fixed_per_day:
        raise ScenarioError("tariff.fixed_per_day", "the rig's retailer bills no standing charge")
    return {
        "retail_adder_per_kwh": repr(t.retail_adder_per_kwh),
        "import_adder_per_kwh": repr(t.import_network_per_kwh),
        "export_adder_per_kwh": repr(t.export_network_per_kwh),
    }
