"""A daily profile given in the config: local hour of day -> value.

``linear`` interpolates between the given hours (wrapping over midnight), for smooth
quantities such as temperature; ``step`` holds each value until the next given hour, for
quantities such as hot-water draws where "60 L/h from 07:00, 0 from 08:00" is meant literally.
Profiles are read on the local wall clock, so 07:00 stays 07:00 across DST.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from agent.forecast.records import Vec

Interpolation = Literal["linear", "step"]


class DailyProfile:
    def __init__(self, points: Mapping[float, float], interpolation: Interpolation = "linear") -> None:
        if not points:
            raise ValueError("a daily profile needs at least one hour")
        hours = sorted(points)
        self._hours = np.array(hours, dtype=np.float64)
        self._values = np.array([points[h] for h in hours], dtype=np.float64)
        self.interpolation: Interpolation = interpolation

    def at_hours(self, local_hours: Vec) -> Vec:
        h = np.mod(np.asarray(local_hours, dtype=np.float64), 24.0)
        if self.interpolation == "step":
            # The value in force is the last given hour <= h; before the first one, yesterday's last.
            idx = np.searchsorted(self._hours, h, side="right") - 1
            return np.asarray(self._values[idx % len(self._values)], dtype=np.float64)
        xs = np.concatenate((self._hours - 24.0, self._hours, self._hours + 24.0))
        ys = np.tile(self._values, 3)
        return np.asarray(np.interp(h, xs, ys), dtype=np.float64)

    def at(self, epoch_s: Vec, tz: ZoneInfo) -> Vec:
        return self.at_hours(local_hours(epoch_s, tz))


def local_hours(epoch_s: Vec, tz: ZoneInfo) -> Vec:
    """Local wall-clock hour of day (0 <= h < 24) of each instant."""
    out = np.empty(len(epoch_s), dtype=np.float64)
    for i, t in enumerate(np.asarray(epoch_s, dtype=np.float64)):
        local = datetime.fromtimestamp(float(t), tz)
        out[i] = local.hour + local.minute / 60.0 + (local.second + local.microsecond / 1e6) / 3600.0
    return out
