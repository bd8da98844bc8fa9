"""The in-process bus keeps the broker behaviour the link and the retailer rely on."""

from __future__ import annotations

import asyncio

import pytest

from drivers.mqtt.client import Message
from drivers.mqtt.errors import MqttNotConnected, MqttTimeout
from hil.fast.bus import Bus
from hil.fast.vloop import run_virtual


def test_messages_reach_matching_subscriptions_in_order_one_turn_later() -> None:
    async def main() -> tuple[list[str], list[str]]:
        bus = Bus()
        pub, sub = bus.client("pub"), bus.client("sub")
        got: list[str] = []
        await sub.subscribe("home/+/tender", lambda m: got.append(m.payload.decode()))
        await pub.start()
        await sub.start()
        await pub.publish("home/a/tender", "1")
        await pub.publish("home/a/spot", "x")  # no match
        await pub.publish("home/b/tender", b"2")
        before = list(got)  # a broker is never re-entrant: nothing delivered inside publish
        await asyncio.sleep(0)
        return before, got

    before, got = run_virtual(main())
    assert before == []
    assert got == ["1", "2"]


def test_retained_messages_reach_a_late_subscriber_and_an_empty_one_clears() -> None:
    async def main() -> list[tuple[str, bool]]:
        bus = Bus()
        pub, sub = bus.client("pub"), bus.client("sub")
        await pub.start()
        await sub.start()
        await pub.publish("weather/t", "20", retain=True)
        await pub.publish("weather/g", "300", retain=True)
        await pub.publish("weather/g", "", retain=True)
        got: list[tuple[str, bool]] = []
        await sub.subscribe("weather/#", lambda m: got.append((m.payload.decode(), m.retain)))
        await asyncio.sleep(0)
        return got

    assert run_virtual(main()) == [("20", True)]


def test_a_persistent_session_gets_unacknowledged_and_missed_messages_after_an_outage() -> None:
    async def main() -> tuple[list[str], int, list[str]]:
        bus = Bus()
        pub, link = bus.client("retailer"), bus.client("link", persistent=True)
        seen: list[Message] = []
        await link.subscribe("to-home/#", seen.append)
        await pub.start()
        await link.start()
        await pub.publish("to-home/tender", "a")
        await pub.publish("to-home/tender", "b")
        await asyncio.sleep(0)
        link.ack(seen[0])  # "b" stays unacknowledged
        bus.down()
        with pytest.raises(MqttNotConnected):
            await pub.publish("to-home/tender", "lost")
        connects_before = link.connects
        bus.up()
        await pub.publish("to-home/tender", "c")
        await asyncio.sleep(0)
        payloads = [m.payload.decode() for m in seen]
        return payloads[:2], link.connects - connects_before, payloads[2:]

    first, reconnects, after = run_virtual(main())
    assert first == ["a", "b"]
    assert reconnects == 1
    assert after == ["b", "c"]  # redelivered, then the new one; a publish refused while down is gone


def test_waiting_for_a_connection_times_out_on_virtual_time() -> None:
    async def main() -> float:
        bus = Bus()
        c = bus.client("link")
        bus.down()
        await c.start()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(MqttTimeout):
            await c.wait_connected(30.0)
        return loop.time() - t0

    assert run_virtual(main()) == pytest.approx(30.0)


def test_a_failing_handler_does_not_stop_the_others() -> None:
    async def main() -> tuple[list[str], int]:
        bus = Bus()
        pub, sub = bus.client("pub"), bus.client("sub")
        got: list[str] = []

        def bad(_: Message) -> None:
            raise ValueError("bug")

        await sub.subscribe("t", bad)
        await sub.subscribe("t", lambda m: got.append(m.payload.decode()))
        await pub.start()
        await sub.start()
        await pub.publish("t", "ok")
        await asyncio.sleep(0)
        return got, sub.handler_errors

    assert run_virtual(main()) == (["ok"], 1)
