"""The entities hems offers Home Assistant, as MQTT discovery configs.

One device ("hems <site id>") with sensors for the power flows (W, ``power``/``measurement``),
the grid meter's counters (kWh, ``energy``/``total_increasing``: what the energy dashboard's
grid consumption and return-to-grid slots take), SoC (%, ``battery``), indoor and tank
temperature (°C, ``temperature``), the current price and the marginal value
(<currency>/kWh, ``measurement``: what the dashboard's "entity with the current price" takes),
and the controls: switches for pause and hold, numbers for the EV target, comfort target and
band and boost hours, a text for the EV departure. Every sensor reads one JSON state topic; a
JSON null renders as "None", which HA shows as unknown rather than as a false number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Entity:
    component: str  # sensor | switch | number | text
    key: str  # unique within the site; also the JSON key in the state document
    name: str
    extra: dict[str, Any] = field(default_factory=dict)


def _power(key: str, name: str) -> Entity:
    return Entity(
        "sensor",
        key,
        name,
        {"device_class": "power", "state_class": "measurement", "unit_of_measurement": "W"},
    )


def _energy(key: str, name: str) -> Entity:
    return Entity(
        "sensor",
        key,
        name,
        {"device_class": "energy", "state_class": "total_increasing", "unit_of_measurement": "kWh"},
    )


def _number(key: str, name: str, bounds: tuple[float, float, float], unit: str, **extra: Any) -> Entity:
    low, high, step = bounds
    fields = {"min": low, "max": high, "step": step, "unit_of_measurement": unit, "mode": "box"}
    return Entity("number", key, name, fields | extra)


def entities(currency: str, flow_keys: list[str], has: set[str]) -> list[Entity]:
    """``flow_keys`` from :func:`agent.web.live.flows`; ``has``: roles present (battery, ev, ...)."""
    names = {
        "grid": "Grid power",
        "pv": "PV power",
        "battery": "Battery power",
        "ev": "EV charging power",
        "heat_pump": "Heat pump power",
        "water_heater": "Water heater power",
        "base_load": "Base load",
    }
    out = [_power(f"{k}_power_w", names[k]) for k in flow_keys if k in names]
    out += [
        _energy("grid_import_kwh", "Grid import energy"),
        _energy("grid_export_kwh", "Grid export energy"),
    ]
    pct = {"device_class": "battery", "state_class": "measurement", "unit_of_measurement": "%"}
    temp = {"device_class": "temperature", "state_class": "measurement", "unit_of_measurement": "°C"}
    price = {"state_class": "measurement", "unit_of_measurement": f"{currency}/kWh"}
    if "battery" in has:
        out.append(Entity("sensor", "battery_soc_pct", "Battery SoC", pct))
    if "ev" in has:
        out.append(Entity("sensor", "ev_soc_pct", "EV SoC", pct))
    if "heat_pump" in has:
        out.append(Entity("sensor", "indoor_c", "Indoor temperature", temp))
    if "water_heater" in has:
        out.append(Entity("sensor", "tank_c", "Tank temperature", temp))
    out += [
        Entity("sensor", "import_price_per_kwh", "Current import price", price),
        Entity("sensor", "export_price_per_kwh", "Current export price", price),
        Entity("sensor", "marginal_value_per_kwh", "Marginal value of energy", price),
        Entity("sensor", "mode", "Optimizer mode", {"device_class": "enum", "options": list(MODES)}),
        Entity("switch", "paused", "Pause optimizer", {"payload_on": "ON", "payload_off": "OFF"}),
    ]
    if "ev" in has:
        out.append(_number("ev_target_soc_pct", "EV target SoC", (0, 100, 1), "%"))
        out.append(Entity("text", "ev_departure", "EV departure (ISO 8601)", {"max": 40}))
    if "heat_pump" in has:
        out.append(
            _number("comfort_target_c", "Comfort target", (5, 35, 0.5), "°C", device_class="temperature")
        )
        out.append(_number("comfort_band_c", "Comfort band", (0.1, 10, 0.1), "°C"))
    if "water_heater" in has:
        out.append(
            _number("water_heater_boost_h", "Water heater boost", (0, 24, 0.5), "h", device_class="duration")
        )
        out.append(
            Entity(
                "switch", "water_heater_hold", "Hold water heater", {"payload_on": "ON", "payload_off": "OFF"}
            )
        )
    return out


MODES = ("starting", "optimising", "safe", "paused", "stopping")
COMMANDABLE = {"switch", "number", "text"}


@dataclass(frozen=True, slots=True)
class Topics:
    discovery_prefix: str
    base: str  # <base_topic>/<site id>

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    def command(self, key: str) -> str:
        return f"{self.base}/set/{key}"

    @property
    def command_filter(self) -> str:
        return f"{self.base}/set/+"

    def config(self, e: Entity, node: str) -> str:
        return f"{self.discovery_prefix}/{e.component}/{node}/{e.key}/config"


def config_payload(e: Entity, topics: Topics, node: str, site_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": e.name,
        "unique_id": f"{node}_{e.key}",
        "object_id": f"{node}_{e.key}",
        "state_topic": topics.state,
        "value_template": f"{{{{ value_json.{e.key} }}}}",
        "availability_topic": topics.availability,
        "device": {
            "identifiers": [node],
            "name": f"hems {site_id}",
            "manufacturer": "hems",
            "model": "transactive home energy agent",
        },
    }
    if e.component in COMMANDABLE:
        payload["command_topic"] = topics.command(e.key)
    if e.component == "switch":
        payload["value_template"] = f"{{{{ 'ON' if value_json.{e.key} else 'OFF' }}}}"
    return payload | e.extra
