"""The embedded broker (the demo's fallback without Mosquitto) with real paho clients: v3.1.1 and
v5, QoS 1, retained messages, last will, and a persistent session that queues while away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hil.rig_settings import free_port
from hil.sim.mini_broker import MiniBroker, topic_matches


@pytest.fixture
async def broker() -> AsyncIterator[MiniBroker]:
    b = MiniBroker("127.0.0.1", free_port())
    await b.start()
    yield b
    await b.stop()


def _client(cid: str, proto: Any, *, clean: bool = True) -> tuple[mqtt.Client, list[tuple[str, bytes]]]:
    got: list[tuple[str, bytes]] = []
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=cid,
        protocol=proto,
        clean_session=None if proto == mqtt.MQTTv5 else clean,
    )
    c.on_message = lambda _c, _u, m: got.append((m.topic, bytes(m.payload)))
    return c, got


async def _until(pred: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not pred():  # noqa: ASYNC110 - the condition is set by paho's thread, not by us
            await asyncio.sleep(0.02)


async def _publish(c: mqtt.Client, topic: str, payload: bytes, *, retain: bool = False) -> None:
    # The broker runs on this event loop: wait for the acknowledgement off the loop.
    info = c.publish(topic, payload, qos=1, retain=retain)
    await asyncio.to_thread(info.wait_for_publish, 5.0)


@pytest.mark.parametrize("proto", [mqtt.MQTTv311, mqtt.MQTTv5])
async def test_publish_subscribe_retained_and_will(broker: MiniBroker, proto: Any) -> None:
    sub, got = _client(f"sub-{proto}", proto)
    pub, _ = _client(f"pub-{proto}", proto)
    pub.will_set("home/status", b"offline", qos=1, retain=True)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    await _publish(pub, "home/retained", b"kept", retain=True)
    sub.connect("127.0.0.1", broker.port)
    sub.loop_start()
    try:
        sub.subscribe("home/#", qos=1)
        await _until(lambda: ("home/retained", b"kept") in got)
        await _publish(pub, "home/x/y", b"1")
        await _until(lambda: ("home/x/y", b"1") in got)
        pub.loop_stop()
        sock = pub.socket()
        assert sock is not None
        sock.close()  # dies without DISCONNECT: the broker sends the will
        await _until(lambda: ("home/status", b"offline") in got)
    finally:
        sub.loop_stop()
        sub.disconnect()


async def test_persistent_session_queues_while_away(broker: MiniBroker) -> None:
    away, got = _client("away", mqtt.MQTTv311, clean=False)
    away.connect("127.0.0.1", broker.port)
    away.loop_start()
    away.subscribe("q/#", qos=1)
    await _until(lambda: "away" in broker.sessions and "q/#" in broker.sessions["away"].subs)
    away.loop_stop()
    away.disconnect()
    await _until(lambda: broker.sessions["away"].conn is None)
    pub, _ = _client("pub", mqtt.MQTTv311)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    await _publish(pub, "q/1", b"while away")
    pub.loop_stop()
    pub.disconnect()
    back, got = _client("away", mqtt.MQTTv311, clean=False)
    back.connect("127.0.0.1", broker.port)
    back.loop_start()
    try:
        await _until(lambda: ("q/1", b"while away") in got)
    finally:
        back.loop_stop()
        back.disconnect()


@pytest.mark.parametrize(
    ("flt", "topic", "match"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/#", "a", True),
        ("a/+", "a/b/c", False),
        ("#", "$SYS/x", False),
        ("a/b", "a/b", True),
    ],
)
def test_topic_filters(flt: str, topic: str, match: bool) -> None:
    assert topic_matches(flt, topic) is match
