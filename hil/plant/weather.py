"""Recorded weather replayed at the simulated site, and the clock that maps sim time onto data.

The data are the scenario's weather series (the shipped ``scenarios/data/weather_greensboro_2015.csv``:
hourly GHI, DNI, DHI in W/m² as averages over ``[time, time+1h)``, air temperature in °C observed
at ``time+1h``, so its samples stand an hour later: the series' ``shift_s``). A ``wall`` series is
seen at the same local wall-clock time as where it was recorded, so a week of January in North
Carolina can heat a house in Berlin. The sun's
position for the irradiance is that of the recording station at the recorded instant, so
irradiance and geometry stay consistent.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from hil.errors import PlantDataError
from hil.plant.series import Series

WEATHER_COLUMNS = ("ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2", "temp_air_c")


@dataclass(frozen=True)
class DataClock:
    """Maps a simulated instant onto the recorded data: same wall clock, looped over ``span``.

    ``sim_start`` (aware) is shown the data of ``data_start`` (a naive wall-clock time at the
    start of the recording); ``span`` is how long the recording lasts before it repeats.
    """

    site_tz: tzinfo
    sim_start: datetime
    data_start: datetime
    span: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        if self.sim_start.tzinfo is None:
            raise PlantDataError("must be timezone-aware", field="sim_start")
        if self.data_start.tzinfo is not None:
            raise PlantDataError("must be a naive wall-clock time", field="data_start")
        if self.span <= timedelta(0):
            raise PlantDataError("must be positive", field="span")

    @functools.cached_property
    def _start_wall(self) -> datetime:
        return self.sim_start.astimezone(self.site_tz).replace(tzinfo=None)

    def wall(self, at: datetime) -> datetime:
        """The naive recorded wall-clock time shown at ``at``."""
        sim_wall = at.astimezone(self.site_tz).replace(tzinfo=None)
        return self.data_start + (sim_wall - self._start_wall) % self.span

    def in_zone(self, at: datetime, zone: tzinfo) -> datetime:
        """The recorded instant shown at ``at``, for data recorded in ``zone``."""
        wall = self.wall(at)
        # the second pass through a repeated autumn hour stays the second one in the data
        return wall.replace(tzinfo=zone, fold=at.astimezone(self.site_tz).fold)


@dataclass(frozen=True)
class WeatherSample:
    ghi_w_per_m2: float
    dni_w_per_m2: float
    dhi_w_per_m2: float
    temp_air_c: float
    at_station: datetime  # the recorded instant (for the sun's position)


class Weather:
    """Irradiance and temperature at any simulated instant (see the module docstring)."""

    def __init__(
        self,
        columns: dict[str, tuple[Series, tzinfo]],
        clock: DataClock,
        *,
        latitude_deg: float,
        longitude_deg: float,
        temp_shift_s: float = 3600.0,
    ) -> None:
        missing = set(WEATHER_COLUMNS) - set(columns)
        if missing:
            raise PlantDataError(f"missing {sorted(missing)}", field="weather")
        self._c = columns
        self.clock = clock
        self.latitude_deg = latitude_deg
        self.longitude_deg = longitude_deg
        self.temp_shift_s = temp_shift_s

    def at(self, at: datetime) -> WeatherSample:
        # The columns usually share one zone: map the instant once per zone, not once per column.
        mapped: dict[tzinfo, datetime] = {}

        def in_zone(zone: tzinfo) -> datetime:
            if zone not in mapped:
                mapped[zone] = self.clock.in_zone(at, zone)
            return mapped[zone]

        irr = {}
        for k in WEATHER_COLUMNS[:3]:
            series, zone = self._c[k]
            # Irradiance is an average over its row's interval: it stands at the interval's middle.
            irr[k] = max(0.0, series.linear(in_zone(zone), shift_s=series.step_s / 2.0))
        temp, temp_zone = self._c["temp_air_c"]
        return WeatherSample(
            ghi_w_per_m2=irr["ghi_w_per_m2"],
            dni_w_per_m2=irr["dni_w_per_m2"],
            dhi_w_per_m2=irr["dhi_w_per_m2"],
            temp_air_c=temp.linear(in_zone(temp_zone), shift_s=self.temp_shift_s),
            at_station=in_zone(self._c["ghi_w_per_m2"][1]),
        )
