"""The car's sessions: the plugged one and the usual arrivals over the horizon; what the plan
does with them (keeps midday solar in the home battery for the car's night charge)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest

from agent.config import ConfigError
from agent.market.intervals import Duration, Interval
from agent.market.records import Product, Side, Tender
from agent.optimizer import EvSession, Planner
from agent.planning.devices import devices_from_config
from agent.planning.ev_sessions import LATE_WINDOW
from agent.planning.inputs import MeasuredState, build_inputs, plan_horizon, planner_shape
from tests.planning.helpers import EV, NOW, config, forecasts, tender

ARRIVING = EV + '    arrival_time: "18:00"\n    arrival_soc: 0.3\n'
CFG = config(horizon_h=36, extra=ARRIVING)
DEV = devices_from_config(CFG)
H = 4  # intervals per hour; the horizon starts at 09:00 local


def sessions(state: MeasuredState, now=NOW, cfg=CFG) -> tuple[EvSession, ...]:  # type: ignore[no-untyped-def]
    ivs = plan_horizon(cfg, now)
    built = build_inputs(
        cfg,
        devices_from_config(cfg),
        now,
        tenders=[],
        forecasts=forecasts(tuple(i.start for i in ivs)),
        state=state,
        positions_kw={},
    )
    assert built.inputs.ev is not None
    return built.inputs.ev.sessions


def test_a_car_away_is_expected_at_its_usual_arrival_each_evening() -> None:
    got = sessions(MeasuredState(ev_plugged=False))
    # 18:00 today (9 h in) to 07:00 tomorrow, and tomorrow's 18:00 (33 h in) to the day after
    assert got == (
        EvSession(9 * H, 22 * H, 15.0, 40.0),
        EvSession(33 * H, 46 * H, 15.0, 40.0),
    )


def test_without_an_arrival_time_a_car_away_is_not_planned_for() -> None:
    assert sessions(MeasuredState(ev_plugged=False), cfg=config(horizon_h=36, extra=EV)) == ()


def test_a_plugged_car_is_followed_by_tomorrows_arrival() -> None:
    got = sessions(MeasuredState(ev_plugged=True, ev_energy_kwh=20.0))
    assert got[0] == EvSession(0, 22 * H, 20.0, 40.0)
    assert got[1:] == (EvSession(33 * H, 46 * H, 15.0, 40.0),)


def test_a_late_car_is_expected_now_until_it_is_away_for_the_night() -> None:
    late = NOW + timedelta(hours=10)  # 19:03, an hour after the usual arrival
    assert sessions(MeasuredState(ev_plugged=False), now=late)[0].arrival == 1
    gone = NOW + timedelta(hours=9) + LATE_WINDOW + timedelta(minutes=1)
    first = sessions(MeasuredState(ev_plugged=False), now=gone)[0]
    assert first.arrival > 12 * H  # not tonight: tomorrow evening


def test_arrival_equal_to_departure_is_refused_by_name() -> None:
    with pytest.raises(ConfigError) as e:
        config(extra=EV + '    arrival_time: "07:00"\n')
    assert "arrival_time" in str(e.value)


def test_the_expected_night_charge_runs_on_the_stored_midday_solar() -> None:
    """At noon with the car away: the plan counts on the car's night charge and serves it partly
    from the battery it fills at midday; without the car in view the plan keeps energy it has
    no use for until the horizon's end."""
    cfg_with, cfg_without = config(horizon_h=24, extra=ARRIVING), config(horizon_h=24, extra=EV)
    noon = NOW + timedelta(hours=3)
    ivs = plan_horizon(cfg_with, noon)
    hours = np.array([(iv.start.hour + iv.start.minute / 60.0) for iv in ivs])
    pv = np.where((hours >= 12) & (hours < 16), 5.0, 0.0)
    # The network charge is what makes storing pay: exported at the price less 0.01, bought
    # back at the price plus 0.07.
    hours_ahead = {iv.parent(Duration.PT1H) for iv in ivs}

    def charge(tid: str, hour: Interval, price: str, src: str, dst: str) -> Tender:
        t = tender(tid, hour, Side.SELL, price, party="dso", product=Product.TRANSPORT,
                   expires=noon + timedelta(days=2))  # fmt: skip
        return dataclasses.replace(t, from_node=src, to_node=dst)

    home = cfg_with.party_id
    charges = [
        c
        for k, hour in enumerate(sorted(hours_ahead, key=lambda h: h.start))
        for c in (
            charge(f"imp-{k}", hour, "0.07", "grid", home),
            charge(f"exp-{k}", hour, "0.01", home, "grid"),
        )
    ]
    morning = int(np.argmax(hours == 7.0))
    got = {}
    for name, cfg in (("with", cfg_with), ("without", cfg_without)):
        built = build_inputs(
            cfg,
            DEV,
            noon,
            tenders=charges,
            forecasts=forecasts(tuple(i.start for i in ivs), base_kw=0.3, pv_kw=list(pv)),
            state=MeasuredState(battery_soc=0.2, ev_plugged=False),
            positions_kw={},
        )
        plan = Planner(devices_from_config(cfg), *planner_shape(cfg)).plan(built.inputs)
        got[name] = float(plan.series["battery_kwh"][morning - 1])
        got[name + "_ev_kwh"] = float(np.sum(plan.series["ev_kw"])) * 0.25
        got[name + "_end"] = float(plan.series["battery_kwh"][-1])
    assert got["without_ev_kwh"] == pytest.approx(0.0, abs=1e-6)
    assert got["with_ev_kwh"] == pytest.approx(25.0 / 0.92, rel=0.02), got  # 15 -> 40 kWh
    # With the car, all but the next morning's house load goes into it: the battery reaches its
    # 2 kWh reserve by the time the sun is back; without, it holds energy the plan has no use for.
    assert got["with"] < got["without"] - 0.5, got
    assert got["with_end"] == pytest.approx(2.0, abs=0.15), got
    assert got["without_end"] > 2.5, got
