"""Per-interval series for a scenario: numbers, inline lists, or CSV columns resampled by holding.

A CSV has a ``time`` column of ISO 8601 instants with offsets (interval starts, as in
``shared/data``). The value for an interval is the last row at or before its start (a step hold:
right for prices and hourly means). ``align: wall`` matches local wall-clock times instead of
instants, to borrow a typical-year weather file from another time zone.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from agent.optimizer.errors import OptimizerError
from agent.optimizer.structure import Vec


class ScenarioError(OptimizerError):
    """A scenario file that cannot be turned into a plan; ``key`` is the offending key path."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


SERIES_KEYS = {"csv", "column", "values", "scale", "offset", "align"}


class SeriesTable:
    """The named series of one scenario, sampled at the scenario's interval starts."""

    def __init__(self, specs: Mapping[str, Any], base_dir: Path, starts: list[datetime]) -> None:
        self.starts = starts
        self.base_dir = base_dir
        self.values: dict[str, Vec] = {}
        self._csv_cache: dict[Path, tuple[list[datetime], dict[str, list[str]]]] = {}
        for name, spec in specs.items():
            self.values[str(name)] = self._load(f"series.{name}", spec)

    def _load(self, key: str, spec: Any) -> Vec:
        if not isinstance(spec, Mapping):
            return self._plain(key, spec)
        unknown = set(spec) - SERIES_KEYS
        if unknown:
            raise ScenarioError(
                f"{key}.{sorted(unknown)[0]}", f"unknown key; allowed: {', '.join(sorted(SERIES_KEYS))}"
            )
        if "values" in spec:
            raw = self._plain(f"{key}.values", spec["values"])
        elif "csv" in spec:
            raw = self._from_csv(key, spec)
        else:
            raise ScenarioError(key, "needs 'csv' (with 'column') or 'values'")
        return raw * _number(f"{key}.scale", spec.get("scale", 1.0)) + _number(
            f"{key}.offset", spec.get("offset", 0.0)
        )

    def _plain(self, key: str, value: Any) -> Vec:
        n = len(self.starts)
        if isinstance(value, bool):
            raise ScenarioError(key, "must be a number or a list of numbers")
        if isinstance(value, int | float):
            return np.full(n, float(value))
        if isinstance(value, list):
            if len(value) != n:
                raise ScenarioError(key, f"has {len(value)} values; the horizon has {n} intervals")
            return np.array([_number(f"{key}[{i}]", v) for i, v in enumerate(value)])
        raise ScenarioError(key, f"must be a number or a list of numbers, got {type(value).__name__}")

    def _read(self, key: str, path: Path) -> tuple[list[datetime], dict[str, list[str]]]:
        if path not in self._csv_cache:
            try:
                with path.open(newline="", encoding="utf-8") as f:
                    rows = list(csv.DictReader(f))
            except OSError as e:
                raise ScenarioError(f"{key}.csv", f"cannot read {path}: {e.strerror}") from e
            if not rows or "time" not in rows[0]:
                raise ScenarioError(f"{key}.csv", f"{path} has no 'time' column or no rows")
            try:
                times = [datetime.fromisoformat(r["time"]) for r in rows]
            except ValueError as e:
                raise ScenarioError(f"{key}.csv", f"{path}: bad time ({e})") from e
            cols = {c: [r[c] for r in rows] for c in rows[0] if c != "time"}
            self._csv_cache[path] = (times, cols)
        return self._csv_cache[path]

    def _from_csv(self, key: str, spec: Mapping[str, Any]) -> Vec:
        path = self.base_dir / str(spec["csv"])
        times, cols = self._read(key, path)
        column = spec.get("column")
        if column not in cols:
            raise ScenarioError(f"{key}.column", f"{column!r} not in {path.name}; columns: {', '.join(cols)}")
        align = spec.get("align", "instant")
        if align == "instant":
            keys = [t.timestamp() for t in times]
            wanted = [s.timestamp() for s in self.starts]
        elif align == "wall":
            keys = [t.replace(tzinfo=None).timestamp() for t in times]
            wanted = [s.replace(tzinfo=None).timestamp() for s in self.starts]
        else:
            raise ScenarioError(f"{key}.align", f"must be 'instant' or 'wall', got {align!r}")
        out = np.empty(len(wanted))
        for i, w in enumerate(wanted):
            j = bisect.bisect_right(keys, w) - 1
            if j < 0:
                raise ScenarioError(f"{key}.csv", f"{path.name} starts after {self.starts[i].isoformat()}")
            cell = cols[column][j]
            if cell == "":
                raise ScenarioError(f"{key}.csv", f"{path.name} has no value at {times[j].isoformat()}")
            out[i] = _number(f"{key}.csv", cell)
        return out

    def resolve(self, key: str, value: Any) -> Vec:
        """A series-valued key: a number, a list, a series name, or {series, scale, offset}."""
        if isinstance(value, str):
            if value not in self.values:
                raise ScenarioError(
                    key, f"unknown series {value!r}; defined: {', '.join(self.values) or 'none'}"
                )
            return self.values[value].copy()
        if isinstance(value, Mapping) and "series" in value:
            base = self.resolve(key, value["series"])
            return base * _number(f"{key}.scale", value.get("scale", 1.0)) + _number(
                f"{key}.offset", value.get("offset", 0.0)
            )
        return self._plain(key, value)


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ScenarioError(key, "must be a number")
    try:
        out = float(value)
    except (TypeError, ValueError) as e:
        raise ScenarioError(key, f"must be a number, got {value!r}") from e
    if not np.isfinite(out):
        raise ScenarioError(key, "must be finite")
    return out
