"""What every emulated MQTT device shares: its own paho client with its own last will.

Each emulated device is a separate MQTT client, as the real ones are, so each has the last will
its topic map expects (the project's client always wills ``<prefix>/status offline``, which is the
agent's convention, not a Shelly's or Zigbee2MQTT's). paho's network thread only hands received
commands to the event loop; state lives on the loop.

State is published live (not retained: the agent's driver does not take retained values as
current) whenever it changes and at least every ``publish_every_s`` of the rig's clock.
``silent = True`` stops publishing (a device that hangs while its TCP connection stays up);
``stop()`` disconnects without saying goodbye, so the broker publishes the last will.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hil.errors import EmulatorError

_log = logging.getLogger("hil.mqtt")

# A broker on loopback or the LAN accepts a connection within milliseconds; seconds mean trouble.
CONNECT_TIMEOUT_S = 10.0


def as_payload(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


class MqttEmulator:
    """Base class: subclasses set ``command_topics`` and implement ``handle`` and ``state_messages``."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        base_topic: str,
        *,
        will: tuple[str, str] | None = None,
        online: tuple[str, str] | None = None,
        publish_every_s: float = 10.0,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.base = base_topic
        self.will = will
        self.online = online
        self.publish_every_s = publish_every_s
        self.silent = False
        self.commands = 0
        self.published = 0
        self._last_sent: dict[str, str] = {}
        self._last_full_s = -float("inf")
        self._client: mqtt.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = asyncio.Event()

    # -- to be provided by devices --------------------------------------------------------------

    command_topics: tuple[str, ...] = ()

    def handle(self, topic: str, payload: bytes) -> None:
        """Act on a command (on the event loop); publish what changed via :meth:`publish_state`."""

    def state_messages(self) -> Mapping[str, Any]:
        """Topic -> payload (str, or a JSON-able object) of the device's current state."""
        return {}

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._client is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._connected.clear()
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"hil-{self.name}-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        if self.will is not None:
            client.will_set(self.will[0], self.will[1], qos=1, retain=True)
        client.on_connect = self._cb_connect
        client.on_message = self._cb_message
        client.reconnect_delay_set(1, 5)
        self._client = client
        client.connect_async(self.host, self.port, keepalive=30)
        client.loop_start()
        try:
            await asyncio.wait_for(self._connected.wait(), CONNECT_TIMEOUT_S)
        except TimeoutError as e:
            await self.stop()
            raise EmulatorError(f"{self.name}: no broker at {self.host}:{self.port}") from e

    async def stop(self) -> None:
        """Drop off the network uncleanly: the broker publishes the last will."""
        client, self._client = self._client, None
        if client is None:
            return
        sock = client.socket()
        # Off the event loop: paho's network thread sleeps in select() for up to a second before
        # it sees the stop, and at 2400x a second of a blocked rig is 40 simulated minutes in
        # which no other emulated device publishes (the car's charger went stale mid-charge).
        await asyncio.to_thread(client.loop_stop)
        if sock is not None:
            sock.close()  # no DISCONNECT packet: the will is sent, as when a device loses power
        self._last_sent.clear()

    async def close(self) -> None:
        """A clean stop: say offline, then disconnect."""
        client, self._client = self._client, None
        if client is None:
            return
        if self.will is not None and client.is_connected():
            client.publish(self.will[0], self.will[1], qos=1, retain=True).wait_for_publish(2.0)
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)

    @property
    def running(self) -> bool:
        return self._client is not None

    # -- publishing -----------------------------------------------------------------------------

    def publish(self, topic: str, payload: Any, *, retain: bool = False) -> None:
        if self._client is None or not self._client.is_connected():
            return
        self._client.publish(topic, as_payload(payload), qos=0 if not retain else 1, retain=retain)
        self.published += 1

    def publish_state(self, now_s: float, *, force: bool = False) -> None:
        """Publish topics whose payload changed; everything when the period is up or ``force``."""
        if self.silent:
            return
        full = force or now_s - self._last_full_s >= self.publish_every_s
        for topic, payload in self.state_messages().items():
            text = as_payload(payload)
            if full or self._last_sent.get(topic) != text:
                self.publish(topic, text)
                self._last_sent[topic] = text
        if full and not force:
            self._last_full_s = now_s

    # -- paho callbacks (network thread) --------------------------------------------------------

    def _cb_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            return
        for topic in self.command_topics:
            client.subscribe(topic, qos=1)
        if self.online is not None:
            client.publish(self.online[0], self.online[1], qos=1, retain=True)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_connected)

    def _on_connected(self) -> None:
        self._last_sent.clear()
        self._connected.set()

    def _cb_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_command, msg.topic, bytes(msg.payload))

    def _on_command(self, topic: str, payload: bytes) -> None:
        self.commands += 1
        try:
            self.handle(topic, payload)
        except (ValueError, KeyError, TypeError) as e:
            # A real device ignores a command it cannot parse; say so in the rig's log.
            _log.info("%s: ignored command on %s (%r): %s", self.name, topic, payload[:80], e)
