"""The retailer link's timers on virtual time: heartbeats every ``heartbeat_s`` and right after a
reconnect, the outbox delivering as soon as something is queued — with no polling in between."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from agent.ledger import Ledger
from agent.link import RetailerLink
from agent.link.outbox import Outbox
from agent.link.topics import Outbound, Topics
from drivers.mqtt.client import Message
from hil.fast.bus import Bus
from hil.fast.clock import VirtualClock
from hil.fast.vloop import run_virtual
from tests.link.helpers import BERLIN, HOME, START, delivery, settings

HEARTBEAT_S = 30.0


async def _link(bus: Bus, clock: VirtualClock, state_dir: Path) -> RetailerLink:
    ledger = Ledger.open(state_dir, BERLIN, home_party=HOME, clock=clock)
    link = RetailerLink(
        settings=settings(heartbeat_s=HEARTBEAT_S),
        client=bus.client("retailer link", persistent=True).as_mqtt(),
        outbox=Outbox.open(state_dir),
        ledger=ledger,
        clock=clock,
    )
    await link.start()
    return link


async def _retailer(bus: Bus, kind: Outbound, clock: VirtualClock) -> list[float]:
    """The monotonic times at which the retailer receives ``kind`` from the home (subscribed
    before the home's link starts, so every message arrives live)."""
    got: list[float] = []
    retailer = bus.client("retailer")

    def on(msg: Message) -> None:
        if not msg.retain:  # a reconnect also hands the retailer the retained heartbeat again
            got.append(clock.monotonic_s())

    await retailer.subscribe(Topics(settings().topic_prefix, HOME).from_home(kind), on)
    await retailer.start()
    return got


def test_heartbeats_go_out_every_heartbeat_s_and_right_after_a_reconnect(tmp_path: Path) -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        clock = VirtualClock(START, loop)
        bus = Bus()
        beats = await _retailer(bus, Outbound.HEARTBEAT, clock)
        link = await _link(bus, clock, tmp_path)
        await clock.sleep(95.0)
        bus.down()  # the broker goes away for 5.5 s, mid-period
        await clock.sleep(5.5)
        bus.up()
        await clock.sleep(70.0)
        await link.stop()
        return beats[:-1]  # the last one says the link stopped

    beats = run_virtual(main())
    # Every 30 s from the start; at the reconnect (100.5 s) at once, then every 30 s from there.
    assert beats == [0.0, 30.0, 60.0, 90.0, 100.5, 130.5, 160.5]


def test_the_outbox_delivers_as_soon_as_a_message_is_queued_after_a_long_idle(tmp_path: Path) -> None:
    async def main() -> tuple[float, list[float]]:
        loop = asyncio.get_running_loop()
        clock = VirtualClock(START, loop)
        bus = Bus()
        got = await _retailer(bus, Outbound.DELIVERY, clock)
        link = await _link(bus, clock, tmp_path)
        await clock.sleep(1234.5)  # idle far beyond any polling period
        queued_at = clock.monotonic_s()
        await link.send_delivery(delivery(START + timedelta(hours=2)))
        await clock.sleep(10.0)
        await link.stop()
        return queued_at, got

    queued_at, got = run_virtual(main())
    assert got == [queued_at]  # on the same virtual instant: the enqueue woke the pump
