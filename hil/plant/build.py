"""Building a plant from :class:`~hil.plant.params.HomeParams` and its data (``params.data``)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hil.plant.battery import Battery
from hil.plant.data import PlantData, draw_pattern
from hil.plant.ev import Ev, Session, daily_sessions
from hil.plant.house import HeatPump, House
from hil.plant.params import HomeParams
from hil.plant.plant import BaseLoad, Meter, Plant
from hil.plant.pv import PvArray
from hil.plant.series import from_spec
from hil.plant.tank import DrawEvent, DrawProfile, Tank
from hil.plant.weather import DataClock, Weather

FOREVER = timedelta(days=36500)  # the loop span of data that are not replayed: never


def data_clock(params: HomeParams, start: datetime) -> DataClock:
    """Without a replay the data are read at the simulated instant; with one, the simulated first
    local day shows the data's ``from`` day at the same wall-clock time, looped every ``days``."""
    tz = ZoneInfo(params.timezone)
    local = start.astimezone(tz)
    replay = params.data.replay
    if replay is None:
        return DataClock(tz, start, local.replace(tzinfo=None), FOREVER)
    midnight = datetime.combine(local.date(), time(0), tz)
    return DataClock(tz, midnight, datetime.combine(replay.from_day, time(0)), timedelta(days=replay.days))


def weather(data: PlantData, clock: DataClock, params: HomeParams) -> Weather:
    tz = ZoneInfo(params.timezone)
    columns = {
        "ghi_w_per_m2": from_spec("ghi_w_per_m2", data.ghi_w_per_m2, tz),
        "dni_w_per_m2": from_spec("dni_w_per_m2", data.dni_w_per_m2, tz),
        "dhi_w_per_m2": from_spec("dhi_w_per_m2", data.dhi_w_per_m2, tz),
        "temp_air_c": from_spec("outdoor_c", data.outdoor_c, tz),
    }
    lat, lon = data.station_deg or (params.latitude_deg, params.longitude_deg)
    shift_s = 0.0 if isinstance(data.outdoor_c, float | int) else data.outdoor_c.shift_s
    return Weather(columns, clock, latitude_deg=lat, longitude_deg=lon, temp_shift_s=shift_s)


def build_plant(params: HomeParams, start: datetime, *, days: int = 14) -> Plant:
    """A plant with every device of ``params``, starting at ``start`` (sessions/draws for ``days``)."""
    tz = ZoneInfo(params.timezone)
    data = params.data
    clock = data_clock(params, start)
    midnight = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    load, load_zone = from_spec("base_load_kw", data.base_load_kw, tz)
    capacity = params.battery_kwh
    return Plant(
        now=start,
        weather=weather(data, clock, params),
        base_load=BaseLoad(load, clock, load_zone),
        meter=Meter(params.meter_import_start_kwh, params.meter_export_start_kwh),
        house=House(
            params.house_r_k_per_kw,
            params.house_c_kwh_per_k,
            indoor_c=params.indoor_start_c,
            internal_gain_kw=params.internal_gain_kw,
            solar_aperture_m2=params.solar_aperture_m2,
        ),
        heat_pump=HeatPump(params.heat_pump_max_kw, mode=params.mode_at(start)),
        tank=Tank(
            params.tank_l,
            params.element_kw,
            tank_c=params.tank_start_c,
            ua_kw_per_k=params.tank_ua_w_per_k / 1000.0,
            ambient_c=params.tank_ambient_c,
            inlet_c=params.inlet_c,
            mixing_c=params.mixing_valve_c,
        ),
        draws=_draws(params, clock, midnight, days),
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
            _sessions(params, midnight, days),
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


def _sessions(params: HomeParams, midnight: datetime, days: int) -> list[Session]:
    trips = params.data.ev_trips
    if trips is None:
        tz = ZoneInfo(params.timezone)
        return daily_sessions(
            midnight - timedelta(days=1),
            days + 1,
            tz,
            arrival=params.ev_arrival,
            departure=params.ev_departure,
            energy_kwh=params.ev_energy_kwh,
        )
    cap = params.ev_battery_kwh
    return [
        Session(
            t.arrive, t.depart, max(0.0, t.target_kwh - t.arrival_kwh), soc_at_arrival=t.arrival_kwh / cap
        )
        for t in trips
    ]


def _draws(params: HomeParams, clock: DataClock, midnight: datetime, days: int) -> DrawProfile:
    """The daily draws, plus the ``hot_water_l_per_h`` series as one event per row (litres spread
    evenly over the row's interval)."""
    data = params.data
    events = list(DrawProfile.daily(midnight, days + 1, draw_pattern(data.draws)).events)
    rate = data.hot_water_l_per_h
    if not isinstance(rate, float | int):
        tz = ZoneInfo(params.timezone)
        series, zone = from_spec("hot_water_l_per_h", rate, tz)
        t = t0 = midnight.astimezone(UTC)  # absolute steps (one zone's datetimes add by wall clock)
        step = timedelta(seconds=series.step_s)
        while t < t0 + timedelta(days=days + 1):
            litres = series.step(clock.in_zone(t, zone)) * series.step_s / 3600.0
            if litres > 0:
                events.append(DrawEvent(t, litres, series.step_s))
            t += step
    elif rate > 0:
        events.append(DrawEvent(midnight, float(rate) * 24.0 * (days + 1), 86400.0 * (days + 1)))
    return DrawProfile(events)
