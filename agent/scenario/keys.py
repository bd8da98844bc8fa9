"""Small checked readers for YAML values; each error names the key path."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from agent.scenario.errors import ScenarioError


def mapping(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(key, f"must be a mapping, got {type(value).__name__}")
    return value


def known(key: str, doc: Mapping[str, Any], allowed: set[str] | frozenset[str]) -> None:
    for k in doc:
        if k not in allowed:
            where = f"{key}.{k}" if key else str(k)
            raise ScenarioError(where, f"unknown key; allowed: {', '.join(sorted(allowed))}")


def need(doc: Mapping[str, Any], name: str, key: str) -> Any:
    if name not in doc:
        raise ScenarioError(join(key, name), "missing")
    return doc[name]


def join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def number(key: str, value: Any, *, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(key, f"must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ScenarioError(key, "must be finite")
    if (lo is not None and out < lo) or (hi is not None and out > hi):
        raise ScenarioError(key, f"{value} outside {lo}..{hi}")
    return out


def instant(key: str, value: Any) -> datetime:
    """An ISO 8601 instant with a UTC offset (YAML may have parsed it already)."""
    if isinstance(value, datetime):
        at = value
    else:
        try:
            at = datetime.fromisoformat(str(value))
        except ValueError as e:
            raise ScenarioError(key, f"needs ISO 8601 with a UTC offset, got {value!r}") from e
    if at.tzinfo is None:
        raise ScenarioError(key, "needs a UTC offset (and quotes in YAML)")
    return at


def day(key: str, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as e:
        raise ScenarioError(key, f"needs a date YYYY-MM-DD, got {value!r}") from e


def clock_time(key: str, value: Any) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 18:00 as the sexagesimal number 1080 (minutes)
        return time(*divmod(value, 60)) if 0 <= value < 1440 else _bad_time(key, value)
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        return _bad_time(key, value)


def _bad_time(key: str, value: Any) -> time:
    raise ScenarioError(key, f"needs a time of day HH:MM, got {value!r}")
