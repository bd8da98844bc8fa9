"""The OpenAPI 3.1 document of the JSON API, served at ``/api/openapi.json``.

Written by hand next to the handlers (:mod:`agent.web.api`); the tests walk it, call every
operation with valid and invalid parameters, and check each answer against what it declares.
"""

from __future__ import annotations

from typing import Any

from agent.runtime.state import EV_CURRENT_LIMIT_RANGE_A, EV_MODES
from agent.web.controls import FIELDS as CONTROL_FIELDS

INSTANT = {"type": "string", "format": "date-time", "description": "ISO 8601 with a UTC offset"}
ERROR = {
    "type": "object",
    "required": ["error", "field"],
    "properties": {"error": {"type": "string"}, "field": {"type": ["string", "null"]}},
}
OBJ: dict[str, Any] = {"type": "object"}


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


START = _param("start", INSTANT, "start of the period (inclusive)")
END = _param("end", INSTANT, "end of the period (exclusive); at most 400 days after start")


def _limit(default: int) -> dict[str, Any]:
    return _param(
        "limit", {"type": "integer", "minimum": 1, "maximum": 5000, "default": default}, "most rows"
    )


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _get(summary: str, schema: dict[str, Any], params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": _json(schema, summary)}
    responses["400"] = _json(ERROR, "a parameter is wrong; 'field' names it")
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


def _controls_body() -> dict[str, Any]:
    nullable_number = {"type": ["number", "null"]}
    props: dict[str, Any] = {
        "paused": {"type": "boolean", "description": "true: devices follow their safe rules"},
        "ev_departure": {**INSTANT, "type": ["string", "null"], "description": "within the next 7 days"},
        "ev_target_soc_pct": {**nullable_number, "minimum": 0, "maximum": 100},
        "comfort_target_c": {**nullable_number, "minimum": 5, "maximum": 35},
        "comfort_band_c": {**nullable_number, "minimum": 0.1, "maximum": 10},
        "water_heater_boost_h": {
            "type": "number",
            "minimum": 0,
            "maximum": 24,
            "description": "0 ends a boost",
        },
        "water_heater_hold": {"type": "boolean"},
        "ev_mode": {
            "enum": list(EV_MODES),
            "description": "smart: as planned; now: charge at the limit; off: do not charge",
        },
        "ev_current_limit_a": {
            **nullable_number,
            "minimum": EV_CURRENT_LIMIT_RANGE_A[0],
            "maximum": EV_CURRENT_LIMIT_RANGE_A[1],
            "description": "per phase; caps what the plan or the mode asks",
        },
    }
    assert set(props) == CONTROL_FIELDS
    return {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": props}


def document() -> dict[str, Any]:
    bill_params = [
        _param("period", {"type": "string", "enum": ["today", "month"]}, "today (default) or month"),
        START,
        END,
        _param("lines", {"type": "string", "enum": ["true", "false"]}, "include every bill line"),
    ]
    paths: dict[str, Any] = {
        "/api/state": _get("live state: flows, readings, prices, health, controls, timing", OBJ),
        "/api/plan": _get("the current plan as chart series (units in the names)", OBJ),
        "/api/tenders": _get(
            "the tender book: retailer offers, transport, spot, the agent's own tenders", OBJ
        ),
        "/api/transactions": _get(
            "transactions overlapping the period (default: today and tomorrow)",
            OBJ,
            [START, END, _limit(500)],
        ),
        "/api/positions": _get(
            "forward position per interval (default: the planning horizon)",
            OBJ,
            [
                START,
                END,
                _param("duration", {"type": "string", "enum": ["PT1H", "PT15M", "PT5M"]}, "interval length"),
            ],
        ),
        "/api/settlements": _get("settled intervals (default: today)", OBJ, [START, END, _limit(200)]),
        "/api/bill": _get(
            "bill (forward + spot + transport) next to the flat tariff; under a household contract "
            "also 'contract': its bill by component",
            OBJ,
            bill_params,
        ),
        "/api/tariff": _get(
            "under a household contract: the next hours' import/export prices, each firm, indicative "
            "or estimated, and a plain notice when prices are estimated ({configured: false} otherwise)",
            OBJ,
            [_param("hours", {"type": "integer", "minimum": 1, "maximum": 48, "default": 24}, "hours ahead")],
        ),
        "/api/health": _get("device and task health", OBJ),
        "/api/forecast": _get("forecast error (MAE, bias by lead time) and the current forecast", OBJ),
        "/api/controls": _get("the householder's overrides now in force", OBJ),
        "/api/events": {
            "get": {
                "summary": "server-sent events: a 'status' event (the /api/state live part) per cycle",
                "parameters": [],
                "responses": {
                    "200": {"description": "text/event-stream", "content": {"text/event-stream": {}}}
                },
            }
        },
    }
    paths["/api/controls"]["post"] = {
        "summary": "change overrides (all fields checked before any is applied)",
        "security": [{"token": []}],
        "parameters": [],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _controls_body()}}},
        "responses": {
            "200": _json(OBJ, "the overrides now in force"),
            "400": _json(ERROR, "a field is wrong; 'field' names it"),
            "401": _json(ERROR, "no valid token"),
            "403": _json(ERROR, "a cross-site request (Origin, Host or Sec-Fetch-Site)"),
            "413": _json(ERROR, "body too large"),
            "415": _json(ERROR, "body is not application/json"),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hems local API",
            "version": "1",
            "description": (
                "Read-only endpoints are open on the configured bind address. POST /api/controls needs "
                "the token (web.token, or the generated <state_dir>/web-token) in 'Authorization: "
                "Bearer <token>' or 'X-Hems-Token', a JSON body, and a same-origin request. "
                "Money is a decimal string; power in kW or W and energy in kWh as the names say; "
                "grid +import/-export, battery and EV +charge/-discharge."
            ),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
        },
    }
