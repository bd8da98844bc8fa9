"""An in-process message bus in place of the MQTT broker, for the virtual-time simulation.

It carries the very bytes and topics the retailer link, the retailer simulator and the weather
service exchange over MQTT, with the broker behaviour they rely on:

* delivery to every matching subscription (MQTT wildcards, paho's matcher), one event-loop turn
  after the publish (a broker is never re-entrant), in publish order;
* retained messages, delivered to a new subscription and again after a reconnect;
* persistent sessions with manual acknowledgements (the link's and the retailer's): a message
  delivered but not acknowledged is delivered again after the next reconnect (as Mosquitto does
  for a QoS 1 message of a persistent session), and messages for a session that is offline wait
  for it;
* an outage (:meth:`Bus.down`): every client is disconnected, publishing fails with
  :class:`~drivers.mqtt.errors.MqttNotConnected`, and on :meth:`Bus.up` every started client
  reconnects (``connects`` counts up, as the link watches it).

:class:`BusClient` implements the part of :class:`~drivers.mqtt.client.MqttClient` those users
call (``start``, ``wait_connected``, ``close``, ``publish``, ``subscribe``, ``ack``,
``connected``, ``connects``, ``name``); it is handed to them in its place.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field
from typing import cast

import paho.mqtt.client as mqtt

from drivers.mqtt.client import ConnectionState, Message, MessageHandler, MqttClient
from drivers.mqtt.errors import MqttNotConnected, MqttTimeout

_log = logging.getLogger("hil.fast.bus")


@functools.lru_cache(maxsize=8192)
def _topic_matches(topic_filter: str, topic: str) -> bool:
    # paho's matcher builds a trie per call; a run routes the same few hundred topics a
    # hundred thousand times a simulated week.
    return bool(mqtt.topic_matches_sub(topic_filter, topic))


class BusSubscription:
    """A handler on a topic filter; ``close()`` removes it."""

    def __init__(self, client: BusClient, topic_filter: str, handler: MessageHandler) -> None:
        self._client = client
        self.topic_filter = topic_filter
        self.handler = handler
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._client.subs.remove(self)


@dataclass
class Bus:
    """The broker: retained messages, clients, up or down."""

    is_up: bool = True
    retained: dict[str, Message] = field(default_factory=dict)
    clients: list[BusClient] = field(default_factory=list)
    published: int = 0
    _mid: int = 0

    def client(self, name: str, *, persistent: bool = False) -> BusClient:
        c = BusClient(self, name, persistent=persistent)
        self.clients.append(c)
        return c

    def next_mid(self) -> int:
        self._mid += 1
        return self._mid

    def route(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.published += 1
        if retain:
            if payload:
                self.retained[topic] = Message(topic, payload, True, qos)
            else:
                self.retained.pop(topic, None)  # an empty retained message clears the topic
        for c in self.clients:
            c.offer(Message(topic, payload, False, qos, self.next_mid()))

    def down(self) -> None:
        """The broker stops: every connection breaks."""
        self.is_up = False
        for c in self.clients:
            c.lost()

    def up(self) -> None:
        """The broker is back: every started client reconnects."""
        self.is_up = True
        for c in self.clients:
            if c.started:
                c.connect()


class BusClient:
    def __init__(self, bus: Bus, name: str, *, persistent: bool) -> None:
        self.bus = bus
        self.name = name
        # Like MqttClient.session_expiry_s: a persistent session, acknowledged by hand.
        self.session_expiry_s: int | None = 3600 if persistent else None
        self.subs: list[BusSubscription] = []
        self.connects = 0
        self.handler_errors = 0
        self.started = False
        self.state = ConnectionState.IDLE
        self._changed = asyncio.Event()
        self._unacked: dict[int, Message] = {}  # delivered, not yet acknowledged (persistent)
        self._waiting: list[Message] = []  # arrived while offline (persistent)

    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED

    def as_mqtt(self) -> MqttClient:
        """This client where an :class:`MqttClient` is expected (it implements the part used)."""
        return cast(MqttClient, self)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        self.state = ConnectionState.CONNECTING
        if self.bus.is_up:
            self.connect()

    def connect(self) -> None:
        self.state = ConnectionState.CONNECTED
        self.connects += 1
        self._changed.set()
        self._changed = asyncio.Event()
        again = sorted(self._unacked.values(), key=lambda m: m.mid) + self._waiting
        self._unacked, self._waiting = {}, []
        loop = asyncio.get_running_loop()
        for sub in list(self.subs):
            self._send_retained(sub, loop)
        for m in again:
            loop.call_soon(self._deliver, Message(m.topic, m.payload, False, m.qos, m.mid))

    def lost(self) -> None:
        if self.state is ConnectionState.CONNECTED:
            self.state = ConnectionState.DISCONNECTED if self.started else ConnectionState.IDLE
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait_connected(self, timeout_s: float) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                while not self.connected:
                    if not self.started:
                        raise MqttNotConnected("client is not started", device=self.name)
                    await self._changed.wait()
        except TimeoutError as e:
            raise MqttTimeout(f"not connected after {timeout_s:g} s", device=self.name) from e

    async def wait_changed(self) -> None:
        await self._changed.wait()

    async def close(self) -> None:
        self.started = False
        self.lost()
        self.state = ConnectionState.IDLE

    # -- publish / subscribe --------------------------------------------------------------------

    async def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False,
        timeout_s: float | None = None,
    ) -> None:  # fmt: skip
        if not self.connected:
            raise MqttNotConnected(f"cannot publish to {topic}: {self.state}", device=self.name)
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        self.bus.route(topic, data, qos, retain)

    async def subscribe(
        self, topic_filter: str, handler: MessageHandler, *, qos: int = 1, timeout_s: float | None = None
    ) -> BusSubscription:
        sub = BusSubscription(self, topic_filter, handler)
        self.subs.append(sub)
        if self.connected:
            self._send_retained(sub, asyncio.get_running_loop())
        return sub

    def ack(self, msg: Message) -> None:
        self._unacked.pop(msg.mid, None)

    # -- delivery -------------------------------------------------------------------------------

    def _matches(self, topic: str) -> bool:
        return any(not s.closed and _topic_matches(s.topic_filter, topic) for s in self.subs)

    def offer(self, msg: Message) -> None:
        """A message the broker routes; delivered on the next loop turn if anyone here wants it."""
        if not self._matches(msg.topic):
            return
        if self.connected:
            asyncio.get_running_loop().call_soon(self._deliver, msg)
        elif self.session_expiry_s is not None and self.started:
            self._waiting.append(msg)

    def _send_retained(self, sub: BusSubscription, loop: asyncio.AbstractEventLoop) -> None:
        for topic in sorted(self.bus.retained):
            m = self.bus.retained[topic]
            if _topic_matches(sub.topic_filter, topic):
                msg = Message(topic, m.payload, True, m.qos, self.bus.next_mid())
                loop.call_soon(self._deliver_one, sub, msg)

    def _deliver(self, msg: Message) -> None:
        if not self.connected:
            if self.session_expiry_s is not None:
                self._waiting.append(msg)
            return
        if self.session_expiry_s is not None and msg.qos > 0:
            self._unacked[msg.mid] = msg
        for sub in list(self.subs):
            if not sub.closed and _topic_matches(sub.topic_filter, msg.topic):
                self._call(sub, msg)

    def _deliver_one(self, sub: BusSubscription, msg: Message) -> None:
        if self.connected and not sub.closed:
            self._call(sub, msg)

    def _call(self, sub: BusSubscription, msg: Message) -> None:
        try:
            sub.handler(msg)
        except Exception:
            # As MqttClient: a handler bug must not stop delivery to the others.
            self.handler_errors += 1
            _log.exception("%s: handler for %s failed on %s", self.name, sub.topic_filter, msg.topic)
