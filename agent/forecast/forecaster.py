"""The forecasting API the control cycle calls: ``forecast(now, intervals)`` once per cycle and
``observe(interval, ...)`` once per metering interval.

``forecast`` never raises. Each quantity degrades along its documented order (see the modules
baseload, pv_forecast and quantity) and says so in ``Series.degraded``; even a bug in one of
them only costs that quantity its method: it is replaced by its plain default (flat base load,
no PV, default temperature and draw) with the error named in ``degraded``.

Independent of the optimizer: :mod:`agent.planning` maps :class:`Forecasts` into the planner's inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from agent.forecast.accuracy import ErrorRecorder
from agent.forecast.baseload import BaseLoadForecaster
from agent.forecast.pv_forecast import PvForecaster
from agent.forecast.quantity import QuantityForecaster
from agent.forecast.records import Forecasts, Series, Vec
from agent.forecast.sources import MqttSource
from agent.market.intervals import Interval

_log = logging.getLogger("agent.forecast")


class Forecaster:
    def __init__(
        self,
        tz: ZoneInfo,
        *,
        base_load: BaseLoadForecaster,
        pv: PvForecaster,
        outdoor: QuantityForecaster,
        draws: QuantityForecaster,
        recorder: ErrorRecorder | None = None,
        mqtt_sources: Sequence[MqttSource] = (),
    ) -> None:
        self.tz = tz
        self.base_load = base_load
        self.pv = pv
        self.outdoor = outdoor
        self.draws = draws
        self.recorder = recorder or ErrorRecorder()
        self.mqtt_sources = tuple(mqtt_sources)
        self._failing: set[str] = set()

    async def start(self) -> None:
        """Subscribe the MQTT sources (their broker clients are started by whoever owns them)."""
        for source in self.mqtt_sources:
            await source.start()

    async def stop(self) -> None:
        for source in self.mqtt_sources:
            source.stop()

    # -- forecasting ----------------------------------------------------------------------------

    def forecast(self, now: datetime, intervals: Sequence[Interval]) -> Forecasts:
        """Forecasts for ``intervals`` (the plan's horizon), issued at ``now``. Never raises."""
        intervals = list(intervals)
        n = len(intervals)
        outdoor = self._guard("outdoor_c", now, n, 10.0, lambda: self.outdoor.forecast(now, intervals))
        air: Vec = outdoor.values
        base = self._guard(
            "base_load_kw", now, n, self.base_load.settings.default_kw,
            lambda: self.base_load.forecast(now, intervals),
        )  # fmt: skip
        pv = self._guard("pv_kw", now, n, 0.0, lambda: self.pv.forecast(now, intervals, air))
        draws = self._guard("draw_l", now, n, 0.0, lambda: self.draws.forecast(now, intervals))
        sun = self._guard("ghi_w_per_m2", now, n, 0.0, lambda: self.pv.irradiance(now, intervals))
        result = Forecasts(now, tuple(iv.start for iv in intervals), base, pv, outdoor, draws, sun)
        self._record(result, intervals)
        return result

    def _guard(
        self, quantity: str, now: datetime, n: int, default: float, make: Callable[[], Series]
    ) -> Series:
        try:
            series = make()
            if len(series.values) != n or not np.all(np.isfinite(series.values)):
                raise ValueError(
                    f"produced {len(series.values)} values for {n} intervals or a non-finite one"
                )
        except Exception as e:  # the control cycle must plan even if a forecast method is broken
            if quantity not in self._failing:
                _log.exception("%s forecast failed; using the constant %g", quantity, default)
            self._failing.add(quantity)
            return Series(
                quantity, np.full(n, default), now, f"constant {default:g}", f"forecast failed: {e}"
            )
        if quantity in self._failing:
            _log.info("%s forecast recovered", quantity)
            self._failing.discard(quantity)
        return series

    def _record(self, result: Forecasts, intervals: Sequence[Interval]) -> None:
        hours = np.array([iv.hours for iv in intervals])
        rows = (
            ("base_load_kw", result.base_load_kw),
            ("pv_kw", result.pv_kw),
            ("outdoor_c", result.outdoor_c),
            ("draw_l_per_h", result.draw_l / np.maximum(hours, 1e-9)),
        )
        spans_s = [(iv.start_utc.timestamp(), iv.end_utc.timestamp()) for iv in intervals]
        issued_s = result.issued_at.timestamp()
        for quantity, values in rows:
            self.recorder.record_forecasts(quantity, spans_s, issued_s, np.asarray(values, float).tolist())

    # -- measurements ---------------------------------------------------------------------------

    def observe(
        self,
        interval: Interval,
        *,
        base_load_kw: float | None = None,
        pv_kw: float | None = None,
        pv_curtailed: bool = False,
        outdoor_c: float | None = None,
        draw_l: float | None = None,
    ) -> None:
        """What was measured over ``interval`` (means; ``draw_l`` is the litres drawn in it).

        ``base_load_kw`` is the home's uncontrolled consumption: metered grid exchange minus the
        planned devices plus PV. Feeds history (base load, PV ratio) and the error record.
        """
        if base_load_kw is not None:
            self.base_load.observe(interval, base_load_kw)
            self.recorder.record_measurement("base_load_kw", interval, base_load_kw)
        if pv_kw is not None:
            self.pv.observe(interval, pv_kw, curtailed=pv_curtailed)
            if not pv_curtailed:
                self.recorder.record_measurement("pv_kw", interval, pv_kw)
        if outdoor_c is not None:
            self.recorder.record_measurement("outdoor_c", interval, outdoor_c)
        if draw_l is not None:
            self.recorder.record_measurement("draw_l_per_h", interval, draw_l / interval.hours)

    def accuracy(self) -> dict[str, Any]:
        """Rolling forecast error per quantity and lead bucket, for the web page."""
        return self.recorder.summary()
