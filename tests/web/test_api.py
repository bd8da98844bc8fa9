"""Every API endpoint against the running home: shapes, units in names, and bad input (4xx that
names the field, the server still answering afterwards, the ledger untouched)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from agent.config.sections import DEFAULT_SPOT_SPREAD_PER_KWH
from tests.web.client import request
from tests.web.home import WebHome


def get(home: WebHome, path: str) -> object:
    a = request(home.base_url, "GET", path)
    assert a.status == 200, (path, a.body[:300])
    assert a.headers["content-type"].startswith("application/json")
    return a.json


def test_state_has_flows_with_units_and_health(home: WebHome) -> None:
    s = get(home, "/api/state")
    assert isinstance(s, dict)
    flows = {f["key"]: f for f in s["flows"]}
    assert set(flows) == {"grid", "pv", "battery", "ev", "heat_pump", "water_heater", "base_load"}
    assert all(f["unit"] == "W" for f in flows.values())
    assert flows["pv"]["source"] == "measured" and flows["pv"]["power_w"] > 0  # a June morning
    assert flows["heat_pump"]["source"] == "planned"
    assert set(s["health"]["devices"]) == set(home.config.devices)
    assert s["site_id"] == "home-1" and s["timezone"] == "Europe/Berlin"
    assert 0 <= s["readings"]["battery_soc_pct"] <= 100
    assert s["heat_mode"] == "heating"  # the thermostat's configured mode (the default)


def test_plan_chart_series_cover_the_horizon(home: WebHome) -> None:
    plan = get(home, "/api/plan")
    assert isinstance(plan, dict) and plan["available"]
    n = len(plan["intervals"])
    assert n == 96  # 24 h at PT15M
    for key in ("import_price_per_kwh", "marginal_value_per_kwh", "grid_kw", "battery_soc_pct", "ev_soc_pct"):
        assert len(plan[key]) == n, key
    assert len(plan["indoor_c"]) == n and len(plan["comfort_lo_c"]) == n
    assert plan["heat_mode"] == "heating"
    assert plan["tank_min_c"] < plan["tank_max_c"]
    assert "demand_peak_kw" not in plan  # no demand charge under a retailer
    # An actionable hour ahead (the running hour is no longer traded): the chart shows the
    # cheapest way to import, here the spot price expected from the mid of the retailer's quotes
    # (its ask is 0.16 above its bid), not the ask.
    first_sell = next(t for t in home.tenders[4:] if t.side.value == "sell")
    bid = next(t for t in home.tenders if t.side.value == "buy" and t.interval == first_sell.interval)
    hour_starts = [i for i, s in enumerate(plan["intervals"]) if s == first_sell.interval.start.isoformat()]
    assert hour_starts, "the plan covers the first tendered hour"
    mid = float(first_sell.price_per_kwh + bid.price_per_kwh) / 2
    expected = min(float(first_sell.price_per_kwh), mid + DEFAULT_SPOT_SPREAD_PER_KWH / 2)
    assert expected < float(first_sell.price_per_kwh)
    assert plan["import_price_per_kwh"][hour_starts[0]] == pytest.approx(expected)


def test_tenders_transactions_positions_settlements(home: WebHome) -> None:
    book = get(home, "/api/tenders")
    assert isinstance(book, dict) and book["link"] is True
    assert {t["id"] for t in book["offers"]} >= {t.id for t in home.tenders if t.expires > home.clock.now()}
    tx = get(home, "/api/transactions")
    assert isinstance(tx, dict)
    ids = {t["id"] for t in tx["transactions"]}
    assert {"tx-0", "tx-1"} <= ids
    assert all(t["side"] in ("buy", "sell") for t in tx["transactions"])
    pos = get(home, "/api/positions?duration=PT1H")
    assert isinstance(pos, dict)
    first = home.tenders[0].interval.start.isoformat()
    by_start = {p["interval"]: p["position_kw"] for p in pos["positions"]}
    assert float(by_start[first]) >= 1.5  # tx-0 bought 1.5 kW in that hour (the agent may add more)
    st = get(home, "/api/settlements")
    assert isinstance(st, dict) and "settlements" in st


def test_bill_today_month_and_lines(home: WebHome) -> None:
    today = get(home, "/api/bill")
    month = get(home, "/api/bill?period=month")
    assert isinstance(today, dict) and isinstance(month, dict)
    for b in (today, month):
        total = float(b["forward"]) + float(b["spot"]) + float(b["transport"])
        assert float(b["total"]) == pytest.approx(total, abs=1e-4)
        assert b["flat"]["tariff_per_kwh"] == "0.32"
    assert month["start"] <= today["start"]
    with_lines = get(home, "/api/bill?period=month&lines=true")
    assert isinstance(with_lines, dict) and len(with_lines["lines"]) == with_lines["line_count"]


def test_health_forecast_controls_openapi(home: WebHome) -> None:
    health = get(home, "/api/health")
    assert isinstance(health, dict) and health["tasks"]["web"]["state"] == "running"
    forecast = get(home, "/api/forecast")
    assert isinstance(forecast, dict) and "accuracy" in forecast
    controls = get(home, "/api/controls")
    assert isinstance(controls, dict) and "paused" in controls and "ev_target_soc_pct" in controls
    doc = get(home, "/api/openapi.json")
    assert isinstance(doc, dict) and doc["openapi"].startswith("3.")
    for path in ("/api/state", "/api/plan", "/api/tenders", "/api/transactions", "/api/positions",
                 "/api/settlements", "/api/bill", "/api/health", "/api/controls", "/api/events"):  # fmt: skip
        assert path in doc["paths"], path
    assert "post" in doc["paths"]["/api/controls"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/transactions?start=yesterday", "start"),
        ("/api/transactions?start=2026-06-15T00:00:00", "start"),  # no UTC offset
        ("/api/transactions?start=9999-01-01T00:00:00%2B14:00", "start"),  # would overflow
        ("/api/transactions?limit=0", "limit"),
        ("/api/transactions?limit=-1", "limit"),
        ("/api/transactions?limit=1e3", "limit"),
        ("/api/transactions?party=retailer", "party"),  # another party's book is not on offer
        ("/api/positions?duration=PT7M", "duration"),
        ("/api/positions?start=2026-01-01T00:00:00Z&end=2026-12-01T00:00:00Z&duration=PT5M", "end"),
        ("/api/settlements?start=2026-06-16T00:00:00Z&end=2026-06-15T00:00:00Z", "end"),
        ("/api/settlements?start=2020-01-01T00:00:00Z&end=2026-01-01T00:00:00Z", "end"),
        ("/api/bill?period=year", "period"),
        ("/api/bill?period=today&start=2026-06-15T00:00:00Z", "period"),
        ("/api/bill?lines=yes", "lines"),
        ("/api/plan?x=1", "x"),
    ],
)
def test_bad_queries_name_the_field(home: WebHome, path: str, field: str) -> None:
    a = request(home.base_url, "GET", path)
    assert a.status == 400, a.body
    assert a.json["field"] == field
    assert a.json["error"]


def test_unknown_paths_and_methods(home: WebHome) -> None:
    assert request(home.base_url, "GET", "/api/nothing").status == 404
    a = request(home.base_url, "DELETE", "/api/controls")
    assert a.status == 405
    assert request(home.base_url, "GET", "/static/../../etc/passwd").status in (403, 404)
    assert request(home.base_url, "GET", "/static/" + quote("../server.py", safe="")).status in (403, 404)


def test_security_headers(home: WebHome) -> None:
    page = request(home.base_url, "GET", "/")
    assert page.status == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    api = request(home.base_url, "GET", "/api/state", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in api.headers
    assert api.headers["cache-control"] == "no-store"


def test_the_page_uses_no_external_resources(home: WebHome) -> None:
    html = request(home.base_url, "GET", "/").body.decode()
    for asset in ("/static/app.js", "/static/chart.js", "/static/style.css"):
        assert asset in html
        body = request(home.base_url, "GET", asset).body.decode()
        assert "http://" not in body.replace("http://www.w3.org/2000/svg", "") and "https://" not in body
    assert "http://" not in html and "https://" not in html


def test_json_is_strict_json(home: WebHome) -> None:
    # NaN (from an empty forecast-error window) must never reach the wire: JSON has no NaN.
    for path in ("/api/state", "/api/plan", "/api/forecast", "/api/health"):
        text = request(home.base_url, "GET", path).body.decode()
        constants: list[str] = []
        json.loads(text, parse_constant=constants.append)
        assert constants == [], path
