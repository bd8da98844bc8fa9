"""The volatile spot week's market: spot realised apart from the forward price, drawn by the run's
seed, and forward quotes that carry the documented premium by hour; the rig's agent config
carries the household's yearly consumption."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from agent.scenario.series import SeriesSpec
from bench.trading_value import merge_docs
from hil.plant import SUMMER
from hil.retailer.premium import PremiumPrices
from hil.rig_config import annual_consumption_kwh
from hil.sim.scenario import load_scenario
from hil.sim.tariff import scenario_tariff

SCENARIOS = Path(__file__).parents[2] / "hil" / "scenarios"


def test_spot_differs_from_the_forward_price_and_the_run_seed_draws_another_realisation() -> None:
    sc = load_scenario(SCENARIOS / "volatile_spot_week.yaml").with_days(1)
    tariff = scenario_tariff(sc)
    hours = [sc.start + timedelta(hours=h) for h in range(24)]
    spot = [tariff.wholesale.spot_at(t) for t in hours]
    other = scenario_tariff(dataclasses.replace(sc, seed=sc.seed + 1))
    assert spot != [other.wholesale.spot_at(t) for t in hours]
    assert spot == [scenario_tariff(sc).wholesale.spot_at(t) for t in hours]  # same seed, same spot
    assert isinstance(tariff.wholesale, PremiumPrices)
    base = tariff.wholesale.base
    assert spot != [base.at(t) for t in hours]


def test_the_forward_quotes_carry_the_premium_of_their_local_hour() -> None:
    sc = load_scenario(SCENARIOS / "volatile_spot_week.yaml")
    tariff = scenario_tariff(sc)
    assert isinstance(tariff.wholesale, PremiumPrices)
    base = tariff.wholesale.base
    day = sc.start.replace(hour=0)  # local midnight of the first day (the start carries Berlin's offset)
    # the scenario: +0.01 from 17 to 21 h, -0.01 from 10 to 16 h, nothing otherwise
    for hour, premium in ((3, "0"), (12, "-0.01"), (18, "0.01"), (22, "0")):
        t = day + timedelta(hours=hour)
        assert tariff.wholesale.at(t) - base.at(t) == Decimal(premium)
        assert tariff.wholesale.spot_at(t) == base.spot_at(t)


def test_the_yearly_consumption_of_the_h0_household_is_4000_kwh() -> None:
    # scenarios/data/ATTRIBUTION.md: the H0 year is scaled to 4000 kWh/year.
    assert isinstance(SUMMER.data.base_load_kw, SeriesSpec)
    assert abs(annual_consumption_kwh(SUMMER.data.base_load_kw) - 4000.0) < 1.0
    assert annual_consumption_kwh(0.5) == 4380.0  # a flat 0.5 kW: 0.5 x 8760 h


def test_the_negative_price_week_pays_for_import_on_its_second_day_by_the_recorded_prices() -> None:
    sc = load_scenario(SCENARIOS / "negative_price_week.yaml")
    tariff = scenario_tariff(sc)
    sunday_14 = sc.start + timedelta(hours=31)  # 07:00 Saturday + 31 h: Sunday 14:00 (2015-04-12)
    # prices_de_2015.csv: 2015-04-12T14:00+02:00 -79.94 EUR/MWh, to the retailer's 0.0001 quantum;
    # no adder; import network 0.04
    assert tariff.spot_per_kwh(sunday_14) == -0.0799
    assert tariff.spot_per_kwh(sunday_14) + tariff.import_adder_per_kwh < 0


def test_the_spike_week_has_a_spike_on_the_first_evening() -> None:
    sc = load_scenario(SCENARIOS / "price_spike_week.yaml")
    tariff = scenario_tariff(sc)
    evening_22 = sc.start + timedelta(hours=15)  # 07:00 + 15 h
    assert tariff.spot_per_kwh(evening_22) > 1.0
    assert tariff.spot_per_kwh(evening_22 - timedelta(hours=1)) < 1.0


def test_seeds_run_apart_merge_into_one_spread() -> None:
    def doc(seed: int, on: float, off: float) -> dict[str, object]:
        run = {"seed": seed, "cost_with_trading": on, "cost_without_trading": off, "trading_value": off - on}
        return {"scenario": "w", "days": 0.5, "runs": [run]}

    merged = merge_docs([doc(2, 1.0, 1.5), doc(1, 2.0, 2.1)])
    assert merged["seeds"] == [1, 2]
    assert merged["trading_value"] == {"mean": 0.3, "std": 0.2, "min": 0.1, "max": 0.5}
