"""An example household config (configs/examples/) with a simulated battery, written for a test,
and a plan made at once by the agent built from it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from agent.config import Config
from agent.config.loader import load_config
from agent.planning import MeasuredState
from agent.runtime.plan_phase import PlanPhase
from agent.runtime.plan_record import PlanRecord

EXAMPLES = Path(__file__).parents[2] / "configs" / "examples"
# A 10 kWh battery of 5 kW each way, on the simulated driver.
BATTERY = {
    "role": "battery",
    "capacity_kwh": 10,
    "charge_max_kw": 5,
    "discharge_max_kw": 5,
    "driver": {"type": "simulated"},
}


def example_with_battery(
    name: str, tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None
) -> Config:
    """``configs/examples/<name>.yaml`` with its state in ``tmp_path`` and :data:`BATTERY`;
    ``edit`` may change the document before it is written and loaded."""
    doc = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    doc["state_dir"] = str(tmp_path / "state")
    doc["devices"]["battery"] = dict(BATTERY)
    if edit is not None:
        edit(doc)
    (tmp_path / "hems.yaml").write_text(yaml.safe_dump(doc))
    return load_config(tmp_path / "hems.yaml", env={})


async def plan_now(planning: PlanPhase, timeout_s: float) -> PlanRecord:
    """Start a plan with the battery half full, wait for it, and hand back the good plan."""
    planning.start("test", MeasuredState(battery_soc=0.5), 0)
    assert planning._task is not None
    await asyncio.wait_for(planning._task, timeout_s)
    assert planning.last_error is None
    record = planning.current
    assert record is not None
    return record
