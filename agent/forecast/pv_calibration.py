"""The array's own yield against the model's: a factor learnt from what the meter saw.

The weather method turns forecast GHI into power through a beam/diffuse split, a transposition
and a loss figure; each is an approximation, and together they can be off by a fifth for a
given roof (on the rig's plant, whose irradiance comes with its measured beam and diffuse parts,
the model gave 16 % too little in June and 29 % in January). A planner that expects less sun
than comes keeps the battery charged for an evening the sun would have covered, and exports the
surplus it had no room for.

So the forecaster remembers what the model said, with the weather it had then, for the
intervals just ahead, and each uncurtailed PV measurement adds its energy and the model's for
the same time to rolling sums over ``window_h`` hours. The factor is their ratio, clipped to
``[FACTOR_MIN, FACTOR_MAX]``, once the model's side holds at least ``MIN_PEAK_HOURS`` hours of
the arrays' peak (before that, and with no weather source at all, it is 1).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from agent.forecast.records import Vec
from agent.market.intervals import Interval

FACTOR_MIN = 0.5
FACTOR_MAX = 1.6
MIN_PEAK_HOURS = 2.0
# How far ahead the model's values are kept: the measurement of an interval comes after it ends.
_REMEMBER_S = 3600.0


class YieldCalibration:
    def __init__(self, peak_kw: float, window_h: float) -> None:
        self.peak_kw = peak_kw
        self.window_h = window_h
        self._modelled: dict[tuple[float, float], float] = {}  # (start_s, end_s) -> model kW
        self._rows: deque[tuple[float, float, float]] = deque()  # (end_s, measured kWh, model kWh)
        self._measured_kwh = 0.0
        self._model_kwh = 0.0

    def remember(self, now_s: float, intervals: Sequence[Interval], model_kw: Vec) -> None:
        """The model's power (uncalibrated, from the weather series) for the intervals ahead."""
        for iv, kw in zip(intervals, model_kw, strict=True):
            start_s = iv.start_utc.timestamp()
            if start_s > now_s + _REMEMBER_S:
                break
            if not np.isfinite(kw):
                continue
            self._modelled[(start_s, iv.end_utc.timestamp())] = float(kw)
        for key in [k for k in self._modelled if k[1] < now_s - _REMEMBER_S]:
            del self._modelled[key]

    def observe(self, interval: Interval, measured_kw: float) -> bool:
        """Add one uncurtailed measurement; False if no remembered model value covers it."""
        start_s, end_s = interval.start_utc.timestamp(), interval.end_utc.timestamp()
        model_kw = next(
            (kw for (a, b), kw in self._modelled.items() if a <= start_s and end_s <= b),
            None,
        )
        if model_kw is None or self.window_h <= 0:
            return False
        hours = (end_s - start_s) / 3600.0
        row = (end_s, max(measured_kw, 0.0) * hours, max(model_kw, 0.0) * hours)
        self._rows.append(row)
        self._measured_kwh += row[1]
        self._model_kwh += row[2]
        while self._rows and self._rows[0][0] <= end_s - self.window_h * 3600.0:
            _, m, k = self._rows.popleft()
            self._measured_kwh -= m
            self._model_kwh -= k
        return True

    def factor(self) -> float:
        if self._model_kwh < MIN_PEAK_HOURS * self.peak_kw or self._model_kwh <= 0.0:
            return 1.0
        return min(max(self._measured_kwh / self._model_kwh, FACTOR_MIN), FACTOR_MAX)
