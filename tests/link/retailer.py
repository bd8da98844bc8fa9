"""A scripted retailer for the link tests: a plain paho client on the real broker.

It publishes what a retailer would (tenders, transactions, spot prices, raw payloads for the bad
cases) on ``<prefix>/<home>/to-home/<kind>`` and records everything the home sends under
``.../from-home/#``, decoded as JSON where it is JSON.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.link.topics import Topics

# Loopback PUBACKs take milliseconds; this only guards a loaded CI machine.
PUBLISH_TIMEOUT_S = 5.0
# As a real retailer's client: a persistent session, so what the home publishes while this client
# reconnects after a broker restart is kept for it rather than dropped.
SESSION_EXPIRY_S = 3600


@dataclass(frozen=True)
class Received:
    kind: str
    payload: bytes
    retain: bool

    @property
    def json(self) -> Any:
        return json.loads(self.payload)


class ScriptedRetailer:
    def __init__(self, host: str, port: int, topics: Topics, client_id: str = "retailer") -> None:
        self.topics = topics
        self._lock = threading.Lock()
        self._got: list[Received] = []
        self.connected = threading.Event()
        self._paho = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self._paho.on_connect = self._on_connect
        self._paho.on_message = self._on_message
        self._paho.on_disconnect = lambda *_a: self.connected.clear()
        self._paho.reconnect_delay_set(1, 1)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        # Never a clean start, not even on the first connect: Mosquitto 2.0 does not carry a session
        # that began with a clean start across its own restart (what the home published while this
        # client was reconnecting was dropped). Each test has its own broker, so nothing is left over.
        self._paho.connect(host, port, clean_start=False, properties=props)
        self._paho.loop_start()
        if not self.connected.wait(PUBLISH_TIMEOUT_S):
            raise TimeoutError("scripted retailer could not connect")

    def _on_connect(self, client: mqtt.Client, *_a: Any) -> None:
        client.subscribe(f"{self.topics.outbound_base}/#", qos=1)
        self.connected.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        kind = msg.topic.rsplit("/", 1)[-1]
        with self._lock:
            self._got.append(Received(kind, bytes(msg.payload), bool(msg.retain)))

    def publish_raw(self, kind: str, payload: bytes | str, *, retain: bool = False) -> None:
        topic = f"{self.topics.base}/to-home/{kind}"
        info = self._paho.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(PUBLISH_TIMEOUT_S)
        if not info.is_published():
            raise TimeoutError(f"retailer publish to {topic} not acknowledged")

    def publish_many(self, messages: Sequence[tuple[str, bytes]], timeout_s: float = 60.0) -> None:
        """Publish a batch without waiting for each PUBACK in turn; returns once all are acked."""
        infos = [self._paho.publish(f"{self.topics.base}/to-home/{k}", p, qos=1) for k, p in messages]
        deadline = time.monotonic() + timeout_s
        for info in infos:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            if not info.is_published():
                raise TimeoutError(f"{len(infos)} retailer publishes not acknowledged within {timeout_s} s")

    def publish(self, kind: str, obj: dict[str, Any]) -> None:
        self.publish_raw(kind, json.dumps(obj))

    def received(self, kind: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._got if kind is None or r.kind == kind]

    async def wait_for(
        self, kind: str, predicate: Callable[[list[Received]], bool] = bool, timeout_s: float = 10.0
    ) -> list[Received]:
        async with asyncio.timeout(timeout_s):
            while True:
                got = self.received(kind)
                if predicate(got):
                    return got
                await asyncio.sleep(0.02)

    def close(self) -> None:
        self._paho.disconnect()
        self._paho.loop_stop()


async def until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll ``predicate`` until true: the state lives in other threads (paho, the broker) that
    cannot set an asyncio event for us."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
