"""The water-heater relay through gpiozero pins, and the generated agent config."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from gpiozero.pins.mock import MockFactory

from agent.cli.main import main
from agent.clock import ManualClock
from agent.config import load_config
from drivers.assembly import build_devices
from drivers.base import DeviceContext
from drivers.gpio.pins import GpioPins
from hil.plant import SUMMER, WINTER, HomeParams
from hil.rig import Rig
from hil.rig_settings import RigSettings
from tests.hil.conftest import NOON
from tests.support.mosquitto import MosquittoBroker


async def test_agent_relay_pin_powers_the_tank_element(tmp_path: Path) -> None:
    clock = ManualClock(NOON)
    factory = MockFactory()
    settings = RigSettings(water_heater_link="gpio", relay_pin=17, pin_factory=factory)
    rig = Rig(SUMMER, clock=clock, settings=settings)
    await rig.start()
    config = load_config(rig.write_config(tmp_path / "hems.yaml", state_dir=tmp_path / "state"))
    ctx = DeviceContext(clock=clock)
    # One process, one pin factory: the agent's relay drives the pin the rig reads.
    ctx.links.get_or_create(GpioPins.link_key, GpioPins, lambda: GpioPins(factory))
    relay = build_devices(config, ctx, ["water_heater"])["water_heater"]
    await relay.start()
    try:
        switch = relay.capabilities.switch
        assert switch is not None
        clock.advance(120.0)  # past the relay's minimum off time after start-up
        rig.advance()
        await switch.set_on(True)
        for _ in range(50):
            await asyncio.sleep(0.01)
            if rig.relay is not None and rig.relay.closed():
                break
        clock.advance(30.0)
        rig.advance()
        assert rig.plant.last is not None
        assert rig.plant.last.powers_kw["water_heater"] == SUMMER.element_kw
        await relay.stop()  # safe state: off at once
        clock.advance(30.0)
        rig.advance()
        assert rig.plant.last.powers_kw["water_heater"] == 0.0
    finally:
        await relay.stop()
        await rig.stop()


@pytest.mark.parametrize("params", [SUMMER, WINTER], ids=["summer", "winter"])
@pytest.mark.parametrize("link", ["mqtt", "gpio"])
async def test_generated_config_passes_check_config(tmp_path: Path, params: HomeParams, link: str) -> None:
    with MosquittoBroker(tmp_path / "broker") as broker:
        settings = RigSettings(broker_host=broker.host, broker_port=broker.port, water_heater_link=link)  # type: ignore[arg-type]
        rig = Rig(params, clock=ManualClock(NOON), settings=settings)
        path = rig.write_config(tmp_path / "hems.yaml", state_dir=tmp_path / "state")
    assert main(["check-config", str(path)]) == 0
    doc = yaml.safe_load(path.read_text())
    assert doc["devices"]["grid"]["driver"]["port"] == rig.meter.port
    assert doc["devices"]["battery"]["driver"]["port"] == rig.inverter.port
    assert doc["devices"]["thermostat"]["mode"] == params.mode
    assert doc["devices"]["thermostat"]["house"]["r_k_per_kw"] == params.house_r_k_per_kw
    wh_driver = doc["devices"]["water_heater"]["driver"]
    assert wh_driver["type"] == ("gpio_relay" if link == "gpio" else "mqtt")
    assert doc["mqtt_brokers"]["rig"]["port"] == broker.port


def test_lan_bind_advertises_loopback_unless_told() -> None:
    assert RigSettings(bind_host="0.0.0.0").host_for_clients == "127.0.0.1"
    assert RigSettings(bind_host="0.0.0.0", advertise_host="192.0.2.10").host_for_clients == "192.0.2.10"
