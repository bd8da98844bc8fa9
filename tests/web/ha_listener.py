"""A plain paho client standing in for Home Assistant: records every message per topic."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

WAIT_S = 30.0


class HaListener:
    def __init__(self, host: str, port: int, filters: list[str]) -> None:
        self.history: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"home-assistant-{id(self)}"
        )  # unique: a shared id kicks the other off
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_a: c.subscribe([(f, 1) for f in filters])
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.history.setdefault(msg.topic, []).append(bytes(msg.payload))

    def forget(self, topic: str) -> None:
        with self.lock:
            self.history.pop(topic, None)

    def latest(self, topic: str) -> bytes | None:
        with self.lock:
            got = self.history.get(topic)
            return got[-1] if got else None

    def latest_all(self) -> dict[str, bytes]:
        with self.lock:
            return {topic: got[-1] for topic, got in self.history.items() if got}

    def wait_for(
        self, topic: str, accept: Callable[[bytes], bool], what: str, timeout_s: float = WAIT_S
    ) -> bytes:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            payload = self.latest(topic)
            if payload is not None and accept(payload):
                return payload
            time.sleep(0.05)
        raise AssertionError(f"{what}: last on {topic} was {self.latest(topic)!r}")

    def wait_json(self, topic: str, accept: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        return dict(json.loads(self.wait_for(topic, lambda p: accept(json.loads(p)), what)))

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5.0)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
