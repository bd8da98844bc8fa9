"""The running agent (``hems run``'s build and serve) under the shipped OpenADR example: its VEN
registers with a real VTN process, offers the meter's power, and the planner prices the hours of a
critical-peak event at the event's level."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.clock import RealClock
from agent.openadr import CACHE_FILE
from agent.runtime import app
from tests.openadr.conftest import next_hour
from tests.openadr.vtn_process import VtnProcess
from tests.support.example_config import example_with_battery, plan_now

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "configs" / "examples" / "openadr_price_program.yaml"
PLAN_TIMEOUT_S = 120.0  # the first plan starts the planner process and compiles the QP
CONTEXT = "oadr://example-utility.com/programs/cpp"  # the example's program


async def _until(check: object, timeout_s: float = 30.0) -> None:
    assert callable(check)
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110 (the change comes from the VTN's process: poll it)
            await asyncio.sleep(0.1)


async def test_the_running_agent_plans_a_critical_peak_at_its_level(tmp_path: Path, vtn: VtnProcess) -> None:
    def at_this_vtn(doc: dict[str, Any]) -> None:
        doc["market"]["source"]["market"]["vtn_url"] = vtn.url
        doc["market"]["source"]["market"]["report_min_period_s"] = 1

    config = example_with_battery(EXAMPLE.stem, tmp_path, at_this_vtn)
    agent = await app.build(config, RealClock(), cycle_s=5.0)
    assert agent.openadr is not None and agent.tariff is not None
    stop = asyncio.Event()
    serving = asyncio.create_task(app.serve(agent, stop))
    try:
        await vtn.expect("registered", ven_name="home-1234")
        offered = await vtn.expect("report_offered")
        assert (offered["measurement"], offered["unit"]) == ("RealPower", "W")
        start = next_hour(2)
        intervals = [
            [(start + timedelta(hours=h)).isoformat(), 3600, level] for h, level in enumerate([3, 1])
        ]
        await vtn.send(
            cmd="add_event",
            ven_id="ven-home-1234",
            event_id="cpp-day",
            signal_name="SIMPLE",
            signal_type="level",
            intervals=intervals,
            market_context=CONTEXT,
        )
        assert (await vtn.expect("opt", event_id="cpp-day"))["opt_type"] == "optIn"
        await _until(lambda: bool(agent.openadr and agent.openadr.book.events))

        planning = agent.cycle.planning
        await _until(lambda: planning._task is None or planning._task.done(), PLAN_TIMEOUT_S)
        record = await plan_now(planning, PLAN_TIMEOUT_S)
        buy = record.built.inputs.grid.buy_price_per_kwh[:, -1]
        by_start = {iv.start_utc: float(buy[i]) for i, iv in enumerate(record.built.intervals)}
        # Level 3 is 1.20 and level 1 is 0.40 in the example, plus delivery 0.16; the base 0.14 + 0.16.
        quarter = timedelta(minutes=15)
        around = [by_start[start + k * quarter] for k in range(-1, 9)]
        assert around == pytest.approx([0.30] + [1.36] * 4 + [0.56] * 4 + [0.30], abs=1e-9)
    finally:
        stop.set()
        await asyncio.wait_for(serving, 60.0)
    assert agent.openadr.registered is False  # closed on shutdown
    assert "cpp-day" in (tmp_path / "state" / CACHE_FILE).read_text()
