"""The running agent plans against the tariff: the plan phase takes the contract's standing tenders.

Built exactly as ``hems run`` builds it (simulated meter and battery, the real planner process),
on a summer Wednesday in Los Angeles under the shipped US TOU example, at 13:00 with a 24 h
horizon of hourly steps.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import yaml

from agent.clock import ManualClock
from agent.config import load_config
from agent.planning import MeasuredState
from agent.runtime import app

ROOT = Path(__file__).parents[2]
LA = ZoneInfo("America/Los_Angeles")
PLAN_TIMEOUT_S = 120.0  # the first plan starts the planner process and compiles the QP

# Hand-priced import of each hour from 13:00 Wed 2026-07-15 to 12:00 Thu (see test_us_tou_by_hand.py).
IMPORT_BY_HAND = [0.33, 0.33, 0.39] + [0.50] * 5 + [0.39] * 3 + [0.33] * 13


async def _plan(tmp_path: Path) -> tuple[object, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    doc = yaml.safe_load((ROOT / "configs" / "examples" / "us_tou.yaml").read_text())
    doc["state_dir"] = str(tmp_path / "state")
    doc["devices"]["battery"] = {
        "role": "battery",
        "capacity_kwh": 10,
        "charge_max_kw": 5,
        "discharge_max_kw": 5,
        "driver": {"type": "simulated"},
    }
    (tmp_path / "hems.yaml").write_text(yaml.safe_dump(doc))
    config = load_config(tmp_path / "hems.yaml", env={})
    agent = await app.build(config, ManualClock(datetime(2026, 7, 15, 13, 0, tzinfo=LA)))
    try:
        planning = agent.cycle.planning
        planning.start("test", MeasuredState(battery_soc=0.5), 0)
        assert planning._task is not None
        await asyncio.wait_for(planning._task, PLAN_TIMEOUT_S)
        assert planning.last_error is None
        record = planning.current
        assert record is not None
        grid = record.built.inputs.grid
        # The ladder's last column is the expected price of energy not bought ahead: the tariff's.
        return (
            agent.link,
            grid.buy_price_per_kwh[:, -1],
            grid.sell_price_per_kwh[:, -1],
            record.plan.series["battery_kw"],
            record.plan.series["grid_kw"],
        )
    finally:
        await app.shutdown(agent)


def test_plan_phase_plans_against_tariff_tenders(tmp_path: Path) -> None:
    link, buy, sell, battery_kw, grid_kw = asyncio.run(_plan(tmp_path))
    assert link is None  # no retailer link is built for a tariff
    np.testing.assert_allclose(buy, IMPORT_BY_HAND, atol=1e-9)
    np.testing.assert_allclose(sell, [0.04] * 24, atol=1e-9)
    # The battery covers the house through the 16:00-21:00 peak, and the grid import drops there.
    peak = slice(3, 8)
    assert np.all(battery_kw[peak] < -0.1)
    assert np.all(grid_kw[peak] < grid_kw[0] - 0.1)
