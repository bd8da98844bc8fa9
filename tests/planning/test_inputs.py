"""build_inputs: horizon, positions, measured states and their fallbacks; a plan comes out."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from agent.config import parse_config
from agent.config.errors import ConfigError
from agent.forecast.records import Series
from agent.market.intervals import Duration
from agent.market.records import Product, Side, SpotPrice
from agent.optimizer import Planner
from agent.planning.devices import devices_from_config
from agent.planning.errors import PlanningInputError
from agent.planning.inputs import MeasuredState, build_inputs, plan_horizon, planner_shape
from tests.planning.helpers import CONFIG_TEXT, EV, NOW, WATER_HEATER, config, forecasts, tender

CFG = config(extra=WATER_HEATER + EV)
DEV = devices_from_config(CFG)
IVS = plan_horizon(CFG, NOW)


def build(state: MeasuredState | None = None, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "tenders": [],
        "forecasts": forecasts(tuple(i.start for i in IVS)),
        "state": state or MeasuredState(),
        "positions_kw": {},
    }
    args.update(kw)
    return build_inputs(CFG, DEV, NOW, **args)  # type: ignore[arg-type]


def test_horizon_and_shape_follow_the_planner_section() -> None:
    assert planner_shape(CFG) == (12, 0.25)
    assert len(IVS) == 12 and IVS[0].contains(NOW) and IVS[0].duration is Duration.PT15M


def test_a_plan_comes_out_and_missing_states_are_reported() -> None:
    built = build()
    assert set(built.fallbacks) == {"battery_soc", "ev_plugged", "tank_c"}
    assert built.inputs.battery is not None and built.inputs.battery.energy_kwh == pytest.approx(2.0)
    assert built.inputs.ev is not None and built.inputs.ev.sessions == ()
    assert built.inputs.water_heater is not None and built.inputs.water_heater.tank_c == 55.0
    plan = Planner(DEV, *planner_shape(CFG)).plan(built.inputs)
    assert plan.horizon == 12 and np.isfinite(plan.total_cost)


def test_positions_land_in_their_interval() -> None:
    built = build(positions_kw={IVS[2]: Decimal("1.5"), IVS[3].previous(): Decimal("1.5")})
    assert built.inputs.grid.position_kw[2] == 1.5 and built.inputs.grid.position_kw.sum() == 1.5


def test_a_plugged_car_becomes_a_session_until_its_departure() -> None:
    dep = IVS[6].start_utc + timedelta(minutes=5)  # leaves during interval 6: unplugged from 6 on
    built = build(MeasuredState(ev_plugged=True, ev_energy_kwh=20, ev_departure=dep, ev_target_kwh=30))
    assert built.inputs.ev is not None
    (s,) = built.inputs.ev.sessions
    assert (s.arrival, s.departure, s.arrival_kwh, s.target_kwh) == (0, 6, 20, 30)
    assert "ev_departure" not in built.fallbacks


def test_a_car_with_unknown_values_gets_documented_fallbacks() -> None:
    built = build(MeasuredState(ev_plugged=True))
    assert built.inputs.ev is not None
    (s,) = built.inputs.ev.sessions
    assert s.arrival_kwh == 25 and s.target_kwh == 40  # half of 50 kWh; target_soc 0.8
    # the next 07:00 local after 09:03 is tomorrow: 22 h after the plan's first interval (09:00)
    assert s.departure == 22 * 4
    assert {"ev_energy_kwh", "ev_target_kwh", "ev_departure"} <= set(built.fallbacks)


def test_a_departure_already_past_is_the_end_of_the_current_interval() -> None:
    built = build(MeasuredState(ev_plugged=True, ev_departure=NOW - timedelta(hours=1)))
    assert built.inputs.ev is not None and built.inputs.ev.sessions[0].departure == 1


@pytest.mark.parametrize(
    ("state", "field"),
    [
        (MeasuredState(battery_soc=1.2), "state.battery_soc"),
        (MeasuredState(battery_soc=float("nan")), "state.battery_soc"),
        (MeasuredState(tank_c=float("inf")), "state.tank_c"),
    ],
)
def test_bad_measurements_are_refused_by_name(state: MeasuredState, field: str) -> None:
    with pytest.raises(PlanningInputError) as e:
        build(state)
    assert e.value.field == field


def test_a_forecast_of_the_wrong_length_is_refused_by_name() -> None:
    with pytest.raises(PlanningInputError) as e:
        build(forecasts=forecasts(tuple(i.start for i in IVS[:-1])))
    assert e.value.field == "forecasts.base_load_kw"


def test_a_cheap_tender_is_bought_by_the_plan() -> None:
    built = build(
        MeasuredState(battery_soc=0.5),
        tenders=[tender("cheap", IVS[4].parent(Duration.PT1H), Side.SELL, "0.02", "3")],
    )
    plan = Planner(DEV, *planner_shape(CFG)).plan(built.inputs)
    assert built.ladders.map.cells("cheap") == [(4, 0), (5, 0), (6, 0), (7, 0)]
    assert np.all(plan.series["buy_0_kw"][4:8] > 2.9)  # 0.02 against an expected 0.31: take it all


THERMOSTAT = """
  living:
    role: thermostat
    mode: cooling
    electric_max_kw: 2.5
    cop: 3.0
    house: {r_k_per_kw: 8, c_kwh_per_k: 5, internal_gain_kw: 0.3, solar_aperture_m2: 2.0}
    comfort: {target_c: 23.5, band_c: 1.0}
    driver: {type: simulated}
"""


def test_house_gains_come_from_the_config_and_the_irradiance_forecast() -> None:
    cfg = config(extra=THERMOSTAT)
    dev = devices_from_config(cfg)
    ivs = plan_horizon(cfg, NOW)
    ghi = np.linspace(0.0, 800.0, len(ivs))
    fc = forecasts(tuple(i.start for i in ivs))
    sunny = dataclasses.replace(fc, irradiance=Series("ghi_w_per_m2", ghi, NOW, "test"))
    state = MeasuredState(indoor_c=24.0)
    built = build_inputs(cfg, dev, NOW, tenders=[], forecasts=sunny, state=state, positions_kw={})
    assert built.inputs.heat_pump is not None
    assert np.allclose(built.inputs.heat_pump.gain_kw, 0.3 + 2.0 * ghi / 1000.0)
    # Without an irradiance forecast only the internal gain is counted.
    dark = build_inputs(cfg, dev, NOW, tenders=[], forecasts=fc, state=state, positions_kw={})
    assert dark.inputs.heat_pump is not None
    assert np.allclose(dark.inputs.heat_pump.gain_kw, 0.3)
    # The sun makes a cooled house need more cooling. On a warm day: at the helpers' 5 °C the
    # house never needs cooling, and the comparison was between two solves' noise (1e-9 kW either
    # way), which a tighter solver tolerance flipped.
    warm = Series("outdoor_c", np.full(len(ivs), 28.0), NOW, "test")
    hot_sunny = dataclasses.replace(sunny, outdoor=warm)
    hot_dark = dataclasses.replace(fc, outdoor=warm)
    built = build_inputs(cfg, dev, NOW, tenders=[], forecasts=hot_sunny, state=state, positions_kw={})
    dark = build_inputs(cfg, dev, NOW, tenders=[], forecasts=hot_dark, state=state, positions_kw={})
    planner = Planner(dev, *planner_shape(cfg))
    cool_sunny = float(np.sum(planner.plan(built.inputs).series["heat_pump_kw"]))
    cool_dark = float(np.sum(planner.plan(dark.inputs).series["heat_pump_kw"]))
    assert cool_sunny > cool_dark + 1.0  # kW summed over the intervals: a real difference


def test_a_car_short_of_its_target_after_its_departure_time_charges_now() -> None:
    # 07:30, half an hour after the configured 07:00, still plugged in and short: finish now.
    late = NOW.astimezone(ZoneInfo("Europe/Berlin")).replace(hour=7, minute=30)
    ivs = plan_horizon(CFG, late)
    fc = forecasts(tuple(i.start for i in ivs))
    state = MeasuredState(ev_plugged=True, ev_energy_kwh=30.0)
    built = build_inputs(CFG, DEV, late, tenders=[], forecasts=fc, state=state, positions_kw={})
    assert built.inputs.ev is not None
    assert built.inputs.ev.sessions[0].departure == 1
    assert "still plugged in" in built.fallbacks["ev_departure"]
    # At its target it waits for tomorrow's departure, as does a car plugged in two hours later.
    full = MeasuredState(ev_plugged=True, ev_energy_kwh=40.0)
    built = build_inputs(CFG, DEV, late, tenders=[], forecasts=fc, state=full, positions_kw={})
    assert built.inputs.ev is not None and built.inputs.ev.sessions[0].departure > 80


def test_battery_energy_left_at_the_end_is_worth_a_cheap_import_with_its_network_charge() -> None:
    home = CFG.party_id
    hour = IVS[0].parent(Duration.PT1H)
    charge = tender("imp", hour, Side.SELL, "0.07", party="dso", product=Product.TRANSPORT, to_node=home)
    charge = dataclasses.replace(charge, from_node="grid")
    with_charge = build(tenders=[charge], state=MeasuredState(battery_soc=0.5))
    without = build(state=MeasuredState(battery_soc=0.5))
    assert with_charge.inputs.battery is not None and without.inputs.battery is not None
    assert DEV.battery is not None
    eff = 0.95 * 0.95  # the config's one-way efficiencies
    # No energy tenders: every interval expects the default 0.30/kWh plus half the 0.02 spot
    # spread, and the network charge comes on top (worked by hand, not by the planner's formula).
    assert with_charge.inputs.battery.terminal_value_per_kwh == pytest.approx((0.30 + 0.01 + 0.07) * eff)
    gap = with_charge.inputs.battery.terminal_value_per_kwh - without.inputs.battery.terminal_value_per_kwh
    assert gap == pytest.approx(0.07 * eff)


def test_the_configured_spot_spread_prices_both_sides_of_a_deviation() -> None:
    spot = [SpotPrice(IVS[0], Decimal("0.30"), "EUR")]
    narrow = CFG.model_copy(update={"market": CFG.market.model_copy(update={"spot_spread_per_kwh": 0.004})})
    for cfg, gap in ((CFG, 0.02), (narrow, 0.004)):
        built = build_inputs(
            cfg, DEV, NOW, tenders=[], forecasts=forecasts(tuple(i.start for i in IVS)),
            state=MeasuredState(), positions_kw={}, spot=spot,
        )  # fmt: skip
        lad = built.ladders
        assert lad.expected_buy_per_kwh[0] - lad.expected_sell_per_kwh[0] == pytest.approx(gap)
    text = CONFIG_TEXT.format(hedge=1.0, window_h=3, horizon_h=3, max_kw=8.0, extra="")
    bad = text.replace("  max_tender_kw: 8.0\n", "  max_tender_kw: 8.0\n  spot_spread_per_kwh: -0.01\n")
    assert bad != text
    with pytest.raises(ConfigError, match=r"market\.spot_spread_per_kwh"):
        parse_config(bad)
