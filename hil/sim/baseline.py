"""The baseline: the same home under ordinary rules, simulated directly (no agent, no trading).

The rules are the devices' own control, written once in :mod:`hil.plant.own_control` (and used
by the rig and the ``simulated`` driver for every device nobody commands): the thermostat holds
the comfort target, the water heater runs on its tank thermostat (on below target −
``TANK_HYSTERESIS_K``, off at the target), the hybrid inverter does self-consumption, the EV
charges at full rate from arrival until it is full, and PV is never curtailed.

Billing: with no forward transactions every metered kWh of a metering interval settles at that
interval's spot price, plus the DSO's network charge on imported and exported kWh, as the
retailer simulator bills a home that never trades (the same rules that bill the agent's
deviations from its position and its metered flows). Under a household contract the metered
flows are billed by the contract, as the agent's ledger bills its own (hil/sim/contract_pricing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hil.plant import HomeParams, build_plant
from hil.plant.own_control import TANK_HYSTERESIS_K, OwnControl
from hil.sim.recorder import Recorder
from hil.sim.tariff import Pricing

__all__ = ["TANK_HYSTERESIS_K", "BaselineController", "BaselineResult", "run_baseline"]


class BaselineController(OwnControl):
    """The ordinary rules as a function of the plant's state; one ``inputs`` call per step."""


@dataclass(frozen=True)
class BaselineResult:
    cost: float
    recorder: Recorder


def run_baseline(
    params: HomeParams, start: datetime, days: float, tariff: Pricing, *, bin_s: float, step_s: float = 30.0
) -> BaselineResult:
    end = start + timedelta(days=days)
    plant = build_plant(params, start, days=int(days) + 2)
    recorder = Recorder(plant, params, start=start, end=end, bin_s=bin_s)
    control = BaselineController(params)
    while (left_s := (end - plant.now).total_seconds()) > 1e-6:
        inputs = control.inputs(plant)
        recorder(plant.step(min(step_s, left_s), inputs), inputs)
    recorder.finish()
    flows = [(b.start, b.import_kwh, b.export_kwh) for b in recorder.bins if b.start < end]
    cost = sum(tariff.flow_costs(flows))
    return BaselineResult(cost, recorder)
