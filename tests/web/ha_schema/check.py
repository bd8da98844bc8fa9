"""Run inside the Home Assistant venv: validate MQTT discovery payloads with HA's own schemas.

Reads ``[{"topic": ..., "component": ..., "payload": {...}}, ...]`` as JSON on stdin and writes
one result per payload: ``{"topic", "error"}`` (None when valid) and ``"dropped"``, the keys the
schema removed as unknown to this Home Assistant release.
"""

from __future__ import annotations

import importlib
import json
import sys

# Home Assistant's loader imports these in this order; importing mqtt first trips a cycle.
import homeassistant.components.persistent_notification  # type: ignore[import-not-found]  # noqa: F401
import voluptuous as vol  # type: ignore[import-not-found]


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
        results.append({"topic": item["topic"], "error": None, "dropped": dropped})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
