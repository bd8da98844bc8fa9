"""Where the plant's inputs come from: the scenario's series, replay, weather station and events.

One :class:`PlantData` per home (a field of :class:`~hil.plant.params.HomeParams`), made of the
agent's scenario values (``agent.scenario``), so the rig and ``hems plan`` read the same files the
same way. The presets' data are the shipped year files in ``scenarios/data`` replayed from a
summer and a winter Monday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

from agent.scenario.devices import Draw, EvTrip
from agent.scenario.series import SeriesSpec
from agent.scenario.spec import Replay
from agent.scenario.tariff import SpotModel
from hil.plant.tank import DEFAULT_DRAWS as TANK_DRAWS

DATA_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "data"
# The station of the shipped weather file (TMY3 723170 Greensboro, NC).
GREENSBORO_DEG = (36.100, -79.950)
# The tank's default household (hil/plant/tank.py), as the scenario format writes draws.
DEFAULT_DRAWS = tuple(Draw(time(h, m), litres, dur_s / 60.0) for h, m, litres, dur_s in TANK_DRAWS)


def draw_pattern(draws: tuple[Draw, ...]) -> tuple[tuple[int, int, float, float], ...]:
    """Draws as the tank's daily pattern: (hour, minute, litres, duration_s)."""
    return tuple((d.at.hour, d.at.minute, d.litres, d.minutes * 60.0) for d in draws)


SPOT_IS_FORWARD = SpotModel(model="forward")


@dataclass(frozen=True)
class PlantData:
    forward_price_per_kwh: SeriesSpec | float
    base_load_kw: SeriesSpec | float
    outdoor_c: SeriesSpec | float
    ghi_w_per_m2: SeriesSpec | float = 0.0
    dni_w_per_m2: SeriesSpec | float = 0.0
    dhi_w_per_m2: SeriesSpec | float = 0.0
    spot_price_per_kwh: SeriesSpec | float | None = None  # None: ``spot`` decides
    spot: SpotModel = SPOT_IS_FORWARD
    hot_water_l_per_h: SeriesSpec | float = 0.0
    replay: Replay | None = None
    station_deg: tuple[float, float] | None = None  # where the irradiance was recorded; None: the site
    draws: tuple[Draw, ...] = DEFAULT_DRAWS
    ev_trips: tuple[EvTrip, ...] | None = None  # None: a daily commute from the home's parameters


def shipped(first_day: date) -> PlantData:
    """The shipped year files replayed week-looped from ``first_day`` (the presets' data)."""
    prices = DATA_DIR / "prices_de_2015.csv"
    weather = DATA_DIR / "weather_greensboro_2015.csv"

    def w(name: str, column: str, **kw: float | str) -> SeriesSpec:
        return SeriesSpec(f"data.{name}", weather, column, align="wall", **kw)  # type: ignore[arg-type]

    return PlantData(
        forward_price_per_kwh=SeriesSpec(
            "data.forward_price_per_kwh", prices, "price_eur_per_mwh", scale=0.001, fill="week"
        ),
        base_load_kw=SeriesSpec("data.base_load_kw", DATA_DIR / "load_h0_2015.csv", "load_kw"),
        outdoor_c=w("outdoor_c", "temp_air_c", method="interpolate", shift_s=3600.0),
        ghi_w_per_m2=w("ghi_w_per_m2", "ghi_w_per_m2"),
        dni_w_per_m2=w("dni_w_per_m2", "dni_w_per_m2"),
        dhi_w_per_m2=w("dhi_w_per_m2", "dhi_w_per_m2"),
        replay=Replay(first_day, 7),
        station_deg=GREENSBORO_DEG,
    )


SUMMER_DATA = shipped(date(2015, 6, 15))
WINTER_DATA = shipped(date(2015, 1, 12))
