"""Each plan heats or cools by the mode in force when its horizon starts, in that mode's band."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from agent.config import Config
from agent.forecast.records import Series
from agent.optimizer import Planner
from agent.planning.devices import devices_from_config
from agent.planning.inputs import BuiltInputs, MeasuredState, build_inputs, plan_horizon, planner_shape
from tests.planning.helpers import config, forecasts

BERLIN = ZoneInfo("Europe/Berlin")
AUTO = """
  living:
    role: thermostat
    mode: auto
    cooling_season: {from: "05-15", to: "09-15"}
    electric_max_kw: 2.5
    cop: 3.0
    house: {r_k_per_kw: 8, c_kwh_per_k: 5, internal_gain_kw: 0.3}
    comfort: {target_c: 21.0, band_c: 1.0}
    cooling_comfort: {target_c: 24.5, band_c: 1.0}
    cooling_cop_curve: [{outdoor_c: 20, cop: 5.0}, {outdoor_c: 35, cop: 3.0}]
    driver: {type: simulated}
"""


def built_at(cfg: Config, local: datetime, outdoor_c: float, indoor_c: float) -> BuiltInputs:
    now = local.replace(tzinfo=BERLIN)
    ivs = plan_horizon(cfg, now)
    fc = forecasts(tuple(i.start for i in ivs))
    fc = dataclasses.replace(fc, outdoor=Series("outdoor_c", np.full(len(ivs), outdoor_c), now, "test"))
    dev = devices_from_config(cfg)
    state = MeasuredState(indoor_c=indoor_c, battery_soc=0.5)
    return build_inputs(cfg, dev, now, tenders=[], forecasts=fc, state=state, positions_kw={})


def test_a_hot_july_day_is_planned_cooling_and_kept_under_the_cooling_band() -> None:
    cfg = config(extra=AUTO, horizon_h=6)
    # Hand-set: 33 °C outside, the house at 25.4 °C; left alone it heads for 33 + 8 x 0.3 = 35.4 °C
    # (1 - e^(-0.25/40) of the way per quarter hour: +0.06 K), above the cooling band 23.5..25.5.
    built = built_at(cfg, datetime(2026, 7, 10, 14, 0), outdoor_c=33.0, indoor_c=25.4)
    hp = built.inputs.heat_pump
    assert hp is not None
    assert hp.mode == "cooling"
    assert (hp.band_lo_c[0], hp.band_hi_c[0], hp.target_c[0]) == (23.5, 25.5, 24.5)
    # the cooling curve's line (20 °C: 5.0, 35 °C: 3.0) at 33 °C: 5.0 - 2.0 x 13 / 15 = 3.2667
    assert hp.cop is not None
    assert np.allclose(hp.cop, 5.0 - 2.0 * 13.0 / 15.0)
    plan = Planner(devices_from_config(cfg), *planner_shape(cfg)).plan(built.inputs)
    indoor = np.asarray(plan.series["indoor_c"])
    assert float(np.sum(plan.series["heat_pump_kw"])) > 0.5  # it runs (kW x intervals)
    # left alone the house would end the 6 h at 35.4 - 10 x e^(-6/40) = 26.79 °C: only cooling
    # (not heating) keeps it inside the band
    assert indoor.max() <= 25.5 + 1e-3


def test_a_cold_january_day_is_planned_heating_in_the_heating_band() -> None:
    cfg = config(extra=AUTO, horizon_h=6)
    built = built_at(cfg, datetime(2026, 1, 10, 14, 0), outdoor_c=-2.0, indoor_c=20.1)
    hp = built.inputs.heat_pump
    assert hp is not None
    assert hp.mode == "heating"
    assert (hp.band_lo_c[0], hp.band_hi_c[0], hp.target_c[0]) == (20.0, 22.0, 21.0)
    assert hp.cop is None  # the configured cop (the heating one) in the planner's own line
    plan = Planner(devices_from_config(cfg), *planner_shape(cfg)).plan(built.inputs)
    indoor = np.asarray(plan.series["indoor_c"])
    # left alone: 0.4 + 19.7 x e^(-6/40) = 17.36 °C after 6 h
    assert float(np.sum(plan.series["heat_pump_kw"])) > 0.5
    assert indoor.min() >= 20.0 - 1e-3


def test_the_changeover_day_picks_the_mode_by_the_horizon_start() -> None:
    cfg = config(extra=AUTO, horizon_h=6)

    def mode(local: datetime) -> str | None:
        hp = built_at(cfg, local, outdoor_c=20.0, indoor_c=22.0).inputs.heat_pump
        assert hp is not None
        return hp.mode

    # hand-computed: cooling from 15 May (first day), heating again from 15 September; a horizon
    # starting 14 May 23:45 runs into the 15th but is planned in the mode it starts in
    assert mode(datetime(2026, 5, 14, 23, 50)) == "heating"
    assert mode(datetime(2026, 5, 15, 0, 5)) == "cooling"
    assert mode(datetime(2026, 9, 14, 23, 50)) == "cooling"
    assert mode(datetime(2026, 9, 15, 0, 5)) == "heating"
