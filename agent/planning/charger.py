"""Whether a configured EV charger can discharge the car: the plan counts on V2G only then.

``v2g: true`` says the owner allows the car to be discharged; whether it can be depends on the
charger. An MQTT charger can when its topic map has a ``discharge_current_a`` write (a map of
a bidirectional charger, e.g. ``everest_bidirectional``); a J1772 pilot (``openevse``) and the
other drivers only offer a charge current. A plan that discharged a car its charger cannot
discharge would sell energy the home then buys back at spot.
"""

from __future__ import annotations

from agent.config import Config
from agent.config.devices import EvCharger
from agent.config.drivers import MqttDriver
from drivers.errors import DriverConfigError
from drivers.mqtt.topicmap import DISCHARGE_WRITE, load_map


def discharge_refusal(charger: EvCharger) -> str | None:
    """Why the configured charger cannot discharge the car; ``None`` when it can."""
    driver = charger.driver
    if isinstance(driver, MqttDriver):
        try:
            topic_map = load_map(driver.topic_map)
        except DriverConfigError as e:
            return f"its topic map cannot be read ({e})"
        if DISCHARGE_WRITE not in topic_map.writes:
            return f"its topic map {topic_map.name!r} has no {DISCHARGE_WRITE} write (a charge-only charger)"
        if "vehicle_soc_pct" not in topic_map.values:
            # Dispatch never discharges a car whose SoC it does not know (the V2G floor).
            return f"its topic map {topic_map.name!r} has no vehicle_soc_pct to keep the V2G floor by"
        return None
    return f"the {driver.type} driver cannot discharge a car"


def refusal_note(refusal: str) -> str:
    return f"true, but {refusal}: the car is charged, never discharged"


def v2g_notes(config: Config) -> dict[str, str]:
    """Per ``devices.<name>.v2g`` key path: why V2G is on in the config but cannot be planned."""
    notes: dict[str, str] = {}
    for name, charger in config.devices_of(EvCharger).items():
        if not charger.v2g:
            continue
        refusal = discharge_refusal(charger)
        if refusal is not None:
            notes[f"devices.{name}.v2g"] = refusal_note(refusal)
    return notes
