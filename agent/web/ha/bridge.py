"""The Home Assistant bridge: discovery configs, periodic state, and commands from HA.

Uses the agent's connection to the configured broker (the one the devices share), whose MQTT
last will is the entities' availability topic. Configs and ``online`` are published retained
after every (re)connect and whenever HA announces itself on ``<discovery_prefix>/status``; the
state and forecast documents every ``publish_every_s`` of the agent's clock and at once after a
command or a change made on the page. A command goes through the same validation as the web
controls (:func:`agent.web.controls.apply`; the agent then saves the settings); a bad one is logged
and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from agent.config.devices import EvCharger
from agent.config.sections import HomeAssistant
from agent.errors import HemsError
from agent.planning import planned_devices
from agent.web import controls, live
from agent.web.errors import RequestError, WebError
from agent.web.ha.discovery import Device, Topics, config_payload
from agent.web.ha.entities import BOOST_H, WATER_HEATER_MODES, commands, entities
from agent.web.ha.state import forecast_document, month_cost, state_document
from agent.web.respond import dumps
from drivers.mqtt.client import OFFLINE, ONLINE, Message, MqttClient
from drivers.mqtt.errors import MqttError
from drivers.mqtt.factory import broker_key

if TYPE_CHECKING:
    from agent.runtime.app import RunningAgent

log = logging.getLogger(__name__)

# A PUBACK on a LAN broker takes milliseconds; this bounds a broker that stopped answering.
PUBLISH_TIMEOUT_S = 5.0
SWITCH_VALUES = {"ON": True, "OFF": False}
WILDCARD_BINDS = ("0.0.0.0", "::")
# Real seconds the bridge waits for the agent's first cycle (the first plan compiles the QP).
FIRST_CYCLE_WAIT_S = 60.0
# The bill is read from the ledger; once a minute is fresh enough for a monthly figure.
COST_EVERY_S = 60.0


def node_id(site_id: str) -> str:
    """HA's node ids allow [a-zA-Z0-9_-]; a site id may hold more."""
    return "hems_" + re.sub(r"[^a-zA-Z0-9_-]", "_", site_id)


def _client(agent: RunningAgent, broker: str) -> MqttClient:
    def missing() -> MqttClient:
        raise WebError(f"web.home_assistant.broker: broker {broker!r} is not connected")

    return agent.ctx.links.get_or_create(broker_key(broker), MqttClient, missing)


def command_body(key: str, payload: bytes, kinds: dict[str, str]) -> dict[str, Any]:
    """The controls body for one HA command; raises :class:`RequestError` naming the key."""
    kind = kinds.get(key)
    if kind is None:
        raise RequestError(key, "not a command hems offers")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise RequestError(key, "payload is not UTF-8 text") from None
    if kind == "switch":
        if text not in SWITCH_VALUES:
            raise RequestError(key, f"must be ON or OFF (got {text[:40]!r})")
        return {key: SWITCH_VALUES[text]}
    if kind == "button":  # the only button: charge the EV now
        return {"ev_mode": "now"}
    if kind == "water_heater_mode":
        if text not in WATER_HEATER_MODES:
            raise RequestError(key, f"must be one of {', '.join(WATER_HEATER_MODES)} (got {text[:40]!r})")
        boost_h = BOOST_H if text == "high_demand" else 0.0
        return {"water_heater_hold": text == "off", "water_heater_boost_h": boost_h}
    if kind in ("text", "select"):
        return {key: text or None}
    try:
        value = float(text)
    except ValueError:
        raise RequestError(key, f"must be a number (got {text[:40]!r})") from None
    return {key: value}


def configuration_url(agent: RunningAgent) -> str | None:
    """The status page, when the web server listens on an address others can reach."""
    web = agent.config.web
    if web.home_assistant is not None and web.home_assistant.configuration_url is not None:
        return web.home_assistant.configuration_url
    if web.bind in WILDCARD_BINDS or web.bind.startswith("127.") or web.bind == "::1" or not web.enabled:
        return None
    host = f"[{web.bind}]" if ":" in web.bind else web.bind
    return f"http://{host}:{web.port}/"


class Bridge:
    def __init__(self, agent: RunningAgent, settings: HomeAssistant) -> None:
        self.agent = agent
        self.settings = settings
        site = agent.config.site.id
        self.client = _client(agent, settings.broker)
        # Availability is the connection's last-will topic: the broker says "offline" there
        # when the agent dies without a word.
        self.topics = Topics(
            settings.discovery_prefix,
            f"{settings.base_topic}/{site}",
            self.client.settings.availability_topic,
        )
        self.device = Device(node_id(site), site, configuration_url(agent))
        flow_keys = [f.key for f in live.flows(agent)]
        roles = set(planned_devices(agent.config))
        if any(d.role == "pv_inverter" for d in agent.config.devices.values()):
            roles.add("pv")
        if any(isinstance(d, EvCharger) and d.v2g for d in agent.config.devices.values()):
            roles.add("v2g")
        self.entities = entities(
            agent.config.site.currency, flow_keys, roles, agent.config.devices, agent.link is not None
        )
        self.kinds = commands(self.entities)
        self.cost: tuple[float, str] | None = None
        self.cost_read_s: float | None = None
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
            controls.apply(self.agent, command_body(key, msg.payload, self.kinds))
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
        for e in self.entities:
            payload = json.dumps(config_payload(e, self.topics, self.device))
            await self._publish(self.topics.config(e, self.device.node), payload, retain=True)
        await self._publish(self.topics.availability, ONLINE, retain=True)
        self.announced_at = self.client.connects

    async def _read_cost(self) -> None:
        mono_s = self.agent.clock.monotonic_s()
        if self.cost_read_s is not None and mono_s - self.cost_read_s < COST_EVERY_S:
            return
        self.cost_read_s = mono_s
        now = self.agent.clock.now()
        try:
            self.cost = await asyncio.wait_for(
                asyncio.to_thread(month_cost, self.agent, now), PUBLISH_TIMEOUT_S
            )
        except (HemsError, TimeoutError) as e:
            self.cost = None  # published as unknown rather than as a stale or made-up sum
            log.warning("Home Assistant cost sensor: the bill could not be read: %s", e)

    async def publish_state(self) -> None:
        await self._read_cost()
        await self._publish(self.topics.state, dumps(state_document(self.agent, self.cost)), retain=True)
        await self._publish(self.topics.forecast, dumps(forecast_document(self.agent)), retain=True)

    async def step(self) -> None:
        if not self.client.connected:
            return
        if self.announced_at != self.client.connects:
            await self.announce()
        await self.publish_state()

    async def run(self) -> None:
        # A document published before the first cycle would hold nothing but nulls, retained
        # over the last good one; a cycle that never completes must not silence HA for good.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.agent.first_cycle.wait(), FIRST_CYCLE_WAIT_S)
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
                # Cleared before publishing, not after: a command that arrives while the
                # documents are being published wakes the next round instead of being lost.
                self.wake.clear()
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
                    await self._publish(self.topics.availability, OFFLINE, retain=True)

    async def _pause(self) -> None:
        sleeper = asyncio.ensure_future(self.agent.clock.sleep(self.settings.publish_every_s))
        waker = asyncio.ensure_future(self.wake.wait())
        try:
            await asyncio.wait([sleeper, waker], return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()


async def run_bridge(agent: RunningAgent, settings: HomeAssistant) -> None:
    await Bridge(agent, settings).run()
