"""MQTT discovery configs for the entities of :mod:`agent.web.ha.entities`.

Availability: every entity follows the agent's broker connection status topic
(``<broker prefix>/status``), the topic the connection's MQTT *last will* names. The broker
itself says "offline" there when the agent dies without a goodbye (SIGKILL, power cut, network
loss), so Home Assistant shows the entities unavailable instead of frozen values.

A JSON null in the state document renders as "None", which HA's MQTT sensors and binary sensors
take as unknown; text and select entities get an empty string instead. ``default_entity_id``
(HA 2025.10; ``object_id`` stops working in 2026.4) fixes the entity ids, the ``origin`` and
the device's ``sw_version`` say which hems published them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent import __version__
from agent.runtime.state import COMFORT_TARGET_RANGE_C
from agent.web.ha.entities import COMMAND_KINDS, WATER_HEATER_MODES, Entity


@dataclass(frozen=True, slots=True)
class Topics:
    discovery_prefix: str
    base: str  # <base_topic>/<site id>
    availability: str  # the broker connection's status topic (its last will)

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def forecast(self) -> str:
        return f"{self.base}/forecast"

    def command(self, key: str) -> str:
        return f"{self.base}/set/{key}"

    @property
    def command_filter(self) -> str:
        return f"{self.base}/set/+"

    def config(self, e: Entity, node: str) -> str:
        return f"{self.discovery_prefix}/{e.component}/{node}/{e.key}/config"


@dataclass(frozen=True, slots=True)
class Device:
    node: str  # HA node id, also the device identifier
    site_id: str
    configuration_url: str | None = None


def entity_id_slug(text: str) -> str:
    """HA entity ids allow lower-case letters, digits and single underscores."""
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", text.lower())).strip("_")


def _value(key: str) -> str:
    return f"{{{{ value_json.{key} }}}}"


def _text(key: str) -> str:
    # HA's text and select entities show a rendered null as the word "None".
    return f"{{{{ value_json.{key} if value_json.{key} is not none else '' }}}}"


def _on_off(key: str) -> str:
    return f"{{{{ 'None' if value_json.{key} is none else ('ON' if value_json.{key} else 'OFF') }}}}"


def _state_fields(e: Entity, topics: Topics) -> dict[str, Any]:
    c = e.component
    if c == "button":
        return {"command_topic": topics.command(e.key)}
    if c == "climate":
        low, high = COMFORT_TARGET_RANGE_C
        return {
            "modes": ["heat"],
            "mode_state_topic": topics.state,
            "mode_state_template": "{{ 'heat' }}",
            "current_temperature_topic": topics.state,
            "current_temperature_template": _value("indoor_c"),
            "temperature_state_topic": topics.state,
            "temperature_state_template": _value("comfort_target_c_effective"),
            "temperature_command_topic": topics.command("comfort_target_c"),
            "min_temp": low,
            "max_temp": high,
            "temp_step": 0.5,
            "precision": 0.1,
            "temperature_unit": "C",
        }
    if c == "water_heater":
        return {
            "modes": list(WATER_HEATER_MODES),
            "mode_state_topic": topics.state,
            "mode_state_template": _value("water_heater_mode"),
            "mode_command_topic": topics.command("water_heater_mode"),
            "current_temperature_topic": topics.state,
            "current_temperature_template": _value("tank_c"),
            "precision": 0.1,
            "temperature_unit": "C",
        }
    out: dict[str, Any] = {"state_topic": topics.state}
    if c in ("switch", "binary_sensor"):
        out["value_template"] = _on_off(e.key)
    elif c in ("text", "select"):
        out["value_template"] = _text(e.key)
    else:
        out["value_template"] = _value(e.key)
    if c in COMMAND_KINDS:
        out["command_topic"] = topics.command(e.key)
    return out


def config_payload(e: Entity, topics: Topics, device: Device) -> dict[str, Any]:
    node = device.node
    payload: dict[str, Any] = {
        "name": e.name,
        "unique_id": f"{node}_{e.key}",
        "default_entity_id": f"{e.component}.{entity_id_slug(f'{node}_{e.key}')}",
        "availability_topic": topics.availability,
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": _device(device),
        "origin": {"name": "hems", "sw_version": __version__},
    }
    payload |= _state_fields(e, topics)
    if e.category is not None:
        payload["entity_category"] = e.category
    if e.attributes:
        payload["json_attributes_topic"] = topics.forecast
    return payload | e.extra


def _device(device: Device) -> dict[str, Any]:
    out: dict[str, Any] = {
        "identifiers": [device.node],
        "name": f"hems {device.site_id}",
        "manufacturer": "hems",
        "model": "transactive home energy agent",
        "sw_version": __version__,
    }
    if device.configuration_url is not None:
        out["configuration_url"] = device.configuration_url
    return out
