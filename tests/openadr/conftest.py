"""A real VTN process per test, and the home's config pointing its VEN at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.config import Config, parse_config
from tests.openadr.vtn_process import VtnProcess, free_port

# Network 0.16 and VAT 1.0: the import price is the market price + 0.16 (by hand in each test).
HOME = """\
site: {{id: home, timezone: America/Los_Angeles, latitude: 34.0, longitude: -118.2, currency: USD}}
state_dir: {state_dir}
planner: {{step: PT15M}}
devices:
  grid: {{role: meter, driver: {{type: simulated}}}}
market:
  source:
    type: tariff
    market:
      type: openadr
      vtn_url: {url}
      ven_name: home
      price_per_kwh: 0.14
      simple_levels: {{1: 0.40, 3: 1.20}}
      request_timeout_s: {timeout_s}
      report_min_period_s: 1
      {extra}
    network_per_kwh: {{delivery: 0.16}}
    export: {{type: fixed, price_per_kwh: 0.05}}
"""


def home_config(state_dir: Path, url: str, extra: str = "", *, timeout_s: float = 15) -> Config:
    return parse_config(HOME.format(state_dir=state_dir, url=url, extra=extra, timeout_s=timeout_s), env={})


def next_hour(hours: int = 1) -> datetime:
    """A whole hour ahead, so the event's intervals lie in the future as a VTN sends them."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=hours)


@pytest.fixture
async def vtn() -> AsyncIterator[VtnProcess]:
    process = VtnProcess(free_port(), poll_s=1.0)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()
