"""POST /api/controls: the token, the cross-site checks, validation, and what a change does."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.web.client import control_headers, request
from tests.web.home import WebHome


def post(home: WebHome, body: object, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    a = request(home.base_url, "POST", "/api/controls", headers=headers, body=json.dumps(body))
    return a.status, a.json


def overrides(home: WebHome) -> tuple[object, int]:
    return home.read(lambda a: (a.state.overrides, a.cycle.overrides_version))


@pytest.mark.parametrize(
    ("headers", "status", "field"),
    [
        (control_headers(None), 401, "Authorization"),
        (control_headers("wrong-token-wrong-token"), 401, "Authorization"),
        ({"Authorization": "Basic abc", "Content-Type": "application/json"}, 401, "Authorization"),
        # A cross-site form post: text/plain or form-encoded bodies need no CORS preflight.
        ({"Content-Type": "text/plain"}, 415, "Content-Type"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "Content-Type"),
        ({"Origin": "http://evil.example"}, 403, "Origin"),
        ({"Origin": "null"}, 403, "Origin"),
        ({"Sec-Fetch-Site": "cross-site"}, 403, "Sec-Fetch-Site"),
        # DNS rebinding: the attacker's name resolves to the gateway, the Host header tells.
        ({"Host": "evil.example"}, 403, "Host"),
    ],
)
def test_refused_requests_change_nothing(
    home: WebHome, headers: dict[str, str], status: int, field: str
) -> None:
    token = home.token
    full = control_headers(token) | headers if status != 401 else headers
    before = overrides(home)
    code, body = post(home, {"paused": True}, full)
    assert code == status
    assert body["field"] == field
    assert overrides(home) == before


def test_no_cors_preflight_answer(home: WebHome) -> None:
    a = request(
        home.base_url,
        "OPTIONS",
        "/api/controls",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert a.status in (403, 405)
    assert not any(k.startswith("access-control-") for k in a.headers)


def test_same_origin_request_with_token_applies(home: WebHome) -> None:
    headers = control_headers(home.token, Origin=home.base_url, **{"Sec-Fetch-Site": "same-origin"})
    _, version0 = overrides(home)
    now = home.read(lambda a: a.clock.now())
    departure = (now + timedelta(hours=20)).isoformat()
    code, body = post(
        home, {"ev_departure": departure, "ev_target_soc_pct": 90, "comfort_target_c": 20.5}, headers
    )
    assert code == 200, body
    assert body["ev_target_soc_pct"] == 90
    o, version = overrides(home)
    assert version == version0 + 1
    assert o.ev_target_soc == pytest.approx(0.9)  # type: ignore[attr-defined]
    assert o.comfort_target_c == 20.5  # type: ignore[attr-defined]
    # The cycle re-plans with the new settings (the reason shown may be another one that was
    # also due: the tender book changes every minute here).
    home.wait_for(
        lambda a: a.state.timing.last_plan_at is not None and a.state.timing.last_plan_at > now, "a re-plan"
    )
    code, body = post(
        home, {"ev_departure": None, "ev_target_soc_pct": None, "comfort_target_c": None}, headers
    )
    assert code == 200 and body["ev_departure"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ([], "body"),
        ({"paused": "yes"}, "paused"),
        ({"paused": 1}, "paused"),
        ({"ev_target_soc_pct": 101}, "ev_target_soc_pct"),
        ({"ev_target_soc_pct": True}, "ev_target_soc_pct"),
        ({"comfort_target_c": "21"}, "comfort_target_c"),
        ({"comfort_band_c": 0}, "comfort_band_c"),
        ({"water_heater_boost_h": -1}, "water_heater_boost_h"),
        ({"ev_departure": "2000-01-01T00:00:00+00:00"}, "ev_departure"),  # the past
        ({"ev_departure": "tomorrow"}, "ev_departure"),
        ({"setpoint_w": 5000}, "setpoint_w"),
        # One bad field spoils the lot: the good one is not applied either.
        ({"paused": True, "comfort_band_c": 99}, "comfort_band_c"),
    ],
)
def test_bad_bodies_name_the_field_and_change_nothing(home: WebHome, body: object, field: str) -> None:
    before = overrides(home)
    code, answer = post(home, body, control_headers(home.token))
    assert code == 400, answer
    assert answer["field"] == field
    assert overrides(home) == before


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "body"),
        (b'{"paused": true, "paused": false}', "paused"),
        (b'{"comfort_target_c": NaN}', "body"),
        (b"[" * 5000 + b"]" * 5000, "body"),
        (b'{"x": "' + b"a" * 70_000 + b'"}', None),  # over the size limit: refused before parsing
    ],
)
def test_malformed_bodies(home: WebHome, raw: bytes, field: str | None) -> None:
    before = overrides(home)
    a = request(home.base_url, "POST", "/api/controls", headers=control_headers(home.token), body=raw)
    assert 400 <= a.status < 500
    if field is not None:
        assert a.json["field"] == field
    assert overrides(home) == before
    assert request(home.base_url, "GET", "/api/health").status == 200  # still serving


def test_pause_makes_dispatch_fall_to_safe_rules_and_resume_returns(home: WebHome) -> None:
    headers = control_headers(home.token)
    code, body = post(home, {"paused": True}, headers)
    assert code == 200 and body["paused"] is True
    home.wait_for(lambda a: a.state.mode == "paused", "the paused mode")
    code, body = post(home, {"paused": False}, headers)
    assert code == 200 and body["paused"] is False
    home.wait_for(lambda a: a.state.mode != "paused", "optimizing again")
