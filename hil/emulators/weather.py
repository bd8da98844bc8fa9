"""A weather-forecast service on MQTT: what a home gets from a forecast provider, from the plant's weather.

The agent in the field takes its outdoor-temperature and irradiance forecasts from an MQTT topic
(a Home Assistant bridge, a script polling a weather API); this emulator plays that provider for
the rig. Every ``period_s`` of the rig's clock it publishes, retained, one JSON forecast series per
quantity in the agent's forecast-source format (``[{"time": ISO, "value": x}, ...]``):

* ``<base>/temp_air_c``: outdoor air temperature, °C, at each hour;
* ``<base>/ghi_w_per_m2``: global horizontal irradiance, W/m², the mean over each hour (stamped
  at the hour's middle, as the plant reads its hourly averages).

The values are the plant's own weather (so the forecast is about the weather the plant will
really have) with a documented, seeded error that grows with lead time, as a real forecast's
does: an AR(1) error per issue (correlation :data:`ERROR_CORRELATION` from hour to hour), scaled
to a standard deviation of ``temp_sd_c`` + ``temp_sd_per_day_c`` per day of lead for the
temperature, and to a relative ``ghi_sd`` + ``ghi_sd_per_day`` per day of lead for the
irradiance (clipped at 0 and at 1.5 times the true value). The same issue time gives the same
forecast in every run.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.clock import Clock
from hil.emulators.mqtt_base import MqttEmulator
from hil.plant.weather import Weather, WeatherSample

ERROR_CORRELATION = 0.9  # hour to hour: forecast errors come in spells, not as white noise
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class ForecastErrors:
    temp_sd_c: float = 0.5
    temp_sd_per_day_c: float = 1.0
    ghi_sd: float = 0.10
    ghi_sd_per_day: float = 0.15
    seed: int = 2015

    def __post_init__(self) -> None:
        for name in ("temp_sd_c", "temp_sd_per_day_c", "ghi_sd", "ghi_sd_per_day"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")


@functools.lru_cache(maxsize=256)
def _truth(weather: Weather, at: datetime) -> WeatherSample:
    # Each refresh looks again at the hours the previous ones looked at.
    return weather.at(at)


def forecast_points(
    weather: Weather, issued: datetime, hours: int, errors: ForecastErrors
) -> dict[str, list[tuple[datetime, float]]]:
    """``hours`` hourly forecast points from the hour before the one holding ``issued`` (so that
    the interval under way is covered on both sides): quantity -> [(time, value)]."""
    first = issued.replace(minute=0, second=0, microsecond=0) - _HOUR
    rng = random.Random(f"{errors.seed}-{first.isoformat()}")
    innovation = math.sqrt(1.0 - ERROR_CORRELATION**2)
    z_temp = z_ghi = 0.0
    temp: list[tuple[datetime, float]] = []
    ghi: list[tuple[datetime, float]] = []
    for k in range(hours):
        at = first + k * _HOUR
        mid = at + _HOUR / 2
        lead_days = max(0.0, (mid - issued).total_seconds()) / 86400.0
        z_temp = ERROR_CORRELATION * z_temp + innovation * rng.gauss(0.0, 1.0)
        z_ghi = ERROR_CORRELATION * z_ghi + innovation * rng.gauss(0.0, 1.0)
        sd_t = errors.temp_sd_c + errors.temp_sd_per_day_c * lead_days
        sd_g = errors.ghi_sd + errors.ghi_sd_per_day * lead_days
        temp.append((at, _truth(weather, at).temp_air_c + sd_t * z_temp))
        true_ghi = _truth(weather, mid).ghi_w_per_m2
        ghi.append((mid, min(1.5 * true_ghi, max(0.0, true_ghi * (1.0 + sd_g * z_ghi)))))
    return {"temp_air_c": temp, "ghi_w_per_m2": ghi}


class WeatherService(MqttEmulator):
    """Publishes :func:`forecast_points` as retained JSON series, refreshed every ``period_s``."""

    def __init__(
        self,
        host: str,
        port: int,
        base_topic: str,
        *,
        weather: Weather,
        clock: Clock,
        hours: int = 49,
        period_s: float = 1800.0,
        errors: ForecastErrors | None = None,
    ) -> None:
        super().__init__("weather", host, port, base_topic, publish_every_s=period_s)
        if hours < 1:
            raise ValueError(f"hours must be >= 1, got {hours}")
        self.weather = weather
        self.clock = clock
        self.hours = hours
        self.period_s = period_s
        self.errors = errors or ForecastErrors()
        self._issued: datetime | None = None
        self._payloads: dict[str, Any] = {}

    @property
    def topics(self) -> dict[str, str]:
        return {q: f"{self.base}/{q}" for q in ("temp_air_c", "ghi_w_per_m2")}

    def _refresh(self) -> None:
        now = self.clock.now()
        # Fresh: issued no longer than a period ago (a clock jumped back re-issues at once).
        if self._issued is not None and 0.0 <= (now - self._issued).total_seconds() < self.period_s:
            return
        self._issued = now
        points = forecast_points(self.weather, now, self.hours, self.errors)
        self._payloads = {
            self.topics[q]: [{"time": t.isoformat(), "value": round(v, 2)} for t, v in series]
            for q, series in points.items()
        }

    def state_messages(self) -> Mapping[str, Any]:
        self._refresh()
        return self._payloads

    def publish(self, topic: str, payload: Any, *, retain: bool = False) -> None:
        # Retained: an agent that (re)starts gets the current forecast at once, as from a provider.
        super().publish(topic, payload, retain=True)
