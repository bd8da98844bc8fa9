"""An agent under the shipped German dynamic tariff, for the tariff panel's API and page tests.

Built as ``hems run`` builds it from configs/examples/de_dynamic_entsoe.yaml, its ENTSO-E
service answered by a local server (tests/tariff/price_servers.py), at 10:01 in Berlin on Sunday
2026-06-14: today's prices are published (hour h at 10·h EUR/MWh), tomorrow's are not, so the
next 24 hours are firm until midnight and estimated after it. The meter read 1 kW from 08:00 to
10:00 (2 kWh, no export), and the settler billed those eight quarter hours into the ledger file.

The contract's bill, by hand (08:00-10:00 is the "standard" network window; 1 kWh each hour)::

    market           0.08 + 0.09               = 0.17
    supplier_margin  2 x 0.0250                = 0.05
    electricity_tax  2 x 0.0205                = 0.041
    network          2 x 0.0900                = 0.18
    levies           2 x 0.0320                = 0.064
    concession       2 x 0.0199                = 0.0398
    vat              0.5448 x 0.19             = 0.103512
    today                                        0.648312
    base_price 9.90 + meter 4.17 (June's, booked with its first interval)   14.07
    month                                        14.718312
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from agent.clock import ManualClock
from agent.config import load_config
from agent.market.settlement import MeterReading
from agent.runtime import app
from agent.runtime.app import RunningAgent
from tests.tariff.price_servers import TOKEN, EntsoePeriod, EntsoeServer

ROOT = Path(__file__).parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
DE_LU = "10Y1001A1001A82H"
NOW = datetime(2026, 6, 14, 10, 1, 1, tzinfo=BERLIN)
TODAY_TOTAL = Decimal("0.648312")
MONTH_TOTAL = Decimal("14.718312")
TODAY_LINES = {
    "market": Decimal("0.17"),
    "supplier_margin": Decimal("0.05"),
    "electricity_tax": Decimal("0.041"),
    "network": Decimal("0.18"),
    "levies": Decimal("0.064"),
    "concession": Decimal("0.0398"),
    "vat": Decimal("0.103512"),
}


def price_server() -> EntsoeServer:
    # Three published days (the last is today), tomorrow missing.
    return EntsoeServer(
        DE_LU,
        [
            EntsoePeriod(datetime(2026, 6, 11, 22, tzinfo=UTC), "PT60M", ["30"] * 24),
            EntsoePeriod(datetime(2026, 6, 12, 22, tzinfo=UTC), "PT60M", ["60"] * 24),
            EntsoePeriod(datetime(2026, 6, 13, 22, tzinfo=UTC), "PT60M", [str(10 * h) for h in range(24)]),
        ],
    )


def config_doc(state_dir: Path, url: str, web_port: int) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(
        (ROOT / "configs" / "examples" / "de_dynamic_entsoe.yaml").read_text()
    )
    doc["state_dir"] = str(state_dir)
    # No retries: a manual clock only moves when the test moves it, and back-off waits on it.
    doc["market"]["source"]["market"].update({"base_url": url, "retries": 0})
    doc["web"] = {"port": web_port}
    return doc


async def build_billed(directory: Path, url: str, web_port: int = 8080) -> tuple[RunningAgent, ManualClock]:
    """The agent (not running its cycle), with the morning metered and settled by the contract."""
    path = directory / "hems.yaml"
    path.write_text(yaml.safe_dump(config_doc(directory / "state", url, web_port)))
    config = load_config(path, env={"ENTSOE_TOKEN": TOKEN})
    clock = ManualClock(NOW)
    agent = await app.build(config, clock)
    start = datetime(2026, 6, 14, 8, 0, tzinfo=BERLIN)
    for k in range(9):
        ts = start + timedelta(minutes=15 * k)
        agent.ledger.add_reading(
            MeterReading(config.meter_name, ts, Decimal(500) + Decimal("0.25") * k, Decimal(20))
        )
    settled = await agent.settler.settle_due()
    assert len(settled) == 8, agent.settler.waiting
    return agent, clock
