"""The base-load prior: what a household of this size uses, before its own meter has said much.

The shape is the BDEW H0 standard household profile, folded into one mean per month, day type
(workday, Saturday, Sunday) and local hour (``data/h0_profile.csv``: kW for a household using
1000 kWh a year; derived from ``scenarios/data/load_h0_2015.csv`` — BDEW/VDEW H0 as computed by
demandlib 0.2.2, oemof developer group, MIT licence — public holidays counted by their weekday).
It is scaled by the household's annual consumption (``forecast.base_load.annual_consumption_kwh``,
the figure on its yearly bill less what the planned devices use): ``prior = shape ×
annual / 1000``. A window's value is the mean over the hours it touches, weighted by overlap.

History takes over as it accumulates: with ``d`` days between the oldest and newest metered
sample, the forecast is ``w · history + (1 − w) · prior`` with ``w = min(1, d / prior_days)``
(``forecast.base_load.prior_days``, 7 by default): no history, the prior alone; a week, history
alone. A window the history cannot estimate takes the prior alone.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import numpy as np

from agent.forecast.errors import ForecastError
from agent.forecast.records import Vec

DAY_TYPES = ("workday", "saturday", "sunday")
PROFILE_KWH_A = 1000.0


def day_type(weekday: int) -> int:
    """0 workday (Monday..Friday), 1 Saturday, 2 Sunday."""
    return 0 if weekday < 5 else weekday - 4


def load_shape() -> Vec:
    """The packaged shape as an array [month 1..12 - 1, day type, hour] of kW per 1000 kWh/a."""
    out = np.full((12, 3, 24), np.nan)
    text = resources.files("agent.forecast").joinpath("data/h0_profile.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(text.splitlines()):
        out[int(row["month"]) - 1, DAY_TYPES.index(row["day_type"]), int(row["hour"])] = float(
            row["kw_per_1000_kwh_a"]
        )
    if not np.all(np.isfinite(out)):
        raise ForecastError("the packaged H0 profile is incomplete")
    return out


class LoadPrior:
    def __init__(self, annual_kwh: float, tz: ZoneInfo, *, prior_days: float = 7.0, shape: Vec | None = None):
        if not annual_kwh > 0:
            raise ForecastError(f"forecast.base_load.annual_consumption_kwh: must be > 0, got {annual_kwh}")
        if not prior_days > 0:
            raise ForecastError(f"forecast.base_load.prior_days: must be > 0, got {prior_days}")
        self.kw = (load_shape() if shape is None else shape) * (annual_kwh / PROFILE_KWH_A)
        self.tz = tz
        self.prior_days = prior_days

    def hour_kw(self, local: datetime) -> float:
        return float(self.kw[local.month - 1, day_type(local.weekday()), local.hour])

    def window_mean_kw(self, start_s: float, span_s: float) -> float:
        """Mean over ``[start, start + span)``: the hours it touches, weighted by overlap."""
        if span_s <= 0:
            return self.hour_kw(datetime.fromtimestamp(start_s, self.tz))
        end_s = start_s + span_s
        total = 0.0
        at_s = start_s
        while at_s < end_s:
            local = datetime.fromtimestamp(at_s, self.tz)
            top = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            step_end = min(end_s, top.timestamp())
            total += self.hour_kw(local) * (step_end - at_s)
            at_s = step_end
        return total / span_s

    def weight(self, history_days: float) -> float:
        """The history's share of the blend."""
        return min(1.0, max(0.0, history_days) / self.prior_days)

    def blend(self, history_kw: float | None, prior_kw: float, history_days: float) -> float:
        if history_kw is None or not np.isfinite(history_kw):
            return prior_kw
        w = self.weight(history_days)
        return w * history_kw + (1.0 - w) * prior_kw
