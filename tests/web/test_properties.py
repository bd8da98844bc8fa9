"""Property tests: whatever a client sends, the answer is a declared 2xx/4xx (never a 5xx), a
refusal names a field, a refused control changes nothing, and the ledger is never touched.

The HTTP cases are generated from the served OpenAPI document, so a parameter added to the
document is fuzzed without touching this file (schemathesis-style, on hypothesis alone).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.runtime.state import Overrides
from agent.web import controls
from agent.web.errors import RequestError
from tests.web.client import control_headers, request
from tests.web.home import WebHome

NOW = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
)  # fmt: skip
json_value = st.recursive(
    json_scalar,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)
control_keys = st.sampled_from(sorted(controls.FIELDS)) | st.text(max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(control_keys, json_value, max_size=5))
def test_parse_either_applies_or_names_a_field(body: dict[str, Any]) -> None:
    current = Overrides()
    try:
        new = controls.parse(body, current, NOW)
    except RequestError as e:
        assert e.field in body or e.field in ("body", '""')
        assert 400 <= e.status < 500
        return
    assert set(body) <= controls.FIELDS and body
    if "paused" in body:
        assert new.paused is body["paused"]
    if "comfort_target_c" in body:
        assert new.comfort_target_c == body["comfort_target_c"]
    if "ev_mode" in body:
        assert new.ev_mode == body["ev_mode"]


valid_body = st.fixed_dictionaries(
    {},
    optional={
        "paused": st.booleans(),
        "ev_target_soc_pct": st.none() | st.floats(0, 100),
        "comfort_target_c": st.none() | st.floats(5, 35),
        "comfort_band_c": st.none() | st.floats(0.1, 10),
        "water_heater_boost_h": st.floats(0, 24),
        "water_heater_hold": st.booleans(),
        "ev_mode": st.sampled_from(["smart", "now", "off"]),
        "ev_current_limit_a": st.none() | st.floats(6, 32),
        "ev_departure": st.none()
        | st.integers(1, 7 * 24 * 60 - 1).map(lambda m: (NOW + timedelta(minutes=m)).isoformat()),
    },
).filter(bool)


@settings(max_examples=300, deadline=None)
@given(valid_body)
def test_valid_bodies_always_apply(body: dict[str, Any]) -> None:
    new = controls.parse(body, Overrides(), NOW)
    if body.get("ev_target_soc_pct") is not None:
        assert new.ev_target_soc == pytest.approx(body["ev_target_soc_pct"] / 100)
    if "water_heater_boost_h" in body:
        assert (new.water_heater_boost_until is None) == (body["water_heater_boost_h"] == 0)
    if "ev_current_limit_a" in body:
        assert new.ev_current_limit_a == body["ev_current_limit_a"]


# --- over HTTP, from the OpenAPI document -----------------------------------------------------

garbage = st.text(max_size=40) | st.sampled_from(
    ["", "0", "-1", "1e309", "NaN", "2026-06-15", "2026-06-15T00:00:00", "0001-01-01T00:00:00+00:00",
     "9999-12-31T23:59:59-23:59", "2026-06-15T00:00:00+02:00", "PT5M", "P1Y", "today", "month", "true"]
)  # fmt: skip


def _value(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | garbage
    if schema.get("type") == "integer":
        return st.integers(-10, 10_000).map(str) | garbage
    if schema.get("format") == "date-time":
        instants = st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC))
        return instants.map(lambda d: d.isoformat()) | garbage
    return garbage


@pytest.fixture(scope="module")
def operations(home: WebHome) -> list[tuple[str, list[dict[str, Any]]]]:
    doc = request(home.base_url, "GET", "/api/openapi.json").json
    return [
        (path, item["get"]["parameters"])
        for path, item in doc["paths"].items()
        if "get" in item and path != "/api/events"  # a stream never ends: tested in the browser
    ]


def _ledger_size(home: WebHome) -> int:
    return home.read(lambda a: a.ledger.transaction_count())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_get_operations_answer_2xx_or_named_4xx(
    home: WebHome, operations: list[tuple[str, list[dict[str, Any]]]], data: st.DataObject
) -> None:
    path, params = data.draw(st.sampled_from(operations))
    query: dict[str, str] = {}
    for p in params:
        if data.draw(st.booleans()):
            query[p["name"]] = data.draw(_value(p["schema"]))
    if data.draw(st.integers(0, 9)) == 0:
        query[data.draw(st.text(min_size=1, max_size=8))] = "1"
    from urllib.parse import urlencode

    a = request(home.base_url, "GET", path + ("?" + urlencode(query) if query else ""))
    assert a.status in (200, 400), (path, query, a.status, a.body[:200])
    if a.status == 400:
        assert a.json["field"] in {*query, "end", '""'}  # "end" also speaks for a span that is too long


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(control_keys, json_value, max_size=4) | json_value)
def test_control_posts_never_fail_the_server_or_touch_the_ledger(home: WebHome, body: Any) -> None:
    before_ledger = _ledger_size(home)
    before = home.read(lambda a: (a.state.overrides, a.cycle.overrides_version))
    a = request(
        home.base_url, "POST", "/api/controls", headers=control_headers(home.token), body=json.dumps(body)
    )
    assert a.status in (200, 400), (body, a.status, a.body[:200])
    if a.status == 400:
        assert a.json["field"]
        assert home.read(lambda a: (a.state.overrides, a.cycle.overrides_version)) == before
    assert _ledger_size(home) >= before_ledger  # the retailer's trades may arrive; nothing is lost


@pytest.fixture(autouse=True, scope="module")
def restore_controls(home: WebHome) -> Any:
    yield
    body = dict.fromkeys(("ev_departure", "ev_target_soc_pct", "comfort_target_c", "comfort_band_c"))
    body |= {"paused": False, "water_heater_boost_h": 0, "water_heater_hold": False}
    request(
        home.base_url, "POST", "/api/controls", headers=control_headers(home.token), body=json.dumps(body)
    )
