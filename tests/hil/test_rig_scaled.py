"""The rig's own update loop on an accelerated clock."""

from __future__ import annotations

import asyncio

from agent.clock import ScaledClock
from hil.plant import WINTER
from hil.rig import Rig
from hil.rig_settings import RigSettings
from tests.hil.conftest import NOON
from tests.support.mosquitto import MosquittoBroker


async def test_rig_runs_faster_than_real_time(broker: MosquittoBroker) -> None:
    clock = ScaledClock(NOON, speed=600.0)
    settings = RigSettings(broker_host=broker.host, broker_port=broker.port)
    steps = []
    async with Rig(WINTER, clock=clock, settings=settings) as rig:
        rig.on_step.append(lambda step, inputs: steps.append((step, inputs)))
        imported0 = rig.plant.meter.import_kwh
        await asyncio.sleep(1.0)  # ten simulated minutes
        sim_s = (rig.plant.now - NOON).total_seconds()
        # At least half the ten minutes, and never ahead of the clock (a loaded machine stretches
        # the wall second, so the upper bound is the clock's own reading, not 600 s).
        assert 300.0 < sim_s <= clock.monotonic_s() + 1e-6
        assert sum(step.dt_s for step, _ in steps) <= sim_s + 1e-6
        # A January noon in a heated house: the heat pump runs and the inverter's own
        # self-consumption logic (no agent command yet) stores the sun's surplus or covers the
        # deficit from the battery, so the battery moves by what PV and the loads leave.
        energy = rig.plant.energy_kwh
        assert energy["heat_pump"] > 0.0
        surplus_kwh = energy["pv"] - sum(v for d, v in energy.items() if d not in ("pv", "battery"))
        assert abs(energy["battery"]) > 0.01
        assert abs(energy["battery"] - surplus_kwh) < 0.05
        assert abs(rig.plant.meter.import_kwh - imported0) < 0.05
        assert rig.thermostat.published > 1 and rig.evse.published > 1
        assert all(step.dt_s <= settings.max_step_s + 1e-9 for step, _ in steps)
        assert any(inputs.heat_pump_kw > 0 for _, inputs in steps)
