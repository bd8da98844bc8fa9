"""The running agent plans with the contract's demand charge: the month's peak from its ledger.

Built as ``hems run`` builds it (simulated meter and battery, the real planner process) under the
shipped US TOU example with a demand charge, at 13:00 on a summer Wednesday in Los Angeles with a
24 h horizon of hourly steps, after the ledger billed a 4 kW peak the day before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent.clock import ManualClock
from agent.ledger.contract import ContractCharge, Metered, MonthSoFar
from agent.market.intervals import Duration, containing
from agent.market.settlement import MeterReading
from agent.runtime import app
from agent.web.plan_view import plan_chart
from tests.support.example_config import example_with_battery, plan_now

ROOT = Path(__file__).parents[2]
LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 7, 15, 13, 0, tzinfo=LA)
PLAN_TIMEOUT_S = 120.0  # the first plan starts the planner process and compiles the QP


def _peak(metered: Metered, so_far: MonthSoFar) -> Sequence[ContractCharge]:
    """The month's demand rises to 4 kW in this quarter hour (a kWh in 15 minutes)."""
    return [ContractCharge(metered.interval, "demand", Decimal(4), "kW", Decimal(32), "firm")]


async def _plan(tmp_path: Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    config = example_with_battery("us_tou_demand", tmp_path)
    agent = await app.build(config, ManualClock(NOW))
    try:
        yesterday = containing(NOW - timedelta(hours=20), Duration.PT15M, LA)  # Tuesday 17:00
        agent.ledger.add_reading(MeterReading("grid", yesterday.start_utc, Decimal(10), Decimal(0)))
        agent.ledger.add_reading(MeterReading("grid", yesterday.end_utc, Decimal(11), Decimal(0)))
        agent.ledger.settle_contract(
            yesterday, config.party_id, "grid", currency="USD", price_state="firm", charges=_peak
        )
        planning = agent.cycle.planning
        record = await plan_now(planning, PLAN_TIMEOUT_S)
        return record.built.inputs.demand, record.plan.to_json(), plan_chart(agent)
    finally:
        await app.shutdown(agent)


def test_the_plan_starts_from_the_months_peak_in_the_ledger(tmp_path: Path) -> None:
    demand, plan, chart = asyncio.run(_plan(tmp_path))
    assert demand is not None
    assert demand.per_kw == 8.0
    assert demand.peak_so_far_kw == 4.0
    # 13:00 Wednesday to 12:00 Thursday: the peak hours 16:00-21:00 are steps 3 to 7.
    assert demand.counts.tolist() == [0.0] * 3 + [1.0] * 5 + [0.0] * 16
    assert demand.month_starts.tolist() == [0.0] * 24
    # The plan shows the month's peak: 4 kW already billed, which its peak hours stay under.
    assert plan["series"]["demand_peak_kw"] == [4.0] * 24
    assert plan["cost"]["demand"] == 0.0
    assert chart["demand_peak_kw"] == [4.0] * 24  # the page's plan chart
