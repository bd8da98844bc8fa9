"""Building a plant from :class:`~hil.plant.params.HomeParams` and the shipped recorded weeks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hil.plant.battery import Battery
from hil.plant.ev import Ev, daily_sessions
from hil.plant.house import HeatPump, House
from hil.plant.params import HomeParams
from hil.plant.plant import BaseLoad, Meter, Plant
from hil.plant.pv import PvArray
from hil.plant.series import DATA_DIR, load_profile_kw
from hil.plant.tank import DEFAULT_DRAWS, DrawProfile, Tank
from hil.plant.weather import DataClock, Weather

# The shipped load profiles were recorded in Germany (Europe/Berlin wall clock).
PROFILE_ZONE = ZoneInfo("Europe/Berlin")


def data_clock(params: HomeParams, start: datetime) -> DataClock:
    """Replays the recorded week from the same local time of day as ``start``."""
    tz = ZoneInfo(params.timezone)
    local = start.astimezone(tz)
    week = datetime.fromisoformat(params.week)
    data_start = week + timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
    return DataClock(tz, start, data_start)


def build_plant(params: HomeParams, start: datetime, *, days: int = 14) -> Plant:
    """A plant with every device of ``params``, starting at ``start`` (sessions/draws for ``days``)."""
    tz = ZoneInfo(params.timezone)
    clock = data_clock(params, start)
    midnight = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    profile = load_profile_kw(DATA_DIR / f"load_h0_{params.week}_week.csv")
    capacity = params.battery_kwh
    return Plant(
        now=start,
        weather=Weather.shipped(params.week, clock),
        base_load=BaseLoad(profile, clock, PROFILE_ZONE),
        meter=Meter(params.meter_import_start_kwh, params.meter_export_start_kwh),
        house=House(
            params.house_r_k_per_kw,
            params.house_c_kwh_per_k,
            indoor_c=params.indoor_start_c,
            internal_gain_kw=params.internal_gain_kw,
            solar_aperture_m2=params.solar_aperture_m2,
        ),
        heat_pump=HeatPump(params.heat_pump_max_kw, mode=params.mode),
        tank=Tank(
            params.tank_l,
            params.element_kw,
            tank_c=params.tank_start_c,
            ua_kw_per_k=params.tank_ua_w_per_k / 1000.0,
            ambient_c=params.tank_ambient_c,
            inlet_c=params.inlet_c,
            mixing_c=params.mixing_valve_c,
        ),
        draws=DrawProfile.daily(midnight, days + 1, DEFAULT_DRAWS),
        battery=Battery(
            capacity,
            params.battery_charge_kw,
            params.battery_discharge_kw,
            charge_efficiency=params.battery_efficiency,
            discharge_efficiency=params.battery_efficiency,
            soc_min=params.soc_min,
            soc_max=params.soc_max,
            energy_kwh=params.soc_start * capacity,
        ),
        ev=Ev(
            params.ev_battery_kwh,
            params.ev_max_kw,
            daily_sessions(
                midnight - timedelta(days=1),
                days + 1,
                tz,
                arrival=params.ev_arrival,
                departure=params.ev_departure,
                energy_kwh=params.ev_energy_kwh,
            ),
            phases=params.ev_phases,
            voltage_v=params.ev_voltage_v,
            soc_at_arrival=params.ev_soc_at_arrival,
        ),
        pv=PvArray(
            params.pv_peak_kw,
            params.pv_peak_kw,
            tilt_deg=params.pv_tilt_deg,
            azimuth_deg=params.pv_azimuth_deg,
            energy_kwh=params.pv_energy_start_kwh,
        ),
    )
