"""The UK Agile-style stand-in prices: rows by hand, the shipped file, and the contract that bills them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.clock import ManualClock
from agent.config import load_config
from agent.market.intervals import Duration
from hil.rig import Rig
from hil.rig_settings import RigSettings
from hil.sim.agile_proxy import SOURCE, TARGET, derive
from hil.sim.contract import parse_contract
from hil.sim.contract_pricing import ContractPricing
from hil.sim.foresight import run_foresight
from hil.sim.program import contract_market
from hil.sim.scenario import load_scenario
from tests.sim.test_contract_pricing import EXAMPLES

REPO = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
SOURCE_ROWS = """time,price_eur_per_mwh
2015-06-15T16:00:00+02:00,30.38
2015-06-15T17:00:00+02:00,36.09
2015-06-15T20:00:00+02:00,-10.00
2015-06-15T21:00:00+02:00,
"""


def test_rates_by_hand() -> None:
    rows = derive(SOURCE_ROWS).splitlines()
    assert rows[0] == "time,unit_rate_gbp_per_kwh"
    # 15:00 BST, off-peak: 30.38 EUR/MWh x 0.73 = 2.21774 p/kWh, x 2.2 = 4.879028 p.
    assert rows[1] == "2015-06-15T15:00:00+01:00,0.048790"
    # 16:00 BST, the peak: 36.09 x 0.73 = 2.63457 p, x 2.2 = 5.796054 p, + 12 p = 17.796054 p.
    assert rows[2] == "2015-06-15T16:00:00+01:00,0.177961"
    # 19:00 BST, after the peak, a negative price: -10 x 0.73 / 10 x 2.2 = -1.606 p.
    assert rows[3] == "2015-06-15T19:00:00+01:00,-0.016060"
    assert rows[4] == "2015-06-15T20:00:00+01:00,"  # missing stays missing


def test_the_shipped_file_is_what_the_module_writes() -> None:
    assert TARGET.read_text() == derive(SOURCE.read_text())


def _uk_pricing(start: datetime, days: float) -> ContractPricing:
    scenario = load_scenario(REPO / "hil" / "scenarios" / "contract_uk_agile_octopus.yaml")
    contract = parse_contract({"config": "uk_agile_octopus.yaml"}, EXAMPLES)
    return ContractPricing(
        contract, zone=LONDON, start=start, days=days, step=Duration.PT15M,
        market_at=contract_market(scenario, LONDON)[0],
    )  # fmt: skip


def test_the_uk_week_is_billed_at_the_stand_in_rates() -> None:
    # The Octopus source is a price service: the baseline and the reference are billed at the
    # recorded rates, as the agent is (they were once billed at a market price of 0).
    monday = datetime(2026, 6, 15, 7, tzinfo=LONDON)
    pricing = _uk_pricing(monday, 1.0)
    # 17:00 BST on the first day shows 2015-06-15 17:00: 0.185107 GBP before VAT, x 1.05.
    assert pricing.buy_per_kwh(monday.replace(hour=17, minute=20)) == pytest.approx(0.19436235, abs=1e-12)
    assert pricing.sell_per_kwh(monday.replace(hour=17)) == pytest.approx(0.05, abs=1e-12)
    assert pricing.price(monday.replace(hour=17)).import_parts["market"] == Decimal("0.185107")


def test_the_reference_bills_one_direction_per_interval_where_export_pays_more(tmp_path: Path) -> None:
    # Off-peak the stand-in import price is below the 0.05 export rate: the reference's plan may
    # then import and export in one interval at no cost to it (it sees the export at the import
    # price there), but a meter flows one way at a time and only the net is billed (billed both
    # ways, this day's bound came out 0.26 GBP lower).
    scenario = load_scenario(REPO / "hil" / "scenarios" / "contract_uk_agile_octopus.yaml")
    start = scenario.start
    pricing = _uk_pricing(start, 1.0)
    quarters = [start + timedelta(minutes=15 * i) for i in range(96)]
    assert sum(pricing.sell_per_kwh(t) > pricing.buy_per_kwh(t) for t in quarters) >= 20
    rig = Rig(scenario.home, clock=ManualClock(start), settings=RigSettings(broker_host="127.0.0.1"), days=2)
    config = load_config(rig.write_config(tmp_path / "hems.yaml", state_dir=tmp_path / "state"))
    result = run_foresight(config, scenario.home, start, 1.0, pricing, step_s=900.0)
    assert all(imp == 0.0 or exp == 0.0 for _, imp, exp in result.flows)
