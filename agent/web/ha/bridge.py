"""The Home Assistant bridge: discovery configs, periodic state, and commands from HA.

Uses the agent's connection to the configured broker (the one the devices share). Configs and
``online`` are published retained after every (re)connect and whenever HA announces itself on
``<discovery_prefix>/status``; the state document every ``publish_every_s`` of the agent's clock
and at once after a command. A command goes through the same validation as the web controls
(:func:`agent.web.controls.apply`); a bad one is logged and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from agent.config.sections import HomeAssistant
from agent.planning import planned_devices
from agent.web import controls, live
from agent.web.errors import RequestError, WebError
from agent.web.ha.discovery import Entity, Topics, config_payload, entities
from agent.web.respond import dumps
from drivers.mqtt.client import Message, MqttClient
from drivers.mqtt.errors import MqttError
from drivers.mqtt.factory import broker_key

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent

log = logging.getLogger(__name__)

# A PUBACK on a LAN broker takes milliseconds; this bounds a broker that stopped answering.
PUBLISH_TIMEOUT_S = 5.0
SWITCH_VALUES = {"ON": True, "OFF": False}


def node_id(site_id: str) -> str:
    """HA's node ids allow [a-zA-Z0-9_-]; a site id may hold more."""
    return "hems_" + re.sub(r"[^a-zA-Z0-9_-]", "_", site_id)


def _client(agent: RunningAgent, broker: str) -> MqttClient:
    def missing() -> MqttClient:
        raise WebError(f"web.home_assistant.broker: broker {broker!r} is not connected")

    return agent.ctx.links.get_or_create(broker_key(broker), MqttClient, missing)


def state_document(agent: RunningAgent) -> dict[str, Any]:
    doc: dict[str, Any] = {f"{f.key}_power_w": f.power_w for f in live.flows(agent)}
    meter = (agent.state.snapshot or {}).get("samples", {}).get(agent.config.meter_name, {})
    for key, quantity in (("grid_import_kwh", "meter.import_kwh"), ("grid_export_kwh", "meter.export_kwh")):
        sample = meter.get(quantity)
        doc[key] = sample.get("value") if isinstance(sample, dict) else None
    doc |= live.readings(agent)
    doc |= live.prices_now(agent)
    c = controls.controls_json(agent)
    doc |= {k: c[k] for k in controls.FIELDS if k in c}
    doc["water_heater_boost_h"] = _boost_hours(agent)
    doc["mode"] = agent.state.mode
    return doc


def _boost_hours(agent: RunningAgent) -> float:
    until = agent.state.overrides.water_heater_boost_until
    if until is None:
        return 0.0
    return round(max(0.0, (until - agent.clock.now()).total_seconds() / 3600.0), 2)


def command_body(key: str, payload: bytes, by_key: dict[str, Entity]) -> dict[str, Any]:
    """The controls body for one HA command; raises :class:`RequestError` naming the key."""
    entity = by_key.get(key)
    if entity is None or entity.component not in ("switch", "number", "text"):
        raise RequestError(key, "not a command hems offers")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise RequestError(key, "payload is not UTF-8 text") from None
    if entity.component == "switch":
        if text not in SWITCH_VALUES:
            raise RequestError(key, f"must be ON or OFF (got {text[:40]!r})")
        return {key: SWITCH_VALUES[text]}
    if entity.component == "text":
        return {key: text or None}
    try:
        value = float(text)
    except ValueError:
        raise RequestError(key, f"must be a number (got {text[:40]!r})") from None
    return {key: value}


class Bridge:
    def __init__(self, agent: RunningAgent, settings: HomeAssistant) -> None:
        self.agent = agent
        self.settings = settings
        self.node = node_id(agent.config.site.id)
        self.topics = Topics(settings.discovery_prefix, f"{settings.base_topic}/{agent.config.site.id}")
        flow_keys = [f.key for f in live.flows(agent)]
        roles = set(planned_devices(agent.config))
        self.entities = entities(agent.config.site.currency, flow_keys, roles)
        self.by_key = {e.key: e for e in self.entities}
        self.client = _client(agent, settings.broker)
        self.wake = asyncio.Event()
        # The page changes the same overrides without going through MQTT: the retained state
        # document must not say "paused" for publish_every_s after the page lifted it.
        agent.cycle.watch_overrides(self.wake.set)
        self.announced_at = -1  # client.connects when the configs were last published
        self.commands = 0
        self.rejected = 0

    def on_command(self, msg: Message) -> None:
        key = msg.topic.rsplit("/", 1)[-1]
        try:
            controls.apply(self.agent, command_body(key, msg.payload, self.by_key))
        except RequestError as e:
            self.rejected += 1
            log.warning("Home Assistant command refused: %s", e)
            return
        self.commands += 1

    def on_ha_status(self, msg: Message) -> None:
        if msg.payload.strip() == b"online":  # HA restarted: it wants the configs again
            self.announced_at = -1
            self.wake.set()

    async def _publish(self, topic: str, payload: str, *, retain: bool) -> None:
        await self.client.publish(topic, payload, qos=1, retain=retain, timeout_s=PUBLISH_TIMEOUT_S)

    async def announce(self) -> None:
        site = self.agent.config.site.id
        for e in self.entities:
            payload = json.dumps(config_payload(e, self.topics, self.node, site))
            await self._publish(self.topics.config(e, self.node), payload, retain=True)
        await self._publish(self.topics.availability, "online", retain=True)
        self.announced_at = self.client.connects

    async def publish_state(self) -> None:
        await self._publish(self.topics.state, dumps(state_document(self.agent)), retain=True)

    async def step(self) -> None:
        if not self.client.connected:
            return
        if self.announced_at != self.client.connects:
            await self.announce()
        await self.publish_state()

    async def run(self) -> None:
        subs = [
            await self.client.subscribe(
                self.topics.command_filter, self.on_command, timeout_s=PUBLISH_TIMEOUT_S
            ),
            await self.client.subscribe(
                f"{self.settings.discovery_prefix}/status", self.on_ha_status, timeout_s=PUBLISH_TIMEOUT_S
            ),
        ]
        failing = False
        try:
            while True:
                try:
                    await self.step()
                    if failing:
                        log.info("Home Assistant publishing recovered")
                    failing = False
                except MqttError as e:
                    if not failing:
                        log.warning("Home Assistant publish failed (will retry): %s", e)
                    failing = True
                await self._pause()
        finally:
            for sub in subs:
                sub.close()
            if self.client.connected:
                with contextlib.suppress(MqttError, TimeoutError):
                    await self._publish(self.topics.availability, "offline", retain=True)

    async def _pause(self) -> None:
        self.wake.clear()
        sleeper = asyncio.ensure_future(self.agent.clock.sleep(self.settings.publish_every_s))
        waker = asyncio.ensure_future(self.wake.wait())
        try:
            await asyncio.wait([sleeper, waker], return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()


async def run_bridge(agent: RunningAgent, settings: HomeAssistant) -> None:
    await Bridge(agent, settings).run()
