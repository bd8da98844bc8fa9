"""Reading what a client sends: query parameters and JSON bodies, each refusal naming the field.

Anything may arrive: unknown keys, wrong types, absurd dates, a megabyte of JSON. Every reader
either returns a typed value or raises :class:`~agent.web.errors.RequestError`; nothing a client
sends reaches the ledger or the agent's state unchecked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.market.intervals import Duration
from agent.web.errors import RequestError

# Instants outside these years are refused before they reach datetime arithmetic or SQLite.
MIN_YEAR, MAX_YEAR = 2000, 2200
MAX_SPAN = timedelta(days=400)
MAX_BODY_BYTES = 16_384


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def only_keys(given: Mapping[str, Any], allowed: set[str], where: str = "query") -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        # An empty name still gets a visible field: '""'.
        raise RequestError(
            unknown[0] or '""', f"unknown {where} parameter; allowed: {', '.join(sorted(allowed)) or 'none'}"
        )


def instant(text: object, field: str) -> datetime:
    """An ISO 8601 date-time with a UTC offset, in years 2000..2200, as UTC."""
    if not isinstance(text, str):
        raise RequestError(field, f"must be an ISO 8601 date-time string (got {_show(text)})")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise RequestError(field, f"not an ISO 8601 date-time: {_show(text)}") from None
    if value.tzinfo is None:
        raise RequestError(field, f"{_show(text)} has no UTC offset (e.g. 2026-06-15T12:00:00+02:00)")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise RequestError(field, f"must lie in the years {MIN_YEAR}..{MAX_YEAR} (got {_show(text)})")
    return value.astimezone(UTC)


def span(
    query: Mapping[str, str], default_start: datetime, default_end: datetime
) -> tuple[datetime, datetime]:
    start = instant(query["start"], "start") if "start" in query else default_start
    end = instant(query["end"], "end") if "end" in query else default_end
    if end <= start:
        raise RequestError("end", "must be after start")
    if end - start > MAX_SPAN:
        raise RequestError("end", f"the span may be at most {MAX_SPAN.days} days")
    return start, end


def integer(query: Mapping[str, str], field: str, default: int, low: int, high: int) -> int:
    if field not in query:
        return default
    text = query[field]
    if not text.isdigit() or len(text) > 9:
        raise RequestError(field, f"must be a whole number {low}..{high} (got {_show(text)})")
    value = int(text)
    if not low <= value <= high:
        raise RequestError(field, f"must be {low}..{high} (got {value})")
    return value


def duration(
    query: Mapping[str, str], field: str, default: Duration, allowed: tuple[Duration, ...]
) -> Duration:
    if field not in query:
        return default
    try:
        value = Duration(query[field])
    except ValueError:
        value = None
    if value not in allowed:
        names = ", ".join(d.value for d in allowed)
        raise RequestError(field, f"must be one of {names} (got {_show(query[field])})")
    assert value is not None
    return value


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object body: no duplicate keys, no NaN/Infinity, bounded size."""
    if len(raw) > MAX_BODY_BYTES:
        raise RequestError("body", f"larger than {MAX_BODY_BYTES} bytes", status=413)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise RequestError(key or '""', "given twice")
            out[key] = value
        return out

    def no_constants(name: str) -> Any:
        raise RequestError("body", f"{name} is not a JSON number")

    try:
        value = json.loads(raw, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except RecursionError:
        raise RequestError("body", "nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise RequestError("body", f"not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise RequestError("body", f"must be a JSON object (got {type(value).__name__})")
    return value


def number(body: Mapping[str, Any], field: str, low: float, high: float) -> float:
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RequestError(field, f"must be a number {low:g}..{high:g} (got {_show(value)})")
    if not low <= value <= high:
        raise RequestError(field, f"must be {low:g}..{high:g} (got {value:g})")
    return float(value)


def boolean(body: Mapping[str, Any], field: str) -> bool:
    value = body[field]
    if not isinstance(value, bool):
        raise RequestError(field, f"must be true or false (got {_show(value)})")
    return value
