"""Run inside the Home Assistant venv: validate MQTT discovery payloads with HA's own schemas.

Reads ``[{"topic": ..., "component": ..., "payload": {...}}, ...]`` as JSON on stdin and writes
one result per payload: ``{"topic", "error"}`` (None when valid) and ``"dropped"``, the keys the
schema removed as unknown to this Home Assistant release.

Sensors and numbers are also held to Home Assistant's own tables of the units and state classes
each device class allows (``DEVICE_CLASS_UNITS``, ``DEVICE_CLASS_STATE_CLASSES``), which later
releases' MQTT schemas enforce on discovery: an ``enum`` sensor has options and neither unit nor
state class, and a ``last_reset`` template needs the ``total`` state class.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

# Home Assistant's loader imports these in this order; importing mqtt first trips a cycle.
import homeassistant.components.persistent_notification  # type: ignore[import-not-found]  # noqa: F401
import voluptuous as vol  # type: ignore[import-not-found]
from homeassistant.components.number import const as number_const  # type: ignore[import-not-found]
from homeassistant.components.sensor import const as sensor_const  # type: ignore[import-not-found]


def _units(table: dict[Any, set[Any]], device_class: str) -> set[str | None] | None:
    allowed = next((units for cls, units in table.items() if str(cls) == device_class), None)
    if allowed is None:
        return None
    out: set[str | None] = set()
    for unit in allowed:
        if isinstance(unit, type):  # a unit enum class stands for all its members
            members: Any = unit
            out |= {str(u) for u in members}
        else:
            out.add(None if unit is None else str(unit))
    return out


def device_class_rules(component: str, p: dict[str, object]) -> str | None:
    dc, unit, sc = p.get("device_class"), p.get("unit_of_measurement"), p.get("state_class")
    if component == "sensor":
        if dc == "enum":
            if unit is not None or sc is not None or not p.get("options"):
                return "an enum sensor has options and neither unit_of_measurement nor state_class"
        elif "options" in p:
            return "options are for enum sensors only"
        if "last_reset_value_template" in p and sc != "total":
            return "last_reset_value_template needs state_class total"
        classes = next((v for k, v in sensor_const.DEVICE_CLASS_STATE_CLASSES.items() if str(k) == dc), None)
        if dc is not None and sc is not None and classes is not None and sc not in {str(c) for c in classes}:
            return f"state_class {sc} is not allowed for device_class {dc}"
        table = sensor_const.DEVICE_CLASS_UNITS
    elif component == "number":
        table = number_const.DEVICE_CLASS_UNITS
    else:
        return None
    units = _units(table, str(dc)) if dc is not None else None
    if units is not None and unit not in units:
        return f"unit_of_measurement {unit!r} is not allowed for device_class {dc}"
    return None


def main() -> None:
    results = []
    for item in json.load(sys.stdin):
        module = importlib.import_module(f"homeassistant.components.mqtt.{item['component']}")
        payload = dict(item["payload"])
        try:
            validated = module.DISCOVERY_SCHEMA(payload)
        except vol.Invalid as e:
            results.append({"topic": item["topic"], "error": str(e), "dropped": []})
            continue
        dropped = sorted(set(payload) - set(validated))
        error = device_class_rules(item["component"], payload)
        results.append({"topic": item["topic"], "error": error, "dropped": dropped})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
