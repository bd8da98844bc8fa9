"""Recorded weather replayed at the simulated site, and the clock that maps sim time onto data.

The data are a recorded week (``hil/data/weather_greensboro_*_week.csv``: hourly GHI, DNI, DHI in
W/m² as averages over ``[time, time+1h)``, air temperature in °C observed at ``time+1h``). The
simulated home sees them at the same local wall-clock time as where they were recorded, looped over
the recorded span, so a week of January in North Carolina can heat a house in Berlin. The sun's
position for the irradiance is that of the recording station at the recorded instant, so
irradiance and geometry stay consistent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from hil.errors import PlantDataError
from hil.plant.series import DATA_DIR, Series, read_columns

WEATHER_COLUMNS = ("ghi_w_per_m2", "dni_w_per_m2", "dhi_w_per_m2", "temp_air_c")
# The station of the shipped weather files (TMY3 723170, local standard time, no DST).
GREENSBORO = (36.100, -79.950, timezone(timedelta(hours=-5)))


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

    def wall(self, at: datetime) -> datetime:
        """The naive recorded wall-clock time shown at ``at``."""
        sim_wall = at.astimezone(self.site_tz).replace(tzinfo=None)
        start_wall = self.sim_start.astimezone(self.site_tz).replace(tzinfo=None)
        return self.data_start + (sim_wall - start_wall) % self.span

    def in_zone(self, at: datetime, zone: tzinfo) -> datetime:
        """The recorded instant shown at ``at``, for data recorded in ``zone``."""
        wall = self.wall(at)
        if isinstance(zone, ZoneInfo):
            return wall.replace(tzinfo=zone)
        return wall.replace(tzinfo=zone)


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
        columns: dict[str, Series],
        clock: DataClock,
        *,
        latitude_deg: float,
        longitude_deg: float,
        station_tz: tzinfo,
    ) -> None:
        self._c = columns
        self.clock = clock
        self.latitude_deg = latitude_deg
        self.longitude_deg = longitude_deg
        self.station_tz = station_tz

    @classmethod
    def from_file(
        cls, path: Path, clock: DataClock, station: tuple[float, float, tzinfo] = GREENSBORO
    ) -> Weather:
        lat, lon, tz = station
        return cls(
            read_columns(path, WEATHER_COLUMNS), clock, latitude_deg=lat, longitude_deg=lon, station_tz=tz
        )

    @classmethod
    def shipped(cls, week: str, clock: DataClock) -> Weather:
        """A shipped week: ``"2015-06-15"`` (summer) or ``"2015-01-12"`` (winter)."""
        return cls.from_file(DATA_DIR / f"weather_greensboro_{week}_week.csv", clock)

    def at(self, at: datetime) -> WeatherSample:
        t = self.clock.in_zone(at, self.station_tz)
        # Hourly irradiance is an average over the hour: it stands at the hour's middle.
        irr = {k: max(0.0, self._c[k].linear(t, shift_s=1800.0)) for k in WEATHER_COLUMNS[:3]}
        return WeatherSample(
            ghi_w_per_m2=irr["ghi_w_per_m2"],
            dni_w_per_m2=irr["dni_w_per_m2"],
            dhi_w_per_m2=irr["dhi_w_per_m2"],
            temp_air_c=self._c["temp_air_c"].linear(t, shift_s=3600.0),
            at_station=t,
        )
