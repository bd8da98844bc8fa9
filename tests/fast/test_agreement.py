"""Virtual time against the real-protocol rig on the same six hours of the summer week.

What must agree does: the same baseline and perfect-foresight reference (one tariff, one plant
data set), comfort and tank violations within 0.5 °C·h, an exact energy balance, no transaction
lost. Over six hours the agent's cost does not agree within 2 % (−0.80 real-protocol, −0.89
virtual time, against a baseline of −0.61); over the shipped weeks it does (summer 15.87 and
15.93, baseline 15.95; winter 54.95 and 54.50, baseline 56.50), when the machine is not so loaded
that the real-protocol run starves (at a load of 9 on two cores it paid 13.21 for the summer week
by leaving the tank 55 °C·h cold and the car 13 kWh short). The runs meet the agent differently:
at 2400× each plan costs the real-protocol agent simulated minutes (a fifth to a tenth as many
plans), its readings lag by up to a publish period, and which of the retailer's first tenders it
receives depends on wall-clock timing. Both now plan once per metering interval, shortly after
its boundary, and re-plan at once only for what cannot wait; how often the real-protocol agent
re-plans beyond that depends on the wall clock (39 plans against the virtual-time run's 27 in one
run), so the plan counts are not compared.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from hil.fast.run import run_fast
from hil.sim.loop import run_simulation
from tests.fast.conftest import scenario


def test_fast_and_real_protocol_agree_on_comfort_baseline_and_reference(tmp_path: Path) -> None:
    sc = scenario(6.0)
    fast, _ = run_fast(sc, tmp_path / "fast")
    real = asyncio.run(run_simulation(sc, tmp_path / "real"))
    f, r = fast.kpis, real.kpis
    assert math.isclose(f.baseline_cost, r.baseline_cost, abs_tol=1e-9)
    assert math.isclose(f.perfect_foresight_cost, r.perfect_foresight_cost, abs_tol=1e-9)
    assert abs(f.comfort_violation_c_h - r.comfort_violation_c_h) <= 0.5
    assert abs(f.tank_violation_c_h - r.tank_violation_c_h) <= 0.5
    assert abs(f.energy_balance_error_kwh) < 1e-6
    assert abs(r.energy_balance_error_kwh) < 1e-6
    assert fast.checks["no_transaction_lost"] == real.checks["no_transaction_lost"] == "ok"
