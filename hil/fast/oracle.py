"""Forecasts that know the future: what the simulated plant will do, in the agent's forecaster.

An oracle answers ``forecast(now, intervals)`` as the agent's own forecaster of that quantity
does, but with the truth of the plant the run simulates, so a run can say what one forecast's
errors cost (``bench.decompose``; ``hems simulate --fast --oracle base_load,pv``):

* ``base_load``: the plant's base-load profile, averaged over each interval (kW);
* ``pv``: the power the plant's array could deliver (before any curtailment), averaged over
  each interval (kW), and the global horizontal irradiance there (W/m², the house's solar
  gains): both come from the same sky, which is why one name swaps both;
* ``outdoor``: the air temperature, averaged over each interval (°C);
* ``draws``: the litres the taps draw in each interval, from the plant's draw profile.

Means are taken over instants :data:`SAMPLE_S` apart at the middles of the plant's own steps
(the fast world advances it in steps of that length from the scenario's start), so an oracle
sees the instants the plant is evaluated at. Each interval's mean is kept: consecutive plans ask
for nearly the same horizon. Everything else (``observe``, settings, the error record) passes
to the agent's forecaster the oracle replaces, so the agent's learning goes on unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from agent.forecast import Forecaster
from agent.forecast.per_interval import PerInterval
from agent.forecast.records import Series, Vec
from agent.market.intervals import Interval
from agent.scenario.errors import ScenarioError
from hil.plant import Plant

ORACLES = ("base_load", "pv", "outdoor", "draws")
SAMPLE_S = 30.0  # the fast world's plant step (hil.fast.world.MAX_STEP_S)
SOURCE = "simulated plant (oracle)"


def parse_oracles(names: str | Sequence[str]) -> tuple[str, ...]:
    """The oracle names of a comma-separated list (or a sequence), checked and in their order."""
    items = names.split(",") if isinstance(names, str) else list(names)
    chosen = tuple(dict.fromkeys(n.strip() for n in items if n.strip()))
    unknown = [n for n in chosen if n not in ORACLES]
    if unknown:
        raise ScenarioError("--oracle", f"unknown {unknown}; choose from {', '.join(ORACLES)}")
    return chosen


class _Means:
    """Per-interval means of a function of the instant, kept per interval."""

    def __init__(self, at: Callable[[datetime], tuple[float, ...]], width: int) -> None:
        self._at = at
        self._width = width
        self._kept = PerInterval(lambda ivs: [self._mean(iv.start_utc, iv.end_utc) for iv in ivs])

    def over(self, intervals: Sequence[Interval]) -> np.ndarray:
        return np.array(self._kept.over(intervals), dtype=np.float64).reshape(-1, self._width)

    def _mean(self, start: datetime, end: datetime) -> tuple[float, ...]:
        span_s = (end - start).total_seconds()
        n = max(1, round(span_s / SAMPLE_S))
        piece_s = span_s / n
        rows = [self._at(start + timedelta(seconds=(k + 0.5) * piece_s)) for k in range(n)]
        return tuple(float(v) for v in np.mean(np.array(rows, dtype=np.float64), axis=0))


class _Delegating:
    """Whatever the oracle does not answer goes to the forecaster it replaces."""

    def __init__(self, replaced: Any) -> None:
        self.replaced = replaced

    def __getattr__(self, name: str) -> Any:
        return getattr(self.replaced, name)


class BaseLoadOracle(_Delegating):
    def __init__(self, plant: Plant, replaced: Any) -> None:
        super().__init__(replaced)
        self._means = _Means(lambda t: (plant.base_load.kw(t),), 1)

    def forecast(self, now: datetime, intervals: Sequence[Interval]) -> Series:
        return Series("base_load_kw", self._means.over(intervals)[:, 0], now, SOURCE)


class PvOracle(_Delegating):
    def __init__(self, plant: Plant, replaced: Any) -> None:
        super().__init__(replaced)
        weather, array = plant.weather, plant.pv

        def at(t: datetime) -> tuple[float, float]:
            w = weather.at(t)
            kw = array.available_kw(w, weather.latitude_deg, weather.longitude_deg) if array else 0.0
            return kw, w.ghi_w_per_m2

        self._means = _Means(at, 2)

    def forecast(self, now: datetime, intervals: Sequence[Interval], air_c: Vec | None = None) -> Series:
        # The plant's own air temperature sets its cells' temperature: the agent's is not needed.
        return Series("pv_kw", self._means.over(intervals)[:, 0], now, SOURCE)

    def irradiance(self, now: datetime, intervals: Sequence[Interval]) -> Series:
        return Series("ghi_w_per_m2", self._means.over(intervals)[:, 1], now, SOURCE)


class OutdoorOracle(_Delegating):
    def __init__(self, plant: Plant, replaced: Any) -> None:
        super().__init__(replaced)
        self._means = _Means(lambda t: (plant.weather.at(t).temp_air_c,), 1)

    def forecast(self, now: datetime, intervals: Sequence[Interval]) -> Series:
        return Series("outdoor_c", self._means.over(intervals)[:, 0], now, SOURCE)


class DrawsOracle(_Delegating):
    def __init__(self, plant: Plant, replaced: Any) -> None:
        super().__init__(replaced)
        self._plant = plant

    def forecast(self, now: datetime, intervals: Sequence[Interval]) -> Series:
        draws = self._plant.draws if self._plant.tank is not None else None
        litres = [draws.litres_between(iv.start_utc, iv.end_utc) if draws else 0.0 for iv in intervals]
        return Series("draw_l", np.array(litres, dtype=np.float64), now, SOURCE)


_MAKERS: dict[str, Callable[[Plant, Any], _Delegating]] = {
    "base_load": BaseLoadOracle,
    "pv": PvOracle,
    "outdoor": OutdoorOracle,
    "draws": DrawsOracle,
}


def install_oracles(forecaster: Forecaster, plant: Plant, names: Sequence[str]) -> None:
    """Swap the named quantities of the agent's ``forecaster`` for the truth of ``plant``."""
    for name in parse_oracles(names):
        # The forecaster calls only forecast (and irradiance) and passes the rest on: an oracle
        # stands in for the agent's class without being one.
        setattr(forecaster, name, _MAKERS[name](plant, getattr(forecaster, name)))
