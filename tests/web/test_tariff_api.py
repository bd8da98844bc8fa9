"""``/api/tariff`` and the contract part of ``/api/bill``, by aiohttp's test client, against a real
ledger file billed by the settler (tests/web/tariff_home.py has the figures by hand)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from agent.runtime import app
from agent.web.server import make_app
from tests.tariff.price_servers import EntsoeServer, serving
from tests.web.tariff_home import MONTH_TOTAL, TODAY_LINES, TODAY_TOTAL, build_billed, price_server


@pytest.fixture
def prices() -> EntsoeServer:
    return price_server()


@pytest.fixture
async def client(tmp_path: Path, prices: EntsoeServer) -> AsyncIterator[tuple[TestClient[Any, Any], Any]]:
    with serving(prices.app()) as url:
        agent, clock = await build_billed(tmp_path, f"{url}/api")
        try:
            async with TestClient(TestServer(make_app(agent, "token"))) as c:
                yield c, clock
        finally:
            await app.shutdown(agent)


async def _get(c: TestClient[Any, Any], path: str) -> dict[str, Any]:
    r = await c.get(path)
    assert r.status == 200, await r.text()
    body: dict[str, Any] = await r.json()
    return body


async def test_prices_today_are_firm_and_tomorrows_estimated(
    client: tuple[TestClient[Any, Any], Any],
) -> None:
    c, _ = client
    t = await _get(c, "/api/tariff?hours=24")
    assert t["configured"] is True
    assert t["source"] == {"name": "entsoe:10Y1001A1001A82H", "down": False, "last_error": None}
    starts = [p["start"] for p in t["prices"]]
    # From the quarter hour holding 10:01 for 24 hours, in 15-minute steps.
    assert starts[0] == "2026-06-14T10:00:00+02:00" and len(starts) == 96
    states = {p["start"]: p["state"] for p in t["prices"]}
    assert states["2026-06-14T23:45:00+02:00"] == "firm"
    assert states["2026-06-15T00:00:00+02:00"] == "estimated"
    assert [s for s in states.values() if s not in ("firm", "estimated")] == []
    assert t["estimated_from"] == "2026-06-15T00:00:00+02:00"
    assert t["notice"].startswith(
        "Tomorrow's prices are not published yet: from Mon 00:00 the prices are estimated"
    )
    # 10:00, standard window, 100 EUR/MWh: (0.1 + 0.025 + 0.0205 + 0.09 + 0.032 + 0.0199) x 1.19
    first = t["prices"][0]
    assert (Decimal(first["import_per_kwh"]), Decimal(first["export_per_kwh"])) == (
        Decimal("0.342006"),
        Decimal("0.0786"),
    )


async def test_a_source_that_is_down_is_named(
    client: tuple[TestClient[Any, Any], Any], prices: EntsoeServer
) -> None:
    c, clock = client
    prices.behaviour.fail_status = 503
    clock.advance(900)  # the next look for tomorrow's prices is due
    t = await _get(c, "/api/tariff")
    assert t["source"]["down"] is True
    assert t["notice"].startswith("The price service is down (ENTSO-E: HTTP 503")
    assert "the agent runs on its last prices; from Mon 00:00 the prices are estimated" in t["notice"]


async def test_the_bill_by_component_today_and_this_month(client: tuple[TestClient[Any, Any], Any]) -> None:
    c, _ = client
    today = (await _get(c, "/api/bill?period=today"))["contract"]
    month = (await _get(c, "/api/bill?period=month"))["contract"]
    assert {x["component"]: Decimal(x["amount"]) for x in today["lines"]} == TODAY_LINES
    assert Decimal(today["total"]) == TODAY_TOTAL
    assert (today["intervals"], Decimal(today["import_kwh"]), Decimal(today["export_kwh"])) == (
        8,
        Decimal(2),
        Decimal(0),
    )
    assert {x["component"]: Decimal(x["amount"]) for x in month["lines"]} == TODAY_LINES | {
        "base_price": Decimal("9.90"),
        "meter": Decimal("4.17"),
    }
    assert Decimal(month["total"]) == MONTH_TOTAL


async def test_hours_out_of_range_is_refused_naming_the_field(
    client: tuple[TestClient[Any, Any], Any],
) -> None:
    c, _ = client
    r = await c.get("/api/tariff?hours=49")
    assert r.status == 400
    assert (await r.json())["field"] == "hours"
