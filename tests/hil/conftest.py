"""Fixtures: a real Mosquitto broker, a rig on a manual clock, the project's drivers on the rig's config."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.clock import ManualClock
from agent.config import load_config
from agent.config.model import Config
from drivers.assembly import add_brokers, build_devices
from drivers.base import Device, DeviceContext
from drivers.errors import DriverError
from drivers.mqtt.client import MqttClient
from drivers.mqtt.factory import broker_key
from hil.plant import SUMMER
from hil.rig import Rig
from hil.rig_settings import RigSettings
from tests.support.mosquitto import MosquittoBroker

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    with MosquittoBroker(tmp_path / "broker") as b:
        yield b


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOON)


@pytest.fixture
async def rig(clock: ManualClock, broker: MosquittoBroker) -> AsyncIterator[Rig]:
    settings = RigSettings(broker_host=broker.host, broker_port=broker.port, publish_every_s=5.0)
    r = Rig(SUMMER, clock=clock, settings=settings)
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


def rig_config(rig: Rig, tmp_path: Path) -> Config:
    path = rig.write_config(tmp_path / "hems.yaml", state_dir=tmp_path / "state")
    return load_config(path)


@pytest.fixture
async def agent_devices(rig: Rig, clock: ManualClock, tmp_path: Path) -> AsyncIterator[dict[str, Device]]:
    """The agent's own drivers for every device of the rig's config, started."""
    config = rig_config(rig, tmp_path)
    ctx = DeviceContext(clock=clock)
    add_brokers(config, ctx)
    devices = build_devices(config, ctx)
    for d in devices.values():
        await d.start()
    for name in config.mqtt_brokers:
        client = ctx.links.get_or_create(broker_key(name), MqttClient, lambda: pytest.fail("no broker link"))
        await client.wait_connected(10.0)
    for d in devices.values():  # subscriptions that waited for the connection go out now
        with contextlib.suppress(DriverError):
            await d.refresh()
    try:
        yield devices
    finally:
        for d in devices.values():
            await d.stop()
        await ctx.links.close_all()
