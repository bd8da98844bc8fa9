"""PV forecast: the clear-sky power of the configured arrays, scaled by what the sky will do.

Methods, per interval, in this order:

1. **weather**: a forecast series of GHI (W/m²) or cloud cover (%) from a source. GHI gives the
   clearness ``k = GHI / GHI_clear`` per interval; cloud cover gives it by Kasten & Czeplak
   (1980), ``k = 1 - 0.75 (cover/100)^3.4``. The clear-sky GHI scaled by k goes through the beam/
   diffuse split and the transposition, so a cloudy day also loses its direct-beam advantage.
2. **recent**: the ratio of measured to clear-sky production over the last ``recent_h`` hours
   (clipped to ``[0, ratio_max]``), decaying toward the climatological ratio with lead time
   (time constant ``decay_h``): the sky now says much about the next hour, little about tomorrow.
3. **climatology**: clear-sky power times ``climate_ratio``.

Intervals the weather series does not cover take the next method. Curtailed measurements are not
used for the ratio (they say what the planner wanted, not what the sky gave). The weather
method's power is scaled by the array's learnt yield factor (:mod:`agent.forecast.pv_calibration`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

import numpy as np

from agent.forecast.errors import SourceError
from agent.forecast.pv_calibration import YieldCalibration
from agent.forecast.pv_model import PvArray, total_power_kw
from agent.forecast.records import Series, Vec
from agent.forecast.sampling import Sampling, sample
from agent.forecast.solar import SunPosition, clear_sky_ghi, sun_position
from agent.forecast.sources import Observation, Source
from agent.market.intervals import Interval

NOMINAL_AIR_C = 15.0
# Clear-sky energy below this share of peak x window says nothing about the sky (dawn, night).
_MIN_DAYLIGHT_SHARE = 0.05
_MAX_CLEARNESS = 1.3


@dataclass(frozen=True)
class PvSettings:
    latitude_deg: float
    longitude_deg: float
    recent_h: float = 3.0
    decay_h: float = 4.0
    climate_ratio: float = 0.7
    ratio_max: float = 1.2
    weather_kind: Literal["ghi_w_per_m2", "cloud_cover_pct"] = "ghi_w_per_m2"
    calibration_h: float = 72.0  # 0: the weather method's power as modelled


class _Sky(NamedTuple):
    sampling: Sampling
    sun: SunPosition
    ghi_clear: Vec


class PvForecaster:
    def __init__(
        self, arrays: Sequence[PvArray], settings: PvSettings, weather: Source | None = None
    ) -> None:
        self.arrays = tuple(arrays)
        self.settings = settings
        self.weather = weather
        self.peak_kw = sum(a.peak_kw for a in self.arrays)
        # (start_s, end_s, measured kW, clear-sky kW) of recent uncurtailed intervals
        self._recent: deque[tuple[float, float, float, float]] = deque()
        self.calibration = YieldCalibration(self.peak_kw, settings.calibration_h)
        # The sky of the last horizon asked for: a plan asks for PV and irradiance over the same one.
        self._sky_kept: tuple[tuple[tuple[datetime, datetime], ...], _Sky] | None = None

    def _sky(self, intervals: Sequence[Interval]) -> _Sky:
        """The sample instants of ``intervals``, the sun there and the clear-sky GHI."""
        key = tuple((iv.start_utc, iv.end_utc) for iv in intervals)
        kept = self._sky_kept
        if kept is not None and kept[0] == key:
            return kept[1]
        sampling = sample(intervals)
        sun = sun_position(sampling.epoch_s, self.settings.latitude_deg, self.settings.longitude_deg)
        sky = _Sky(sampling, sun, clear_sky_ghi(sun.cos_zenith))
        self._sky_kept = (key, sky)
        return sky

    def clear_sky_kw(self, intervals: Sequence[Interval], air_c: Vec | None = None) -> Vec:
        sampling = sample(intervals)
        sun = sun_position(sampling.epoch_s, self.settings.latitude_deg, self.settings.longitude_deg)
        air = sampling.spread(air_c) if air_c is not None else np.full(len(sampling.epoch_s), NOMINAL_AIR_C)
        return sampling.mean(total_power_kw(self.arrays, clear_sky_ghi(sun.cos_zenith), sun, air))

    def observe(self, interval: Interval, kw: float, *, curtailed: bool = False) -> None:
        if curtailed or not np.isfinite(kw) or not self.arrays:
            return
        self.calibration.observe(interval, kw)
        clear = float(self.clear_sky_kw([interval])[0])
        self._recent.append(
            (interval.start_utc.timestamp(), interval.end_utc.timestamp(), max(kw, 0.0), clear)
        )
        horizon_s = interval.end_utc.timestamp() - self.settings.recent_h * 3600.0
        while self._recent and self._recent[0][1] <= horizon_s:
            self._recent.popleft()

    def recent_ratio(self, now_s: float) -> float | None:
        since = now_s - self.settings.recent_h * 3600.0
        rows = [r for r in self._recent if r[1] > since]
        clear_kwh = sum((b - a) / 3600.0 * c for a, b, _, c in rows)
        if clear_kwh < _MIN_DAYLIGHT_SHARE * self.peak_kw * self.settings.recent_h:
            return None
        measured_kwh = sum((b - a) / 3600.0 * m for a, b, m, _ in rows)
        return float(np.clip(measured_kwh / clear_kwh, 0.0, self.settings.ratio_max))

    def _weather_clearness(self, now: datetime, intervals: Sequence[Interval], clear_ghi: Vec) -> Vec:
        """Clearness per interval from the weather source; NaN where it has nothing. Raises SourceError."""
        assert self.weather is not None
        data = self.weather.read(now)
        if isinstance(data, Observation):
            raise SourceError("gives a single value; PV needs a forecast series", field=self.weather.field)
        forecast = data.over_intervals(intervals)
        if self.settings.weather_kind == "cloud_cover_pct":
            cover = np.clip(forecast, 0.0, 100.0) / 100.0
            return np.asarray(1.0 - 0.75 * cover**3.4, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            k = np.where(clear_ghi > 1.0, forecast / np.maximum(clear_ghi, 1.0), 1.0)
        return np.asarray(np.where(np.isfinite(forecast), np.clip(k, 0.0, _MAX_CLEARNESS), np.nan))

    def forecast(self, now: datetime, intervals: Sequence[Interval], air_c: Vec | None = None) -> Series:
        if not self.arrays:
            return Series("pv_kw", np.zeros(len(intervals)), now, "no PV configured")
        sampling, sun, ghi_clear = self._sky(intervals)
        air = sampling.spread(air_c) if air_c is not None else np.full(len(sampling.epoch_s), NOMINAL_AIR_C)
        clear_kw = sampling.mean(total_power_kw(self.arrays, ghi_clear, sun, air))

        now_s = now.timestamp()
        ratio = self.recent_ratio(now_s)
        s = self.settings
        scale, method = self._scale(now_s, intervals, ratio)
        values = clear_kw * scale
        degraded: str | None = None
        if ratio is None and self._daylight_expected(now_s):
            degraded = f"no PV measurement in the last {s.recent_h:g} h of daylight"
        if self.weather is not None:
            try:
                k = self._weather_clearness(now, intervals, sampling.mean(ghi_clear))
            except SourceError as e:
                degraded = f"{e}; using {method}"
            else:
                by_weather = sampling.mean(
                    total_power_kw(self.arrays, ghi_clear * sampling.spread(np.nan_to_num(k)), sun, air)
                )
                covered = np.isfinite(k)
                self.calibration.remember(now_s, intervals, np.where(covered, by_weather, np.nan))
                factor = self.calibration.factor()
                values = np.where(covered, by_weather * factor, values)
                if covered.all():
                    method, degraded = f"clear sky x {self.weather.description} x yield {factor:.2f}", None
                else:
                    degraded = (
                        f"{self.weather.description} covers {int(covered.sum())} of {len(intervals)} "
                        f"intervals; rest from {method}"
                    )
                    method = f"{self.weather.description} + {method}"
        return Series("pv_kw", np.clip(values, 0.0, self.peak_kw), now, method, degraded)

    def irradiance(self, now: datetime, intervals: Sequence[Interval]) -> Series:
        """Global horizontal irradiance (W/m², mean per interval) by the same methods as the PV
        forecast: the weather source's series where it has one, else clear sky scaled by the
        recent (then climatological) ratio. Feeds the house's solar gains."""
        sampling, _, ghi_clear = self._sky(intervals)
        clear = sampling.mean(ghi_clear)
        now_s = now.timestamp()
        scale, method = self._scale(now_s, intervals, self.recent_ratio(now_s) if self.arrays else None)
        values, degraded = clear * scale, None
        if self.weather is not None:
            try:
                k = self._weather_clearness(now, intervals, clear)
            except SourceError as e:
                degraded = f"{e}; using {method}"
            else:
                values = np.where(np.isfinite(k), clear * np.nan_to_num(k), values)
                method = f"clear sky x {self.weather.description}"
        return Series("ghi_w_per_m2", np.clip(values, 0.0, None), now, method, degraded)

    def _scale(self, now_s: float, intervals: Sequence[Interval], ratio: float | None) -> tuple[Vec, str]:
        """Share of clear sky per interval without a weather series, and the method's name: the
        recent ratio decaying toward the climatological one with lead time, or the latter alone."""
        s = self.settings
        if ratio is None:
            return np.full(
                len(intervals), s.climate_ratio
            ), f"clear sky x climatological ratio {s.climate_ratio:g}"
        mids = np.array([(iv.start_utc + iv.span / 2).timestamp() for iv in intervals])
        lead_h = np.clip(mids - now_s, 0.0, None) / 3600.0
        scale = s.climate_ratio + (ratio - s.climate_ratio) * np.exp(-lead_h / s.decay_h)
        return scale, f"clear sky x recent ratio {ratio:.2f}"

    def _daylight_expected(self, now_s: float) -> bool:
        window_s = self.settings.recent_h * 3600.0
        times = np.linspace(now_s - window_s, now_s, 13)
        sun = sun_position(times, self.settings.latitude_deg, self.settings.longitude_deg)
        return bool(np.mean(clear_sky_ghi(sun.cos_zenith)) > 100.0)
