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

from agent.clock import ManualClock, ScaledClock
from agent.runtime import app
from tests.support.example_config import example_with_battery, plan_now

ROOT = Path(__file__).parents[2]
LA = ZoneInfo("America/Los_Angeles")
PLAN_TIMEOUT_S = 120.0  # the first plan starts the planner process and compiles the QP

# Hand-priced import of each hour from 13:00 Wed 2026-07-15 to 12:00 Thu (see test_us_tou_by_hand.py).
IMPORT_BY_HAND = [0.33, 0.33, 0.39] + [0.50] * 5 + [0.39] * 3 + [0.33] * 13


async def _plan(tmp_path: Path) -> tuple[object, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    config = example_with_battery("us_tou", tmp_path)
    agent = await app.build(config, ManualClock(datetime(2026, 7, 15, 13, 0, tzinfo=LA)))
    try:
        planning = agent.cycle.planning
        record = await plan_now(planning, PLAN_TIMEOUT_S)
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


def _peak_planned(agent: app.RunningAgent) -> bool:
    record = agent.cycle.planning.current
    return record is not None and record.first.start.hour >= 16


async def _serve(tmp_path: Path) -> tuple[object, object, int, float]:
    config = example_with_battery("us_tou", tmp_path)
    # 15:50 on the summer Wednesday, time running 60 times fast: the 16:00 peak starts 10 s in.
    clock = ScaledClock(datetime(2026, 7, 15, 15, 50, tzinfo=LA), speed=60.0)
    agent = await app.build(config, clock, cycle_s=10.0)
    stop = asyncio.Event()
    serving = asyncio.create_task(app.serve(agent, stop))
    try:
        async with asyncio.timeout(PLAN_TIMEOUT_S):
            # A plan made once the peak has begun (the new metering interval calls for one).
            while not _peak_planned(agent):  # noqa: ASYNC110 (the plan phase signals no event)
                await asyncio.sleep(0.2)
        record = agent.cycle.planning.current
        assert record is not None
        return (
            agent.link,
            agent.cycle.planning.last_error,
            agent.cycle.planning.plans,
            float(record.built.inputs.grid.buy_price_per_kwh[0, -1]),
        )
    finally:
        stop.set()
        await asyncio.wait_for(serving, 60.0)


def test_running_agent_replans_into_the_peak_price(tmp_path: Path) -> None:
    link, error, plans, first_price = asyncio.run(_serve(tmp_path))
    assert link is None
    assert error is None
    assert plans >= 2  # the first plan at 15:50, another once the peak began
    assert first_price == 0.50  # summer peak, by hand: 0.20 + 0.30
