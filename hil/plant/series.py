"""Time series the plant replays: base load, prices, weather columns, from the scenario's data.

The files are read by the scenario format's reader (``agent.scenario.series``: a ``time`` column
of ISO 8601 interval starts with offsets, gaps and empty cells refused or filled by the series'
rule, scale and offset applied). A series answers either the value of the interval that contains
an instant (``step``: averages such as kW over 15 min) or a linear interpolation between sample
points (``linear``: instantaneous quantities).
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import numpy as np

from agent.scenario.errors import ScenarioError
from agent.scenario.series import RawSeries, SeriesSpec, load_raw
from hil.errors import PlantDataError
from hil.plant.data import DATA_DIR

__all__ = ["DATA_DIR", "Series", "from_raw", "from_spec"]


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


def from_spec(name: str, spec: SeriesSpec | float, site_tz: tzinfo) -> tuple[Series, tzinfo]:
    """A scenario series for the plant, and the zone whose wall clock its times are read in.

    An ``instant`` series is read at the (replayed) instant in the site's zone; a ``wall`` series
    at the same wall-clock time in the file's own fixed offset. The plant needs every value of
    the file (it may be asked for any instant of a replay): a missing one is refused here.
    """
    if isinstance(spec, float | int):
        return Series(name, (0.0,), (float(spec),), 3600.0), site_tz
    return from_raw(name, load_raw(spec), site_tz)


def from_raw(name: str, raw: RawSeries, site_tz: tzinfo) -> tuple[Series, tzinfo]:
    """A loaded scenario series for the plant (see :func:`from_spec`)."""
    spec = raw.spec
    missing = np.nonzero(np.isnan(raw.values))[0]
    if missing.size:
        k = int(missing[0])
        row = int(raw.rows[k]) if raw.rows[k] >= 0 else None
        raise ScenarioError(
            spec.key, "a missing value (the rig replays the whole file: fill: week, or give it)",
            file=spec.path, row=row, column=spec.column,
        )  # fmt: skip
    zone: tzinfo = site_tz
    if spec.align == "standard":
        # the file's wall clock read as the site's standard time: a fixed shift to instants
        first = datetime.fromtimestamp(float(raw.times_s[0] - raw.utc_offset_s), UTC).astimezone(site_tz)
        times = (
            raw.times_s
            - ((first.utcoffset() or timedelta(0)) - (first.dst() or timedelta(0))).total_seconds()
        )
    elif spec.align == "wall":
        times = raw.times_s - raw.utc_offset_s
        zone = timezone(timedelta(seconds=raw.utc_offset_s))
    else:
        times = raw.times_s
    return Series(name, tuple(times.tolist()), tuple(raw.values.tolist()), raw.step_s), zone
