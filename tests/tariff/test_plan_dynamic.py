"""The running agent under a dynamic tariff: a price service that is down fails the plan phase
with a clear error (dispatch keeps the safe rules), and once it answers the agent plans on
published prices and, for tomorrow, on estimates.

Built as ``hems run`` builds it from the shipped German example, its ENTSO-E service answered by
a local server, at 10:00 in Berlin on 2026-06-14 (tomorrow's prices not yet published).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from agent.clock import ManualClock
from agent.config import load_config
from agent.planning import MeasuredState
from agent.runtime import app
from tests.tariff.price_servers import TOKEN, EntsoePeriod, EntsoeServer, serving

ROOT = Path(__file__).parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
DE_LU = "10Y1001A1001A82H"
PLAN_TIMEOUT_S = 120.0  # the first plan starts the planner process and compiles the QP


async def _plan_twice(tmp_path: Path, server: EntsoeServer, url: str) -> tuple[str | None, str | None, float]:
    doc = yaml.safe_load((ROOT / "configs" / "examples" / "de_dynamic_entsoe.yaml").read_text())
    doc["state_dir"] = str(tmp_path / "state")
    # No retries: a manual clock only moves when the test moves it, and back-off waits on it.
    doc["market"]["source"]["market"].update({"base_url": url, "retries": 0})
    (tmp_path / "hems.yaml").write_text(yaml.safe_dump(doc))
    config = load_config(tmp_path / "hems.yaml", env={"ENTSOE_TOKEN": TOKEN})
    clock = ManualClock(datetime(2026, 6, 14, 10, 0, tzinfo=BERLIN))
    agent = await app.build(config, clock)
    try:
        planning = agent.cycle.planning
        server.behaviour.fail_status = 503
        planning.start("test", MeasuredState(), 0)
        assert planning._task is not None
        await asyncio.wait_for(planning._task, PLAN_TIMEOUT_S)
        down_error, down_plan = planning.last_error, planning.current
        assert down_plan is None
        server.behaviour.fail_status = None
        clock.advance(900)  # the next look for prices is due
        planning.start("test", MeasuredState(), 0)
        await asyncio.wait_for(planning._task, PLAN_TIMEOUT_S)
        record = planning.current
        assert record is not None
        return down_error, planning.last_error, float(record.built.inputs.grid.buy_price_per_kwh[0, -1])
    finally:
        await app.shutdown(agent)


def test_plan_phase_survives_the_service_then_plans_on_its_prices(tmp_path: Path) -> None:
    server = EntsoeServer(
        DE_LU,
        [
            EntsoePeriod(datetime(2026, 6, 11, 22, tzinfo=UTC), "PT60M", ["30"] * 24),
            EntsoePeriod(datetime(2026, 6, 12, 22, tzinfo=UTC), "PT60M", ["60"] * 24),
            EntsoePeriod(datetime(2026, 6, 13, 22, tzinfo=UTC), "PT60M", [str(10 * h) for h in range(24)]),
        ],
    )
    with serving(server.app()) as url:
        down, up, first_price = asyncio.run(_plan_twice(tmp_path, server, f"{url}/api"))
    assert down is not None
    assert "no market prices to plan with; last error: ENTSO-E: HTTP 503" in down
    assert up is None
    # 10:00, standard window, market 100 EUR/MWh:
    # (0.1 + 0.025 + 0.0205 + 0.09 + 0.032 + 0.0199) x 1.19 = 0.2874 x 1.19 = 0.342006
    assert abs(first_price - 0.342006) < 1e-9
