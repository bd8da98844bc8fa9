"""Analytic checks of each device model of the plant."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.units import WATER_KWH_PER_L_K
from hil.errors import PlantDataError
from hil.plant.battery import Battery
from hil.plant.ev import Ev, Session
from hil.plant.house import HEATING_COP, HeatPump, House, thermostat_electric_kw
from hil.plant.pv import solar_position
from hil.plant.tank import DrawEvent, DrawProfile, Tank

T0 = datetime(2026, 6, 15, tzinfo=UTC)


@given(
    eta_c=st.floats(0.5, 1.0),
    eta_d=st.floats(0.5, 1.0),
    kw=st.floats(0.5, 5.0),
)
@settings(max_examples=100, deadline=None)
def test_battery_round_trip_loss_is_one_minus_product_of_efficiencies(
    eta_c: float, eta_d: float, kw: float
) -> None:
    b = Battery(
        100.0, 5.0, 5.0, charge_efficiency=eta_c, discharge_efficiency=eta_d, soc_min=0.0, soc_max=1.0
    )
    b.energy_kwh = 10.0
    put_in = b.step(kw, 3600.0).grid_kwh
    # Discharge exactly what was stored: the grid gets η_c·η_d of what went in.
    stored = b.energy_kwh - 10.0
    out_kw = -stored * eta_d
    got_back = -b.step(out_kw, 3600.0).grid_kwh
    assert b.energy_kwh == pytest.approx(10.0, abs=1e-9)
    assert 1.0 - got_back / put_in == pytest.approx(1.0 - eta_c * eta_d, rel=1e-9)


def test_battery_clips_power_and_soc_and_says_so() -> None:
    b = Battery(10.0, 3.0, 2.0, soc_min=0.1, soc_max=0.9, energy_kwh=8.9)
    s = b.step(5.0, 3600.0)  # above the power limit and past soc_max
    assert s.clipped and s.requested_kw == 5.0
    assert b.energy_kwh == pytest.approx(9.0)
    assert s.power_kw == pytest.approx(0.1 / 0.95)
    s = b.step(-10.0, 60.0)
    assert s.clipped and s.power_kw == pytest.approx(-2.0)
    s = b.step(1.0, 60.0)
    assert not s.clipped


@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(1, 900)), min_size=1, max_size=30))
@settings(max_examples=100, deadline=None)
def test_battery_never_leaves_its_window_and_balances(steps: list[tuple[float, float]]) -> None:
    b = Battery(10.0, 4.0, 4.0, charge_efficiency=0.9, discharge_efficiency=0.93, soc_min=0.1, soc_max=0.9)
    for kw, dt_s in steps:
        before = b.energy_kwh
        s = b.step(kw, dt_s)
        assert 1.0 - 1e-9 <= b.energy_kwh <= 9.0 + 1e-9
        assert -4.0 - 1e-9 <= s.power_kw <= 4.0 + 1e-9
        assert s.grid_kwh == pytest.approx(b.energy_kwh - before + s.loss_kwh, abs=1e-12)
        assert s.loss_kwh >= -1e-12


def test_house_decays_to_outdoor_with_time_constant_rc() -> None:
    house = House(r_k_per_kw=5.0, c_kwh_per_k=4.0, indoor_c=20.0)
    tau_s = 5.0 * 4.0 * 3600.0
    for _ in range(200):  # many small steps must agree with the closed form
        house.step(0.0, 0.0, outdoor_c=0.0, dt_s=tau_s / 200)
    assert house.indoor_c == pytest.approx(20.0 * math.exp(-1.0), rel=1e-9)


def test_house_energy_balance_closes_every_step() -> None:
    house = House(r_k_per_kw=6.0, c_kwh_per_k=5.0, indoor_c=18.0)
    for heat_kw, gains_kw, out_c in ((3.0, 0.3, -5.0), (0.0, 1.0, 10.0), (-2.0, 0.2, 30.0)):
        s = house.step(heat_kw, gains_kw, out_c, 1800.0)
        assert s.stored_kwh == pytest.approx(s.heat_pump_kwh + s.gains_kwh - s.loss_kwh, abs=1e-12)


def test_heat_pump_cop_and_thermostat() -> None:
    hp = HeatPump(3.0, mode="heating")
    assert hp.heat_kw(1.0, 7.0) == pytest.approx(HEATING_COP(7.0))
    assert HEATING_COP(-30.0) == HEATING_COP(-15.0)  # flat beyond the curve
    assert thermostat_electric_kw(hp, 21.0, 19.0) == 3.0
    assert thermostat_electric_kw(hp, 21.0, 22.0) == 0.0
    cool = HeatPump(2.0, mode="cooling")
    assert cool.heat_kw(1.0, 30.0) < 0
    assert thermostat_electric_kw(cool, 24.0, 26.0) == 2.0


def test_tank_standing_loss_matches_newton_cooling() -> None:
    tank = Tank(200.0, 3.0, tank_c=60.0, ua_kw_per_k=0.002, ambient_c=20.0)
    cap = 200.0 * WATER_KWH_PER_L_K
    s = tank.step(0.0, 0.0, 24 * 3600.0)
    expected = 20.0 + 40.0 * math.exp(-0.002 * 24.0 / cap)
    assert tank.tank_c == pytest.approx(expected, rel=1e-12)
    assert s.standing_loss_kwh == pytest.approx(cap * (60.0 - expected), rel=1e-9)
    assert s.draw_kwh == 0.0


def test_tank_draw_mixes_in_inlet_water_and_balances() -> None:
    tank = Tank(200.0, 3.0, tank_c=55.0, ua_kw_per_k=0.002, ambient_c=20.0, inlet_c=10.0, mixing_c=None)
    s = tank.step(3.0, 40.0, 600.0)
    assert s.stored_kwh == pytest.approx(s.element_kwh - s.standing_loss_kwh - s.draw_kwh, abs=1e-12)
    # Without the element and standing loss, drawing V litres of a mixed tank: T = Tin + ΔT·e^(−V/Vtank).
    pure = Tank(200.0, 3.0, tank_c=55.0, ua_kw_per_k=1e-12, inlet_c=10.0, mixing_c=None)
    pure.step(0.0, 100.0, 600.0)
    assert pure.tank_c == pytest.approx(10.0 + 45.0 * math.exp(-0.5), rel=1e-6)


@pytest.mark.parametrize("ua", [0.002, 0.0])
def test_the_mixing_valve_takes_the_same_heat_whatever_the_tank_temperature(ua: float) -> None:
    heat = 40.0 * WATER_KWH_PER_L_K * (40.0 - 10.0)  # 40 l at the valve's 40 °C from a 10 °C inlet
    steps = []
    for start_c in (50.0, 65.0):
        tank = Tank(200.0, 3.0, tank_c=start_c, ua_kw_per_k=ua, inlet_c=10.0, mixing_c=40.0)
        s = tank.step(3.0, 40.0, 600.0)
        assert s.draw_kwh == pytest.approx(heat, rel=1e-12)
        assert s.stored_kwh == pytest.approx(s.element_kwh - s.standing_loss_kwh - s.draw_kwh, abs=1e-12)
        steps.append(s)
    # the hotter tank gives fewer of its own litres for the same 40 litres at the taps
    assert steps[1].litres < steps[0].litres < 40.0
    assert steps[1].standing_loss_kwh >= steps[0].standing_loss_kwh


def test_a_tank_cooler_than_the_valve_passes_its_own_water() -> None:
    valve = Tank(200.0, 0.0, tank_c=35.0, ua_kw_per_k=0.002, inlet_c=10.0, mixing_c=40.0)
    none = Tank(200.0, 0.0, tank_c=35.0, ua_kw_per_k=0.002, inlet_c=10.0, mixing_c=None)
    a, b = valve.step(0.0, 40.0, 600.0), none.step(0.0, 40.0, 600.0)
    assert a == b
    # a step that would carry the tank below the valve's setting is a straight draw throughout
    edge = Tank(200.0, 0.0, tank_c=41.0, ua_kw_per_k=0.002, inlet_c=10.0, mixing_c=40.0)
    s = edge.step(0.0, 40.0, 600.0)
    assert s.litres == 40.0 and s.stored_kwh == pytest.approx(-s.standing_loss_kwh - s.draw_kwh, abs=1e-12)


def test_tank_element_cut_out_by_its_thermostat() -> None:
    tank = Tank(100.0, 3.0, tank_c=75.0, cutout_c=75.0)
    assert tank.element_power_kw(True) == 0.0
    tank.tank_c = 60.0
    assert tank.element_power_kw(True) == 3.0
    assert tank.element_power_kw(False) == 0.0


def test_draw_profile_volume_is_exact_for_any_stepping() -> None:
    prof = DrawProfile(
        [DrawEvent(T0 + timedelta(minutes=5), 30.0, 600.0), DrawEvent(T0 + timedelta(hours=1), 10.0, 60.0)]
    )
    total = sum(
        prof.litres_between(T0 + timedelta(seconds=s), T0 + timedelta(seconds=s + 7))
        for s in range(0, 7200, 7)
    )
    assert total == pytest.approx(40.0)


def test_ev_charges_only_while_plugged_and_stops_when_satisfied() -> None:
    session = Session(T0 + timedelta(hours=1), T0 + timedelta(hours=5), 5.0)
    ev = Ev(60.0, 7.4, [session], efficiency=0.9)
    ev.update(T0)
    assert ev.current is None
    assert ev.step(16.0, 60.0).power_kw == 0.0
    ev.update(T0 + timedelta(hours=1))
    assert ev.plugged
    assert ev.step(16.0, 60.0).power_kw == pytest.approx(16 * 230 / 1000)
    assert ev.step(0.0, 60.0).power_kw == 0.0  # paused by the charger
    for _ in range(200):
        ev.step(32.0, 60.0)
    assert ev.records[0].delivered_kwh == pytest.approx(5.0)
    assert ev.records[0].shortfall_kwh == pytest.approx(0.0, abs=1e-9)
    ev.update(T0 + timedelta(hours=5))
    assert ev.current is None


def test_ev_session_must_end_after_it_starts() -> None:
    with pytest.raises(PlantDataError, match="departure"):
        Session(T0, T0, 1.0)


def test_solar_noon_faces_south_in_the_northern_hemisphere() -> None:
    # Greensboro, 21 June, solar noon ≈ 17:20 UTC: zenith ≈ latitude − declination ≈ 12.7°.
    zen, az = solar_position(datetime(2015, 6, 21, 17, 20, tzinfo=UTC), 36.1, -79.95)
    assert zen == pytest.approx(36.1 - 23.44, abs=0.7)
    assert az == pytest.approx(180.0, abs=8.0)
    zen_night, _ = solar_position(datetime(2015, 6, 21, 5, 0, tzinfo=UTC), 36.1, -79.95)
    assert zen_night > 90.0
