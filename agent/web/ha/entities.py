"""The entities hems offers Home Assistant, one list built from the configured devices.

* sensors: the power flows (W), energy counters (kWh, ``energy``/``total_increasing``: what the
  energy dashboard's grid, solar, battery and device slots take, with no integral sensor in
  HA), SoC (%), indoor and tank temperature (°C), the current prices and marginal value
  (<currency>/kWh; the import price carries the price and plan forecast as attributes), this
  month's bill (``monetary``/``total``), the optimizer's mode;
* binary sensors: EV plugged in, and each device's and the retailer link's connectivity;
* controls: pause and hold switches, numbers for the EV target and current limit, comfort and
  boost, a text for the EV departure, a select for the EV charge mode, a "charge now" button, a
  ``climate`` entity for the comfort target and a ``water_heater`` entity (eco / boost / off).

Every entity reads the one JSON state document (``key`` is its field); a command topic ends in
the key of the control it sets (see :data:`COMMANDS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agent.runtime.state import (
    COMFORT_BAND_RANGE_C,
    COMFORT_TARGET_RANGE_C,
    EV_CURRENT_LIMIT_RANGE_A,
    EV_MODES,
)

MODES = ("starting", "optimising", "safe", "paused", "stopping")
# The water heater entity's modes: as planned, boost (full element power for BOOST_H), hold.
WATER_HEATER_MODES = ("eco", "high_demand", "off")
BOOST_H = 1.0
ON_OFF = {"payload_on": "ON", "payload_off": "OFF"}


@dataclass(frozen=True, slots=True)
class Entity:
    component: (
        str  # sensor | binary_sensor | switch | number | text | select | button | climate | water_heater
    )
    key: str  # unique within the site; the JSON key in the state document for one-value entities
    name: str
    extra: dict[str, Any] = field(default_factory=dict)
    category: str | None = None  # HA's entity_category: config | diagnostic
    attributes: bool = False  # reads the forecast topic as JSON attributes


def _sensor(key: str, name: str, device_class: str | None, unit: str, precision: int, **extra: Any) -> Entity:
    fields: dict[str, Any] = {"state_class": "measurement", "unit_of_measurement": unit}
    if device_class is not None:
        fields["device_class"] = device_class
    fields["suggested_display_precision"] = precision
    return Entity("sensor", key, name, fields | extra)


def _energy(key: str, name: str) -> Entity:
    return _sensor(key, name, "energy", "kWh", 2, state_class="total_increasing")


def _number(
    key: str,
    name: str,
    bounds: tuple[float, float],
    step: float,
    unit: str,
    *,
    category: str | None = None,
    **extra: Any,
) -> Entity:
    low, high = bounds
    fields = {"min": low, "max": high, "step": step, "unit_of_measurement": unit, "mode": "box"}
    return Entity("number", key, name, fields | extra, category)


FLOW_NAMES = {
    "grid": "Grid power",
    "pv": "PV power",
    "battery": "Battery power",
    "ev": "EV charging power",
    "heat_pump": "Heat pump power",
    "water_heater": "Water heater power",
    "base_load": "Base load",
}
# role -> the counters of agent.runtime.energy_counters that role has
ENERGY = {
    "pv": (("pv_energy_kwh", "PV energy"),),
    "battery": (("battery_charge_kwh", "Battery energy in"), ("battery_discharge_kwh", "Battery energy out")),
    "ev": (("ev_charge_kwh", "EV charging energy"),),
    "heat_pump": (("heat_pump_energy_kwh", "Heat pump energy"),),
    "water_heater": (("water_heater_energy_kwh", "Water heater energy"),),
}


def _measurements(currency: str, flow_keys: Iterable[str], has: set[str]) -> list[Entity]:
    out = [_sensor(f"{k}_power_w", FLOW_NAMES[k], "power", "W", 0) for k in flow_keys if k in FLOW_NAMES]
    out += [
        _energy("grid_import_kwh", "Grid import energy"),
        _energy("grid_export_kwh", "Grid export energy"),
    ]
    for role, counters in ENERGY.items():
        if role in has:
            out += [_energy(key, name) for key, name in counters]
    if "ev" in has and "v2g" in has:
        out.append(_energy("ev_discharge_kwh", "EV discharging energy"))
    if "battery" in has:
        out.append(_sensor("battery_soc_pct", "Battery SoC", "battery", "%", 0))
    if "ev" in has:
        out.append(_sensor("ev_soc_pct", "EV SoC", "battery", "%", 0))
    if "heat_pump" in has:
        out.append(_sensor("indoor_c", "Indoor temperature", "temperature", "°C", 1))
    if "water_heater" in has:
        out.append(_sensor("tank_c", "Tank temperature", "temperature", "°C", 1))
    price = f"{currency}/kWh"
    out += [
        Entity(
            "sensor",
            "import_price_per_kwh",
            "Current import price",
            {"state_class": "measurement", "unit_of_measurement": price, "suggested_display_precision": 4},
            attributes=True,
        ),
        _sensor("export_price_per_kwh", "Current export price", None, price, 4),
        _sensor("marginal_value_per_kwh", "Marginal value of energy", None, price, 4),
        Entity(
            "sensor",
            "cost_this_month",
            "Energy cost this month",
            {
                "device_class": "monetary",
                "state_class": "total",
                "unit_of_measurement": currency,
                "suggested_display_precision": 2,
                # The sum starts again each month: HA's statistics book that as a new cycle,
                # not as a refund of the whole of last month.
                "last_reset_value_template": "{{ value_json.cost_since }}",
            },
        ),
        Entity(
            "sensor", "mode", "Optimizer mode", {"device_class": "enum", "options": list(MODES)}, "diagnostic"
        ),
    ]
    return out


def _controls(has: set[str]) -> list[Entity]:
    out = [Entity("switch", "paused", "Pause optimizer", dict(ON_OFF))]
    if "ev" in has:
        out += [
            _number("ev_target_soc_pct", "EV target SoC", (0, 100), 1, "%"),
            Entity("text", "ev_departure", "EV departure (ISO 8601)", {"min": 0, "max": 40}),
            Entity("select", "ev_mode", "EV charge mode", {"options": list(EV_MODES)}),
            _number(
                "ev_current_limit_a",
                "EV current limit",
                EV_CURRENT_LIMIT_RANGE_A,
                1,
                "A",
                category="config",
                device_class="current",
            ),
            Entity("button", "ev_charge_now", "Charge EV now", {"payload_press": "PRESS"}),
        ]
    if "heat_pump" in has:
        out += [
            _number(
                "comfort_target_c",
                "Comfort target",
                COMFORT_TARGET_RANGE_C,
                0.5,
                "°C",
                device_class="temperature",
            ),
            _number("comfort_band_c", "Comfort band", COMFORT_BAND_RANGE_C, 0.1, "°C", category="config"),
            Entity("climate", "climate", "Comfort"),
        ]
    if "water_heater" in has:
        out += [
            _number("water_heater_boost_h", "Water heater boost", (0, 24), 0.5, "h", device_class="duration"),
            Entity("switch", "water_heater_hold", "Hold water heater", dict(ON_OFF)),
            Entity("water_heater", "water_heater", "Water heater"),
        ]
    return out


def _connectivity(device_names: Iterable[str], has_link: bool) -> list[Entity]:
    conn = {"device_class": "connectivity"}
    out = [
        Entity("binary_sensor", f"{n}_connected", f"{n} connected", dict(conn), "diagnostic")
        for n in device_names
    ]
    if has_link:
        out.append(Entity("binary_sensor", "retailer_connected", "Retailer link", dict(conn), "diagnostic"))
    return out


def entities(
    currency: str,
    flow_keys: Iterable[str],
    has: set[str],
    device_names: Iterable[str] = (),
    has_link: bool = False,
) -> list[Entity]:
    """``flow_keys`` from :func:`agent.web.live.flows`; ``has``: roles present (battery, ev, ...,
    and ``v2g`` when the EV charger can discharge); ``device_names``: every configured device."""
    out = _measurements(currency, flow_keys, has)
    if "ev" in has:
        out.append(Entity("binary_sensor", "ev_plugged", "EV plugged in", {"device_class": "plug"}))
    out += _controls(has)
    out += _connectivity(device_names, has_link)
    return out


# Command topic key -> what its payload is. The climate entity sets comfort_target_c; the
# water heater entity's mode topic is water_heater_mode.
COMMAND_KINDS = {"switch", "number", "text", "select", "button"}


def commands(all_entities: Iterable[Entity]) -> dict[str, str]:
    out = {e.key: e.component for e in all_entities if e.component in COMMAND_KINDS}
    if any(e.component == "water_heater" for e in all_entities):
        out["water_heater_mode"] = "water_heater_mode"
    return out
