"""The physical parameters of a simulated home, shared by the plant and the agent config the rig writes.

One object so the agent is told (in its YAML) the same house, tank, battery, EV and PV the plant
simulates. Names carry units; powers are magnitudes (signs per ``agent/units.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from agent.season import CoolingSeason, Mode, ModeRule, ModeSetting
from hil.plant.data import SUMMER_DATA, WINTER_DATA, PlantData
from hil.plant.tank import DEFAULT_MIXING_C


@dataclass(frozen=True)
class HomeParams:
    # site: the clock is Berlin's, the sun is the recorded one. The plant replays Greensboro's
    # weather at the same wall-clock time, with the sun where it stood over Greensboro then
    # (local standard time, UTC-5). The agent's coordinates are the place where the sun stands
    # so at that instant on Berlin's clock: Greensboro's latitude, and a longitude that shifts
    # solar time by Berlin's offset (UTC+2 in summer: 25.05 E; UTC+1 in winter: 10.05 E), so
    # the agent's clear-sky model and the plant's PV see one sun.
    timezone: str = "Europe/Berlin"
    latitude_deg: float = 36.10
    longitude_deg: float = 25.05
    data: PlantData = SUMMER_DATA  # the series the plant replays (hil/plant/data.py)
    # house and heat pump: heating or cooling all year, or auto by the cooling season (the same
    # rule the agent is configured with, agent/season.py); the comfort band while cooling is
    # cooling_target_c ± cooling_band_c where given (else comfort_target_c ± comfort_band_c)
    mode: ModeSetting = "cooling"
    cooling_season: CoolingSeason | None = None
    cooling_target_c: float | None = None
    cooling_band_c: float | None = None
    house_r_k_per_kw: float = 8.0
    house_c_kwh_per_k: float = 5.0
    indoor_start_c: float = 23.0
    comfort_target_c: float = 23.5
    comfort_band_c: float = 1.0
    heat_pump_max_kw: float = 2.5
    internal_gain_kw: float = 0.3
    solar_aperture_m2: float = 2.0
    # water heater
    tank_l: float = 200.0
    element_kw: float = 3.0
    tank_start_c: float = 55.0
    tank_target_c: float = 55.0
    tank_min_c: float = 45.0
    tank_max_c: float = 65.0
    tank_ua_w_per_k: float = 2.0
    inlet_c: float = 12.0
    mixing_valve_c: float = DEFAULT_MIXING_C  # the taps' thermostatic valve (the draws are at it)
    tank_ambient_c: float = 20.0
    # battery
    battery_kwh: float = 10.0
    battery_charge_kw: float = 5.0
    battery_discharge_kw: float = 5.0
    battery_efficiency: float = 0.95  # each way
    soc_min: float = 0.05
    soc_max: float = 0.95
    soc_start: float = 0.5
    # EV and charger (OpenEVSE, one phase)
    ev_battery_kwh: float = 60.0
    ev_max_kw: float = 7.4
    ev_phases: Literal[1, 3] = 1
    ev_voltage_v: float = 230.0
    ev_arrival: time = time(18, 0)
    ev_departure: time = time(7, 0)
    ev_energy_kwh: float = 12.0
    ev_soc_at_arrival: float = 0.4
    # PV
    pv_peak_kw: float = 6.0
    pv_tilt_deg: float = 30.0
    pv_azimuth_deg: float = 180.0
    pv_curtailable: bool = True
    # meter counters at the start (a real meter never reads 0; SunSpec counts 0 as "not implemented")
    meter_import_start_kwh: float = 12_345.0
    meter_export_start_kwh: float = 2_345.0
    pv_energy_start_kwh: float = 8_000.0

    def mode_rule(self) -> ModeRule:
        return self._rule

    @cached_property
    def _rule(self) -> ModeRule:
        # asked every plant step (own control, the comfort KPI): built once
        return ModeRule(self.mode, self.cooling_season)

    def mode_at(self, when: datetime) -> Mode:
        """The heat pump's mode at ``when`` by the site's calendar."""
        if self.mode != "auto":
            return self.mode
        return self._modes.at(when)

    @cached_property
    def _modes(self) -> _DayModes:
        return _DayModes(self._rule, ZoneInfo(self.timezone))

    def comfort(self, mode: Mode) -> tuple[float, float]:
        """(target, half-width of the band), °C, while the heat pump works in ``mode``."""
        if mode == "cooling" and self.cooling_target_c is not None:
            band = self.comfort_band_c if self.cooling_band_c is None else self.cooling_band_c
            return self.cooling_target_c, band
        return self.comfort_target_c, self.comfort_band_c

    def comfort_at(self, when: datetime) -> tuple[float, float]:
        return self.comfort(self.mode_at(when))

    @property
    def ev_max_a(self) -> float:
        return self.ev_max_kw * 1000.0 / (self.ev_phases * self.ev_voltage_v)


SUMMER = HomeParams()
WINTER = HomeParams(
    data=WINTER_DATA,
    longitude_deg=10.05,
    mode="heating",
    indoor_start_c=20.5,
    comfort_target_c=21.0,
    heat_pump_max_kw=3.5,
    house_r_k_per_kw=6.0,
    house_c_kwh_per_k=6.0,
)


class _DayModes:
    """The mode by the local day, kept for the day last asked about: the plant and the comfort
    record ask at every step, and the mode changes only at a local midnight."""

    def __init__(self, rule: ModeRule, zone: ZoneInfo) -> None:
        self._rule = rule
        self._zone = zone
        self._day: tuple[datetime, datetime, Mode] | None = None  # [from, to) UTC and its mode

    def at(self, when: datetime) -> Mode:
        day = self._day
        if day is not None and day[0] <= when < day[1]:
            return day[2]
        local = when.astimezone(self._zone)
        midnight = datetime.combine(local.date(), time(0), self._zone)
        next_midnight = datetime.combine(local.date() + timedelta(days=1), time(0), self._zone)
        mode = self._rule.mode_on(local.date())
        self._day = (midnight.astimezone(UTC), next_midnight.astimezone(UTC), mode)
        return mode
