"""Time series the plant replays: base load, prices, weather columns, read from CSV files.

Files follow ``shared/data`` conventions: a ``time`` column holding the interval start in ISO 8601
with a UTC offset, then value columns with their unit in the name. A series answers either the
value of the interval that contains an instant (``step``: averages such as kW over 15 min) or a
linear interpolation between sample points (``linear``: instantaneous quantities).
"""

from __future__ import annotations

import bisect
import csv
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from hil.errors import PlantDataError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Series:
    """Samples at strictly increasing instants; ``times_s`` are POSIX seconds."""

    name: str
    times_s: tuple[float, ...]
    values: tuple[float, ...]
    step_s: float  # the regular sample spacing (the length of the last interval)

    def __post_init__(self) -> None:
        if len(self.times_s) != len(self.values) or not self.times_s:
            raise PlantDataError("needs equally many times and values, at least one", field=self.name)
        if any(b <= a for a, b in itertools.pairwise(self.times_s)):
            raise PlantDataError("times must increase strictly", field=self.name)

    @property
    def start(self) -> float:
        return self.times_s[0]

    @property
    def end(self) -> float:
        return self.times_s[-1] + self.step_s

    def step(self, at: datetime) -> float:
        """The value of the interval containing ``at`` (clamped to the first/last interval)."""
        i = bisect.bisect_right(self.times_s, at.timestamp()) - 1
        return self.values[min(max(i, 0), len(self.values) - 1)]

    def linear(self, at: datetime, shift_s: float = 0.0) -> float:
        """Linear interpolation, samples taken to stand at ``time + shift_s`` (clamped at the ends)."""
        t = at.timestamp() - shift_s
        i = bisect.bisect_right(self.times_s, t)
        if i <= 0:
            return self.values[0]
        if i >= len(self.times_s):
            return self.values[-1]
        t0, t1 = self.times_s[i - 1], self.times_s[i]
        v0, v1 = self.values[i - 1], self.values[i]
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0)

    def mean(self, start: datetime, end: datetime) -> float:
        """Time-weighted mean of the step series over ``[start, end)`` (exact for averages)."""
        a, b = start.timestamp(), end.timestamp()
        if b <= a:
            return self.step(start)
        total = 0.0
        t = a
        while t < b:
            i = bisect.bisect_right(self.times_s, t) - 1
            nxt = self.times_s[i + 1] if 0 <= i < len(self.times_s) - 1 else math.inf
            if i < 0:
                nxt = self.times_s[0]
            seg_end = min(b, nxt)
            total += self.values[min(max(i, 0), len(self.values) - 1)] * (seg_end - t)
            t = seg_end
        return total / (b - a)


def read_columns(path: Path, columns: Sequence[str]) -> dict[str, Series]:
    """The named columns of a CSV file as series; empty or non-numeric cells are errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PlantDataError(f"cannot read: {e}", field=str(path)) from e
    rows = list(csv.reader(text.splitlines()))
    if not rows or rows[0][:1] != ["time"]:
        raise PlantDataError("first column must be 'time'", field=f"{path}:1")
    header = rows[0]
    missing = [c for c in columns if c not in header]
    if missing:
        raise PlantDataError(f"no column(s) {missing}; has {header[1:]}", field=f"{path}:1")
    idx = {c: header.index(c) for c in columns}
    times: list[float] = []
    cols: dict[str, list[float]] = {c: [] for c in columns}
    for line_no, row in enumerate(rows[1:], start=2):
        try:
            at = datetime.fromisoformat(row[0])
        except (ValueError, IndexError) as e:
            raise PlantDataError(f"bad time {row[:1]!r}", field=f"{path}:{line_no}") from e
        if at.tzinfo is None:
            raise PlantDataError("time has no UTC offset", field=f"{path}:{line_no}")
        times.append(at.timestamp())
        for c, i in idx.items():
            try:
                cols[c].append(float(row[i]))
            except (ValueError, IndexError) as e:
                raise PlantDataError(
                    f"{c} is not a number: {row[i : i + 1]!r}", field=f"{path}:{line_no}"
                ) from e
    if len(times) < 2:
        raise PlantDataError("needs at least two rows", field=str(path))
    step_s = times[1] - times[0]
    return {c: Series(f"{path.name}:{c}", tuple(times), tuple(v), step_s) for c, v in cols.items()}


def load_profile_kw(path: Path) -> Series:
    """A base-load profile (``load_kw``: average kW per interval)."""
    return read_columns(path, ["load_kw"])["load_kw"]


def shifted(series: Series, by: timedelta) -> Series:
    """The same samples, ``by`` later (to replay a recorded week at another date)."""
    s = by.total_seconds()
    return Series(series.name, tuple(t + s for t in series.times_s), series.values, series.step_s)
