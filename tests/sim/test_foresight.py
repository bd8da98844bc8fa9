"""Perfect foresight is a lower bound billed like the baseline: energy at spot plus the network charge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from agent.clock import ManualClock
from agent.config import load_config
from agent.optimizer import DemandInputs
from hil.rig import Rig
from hil.rig_settings import RigSettings
from hil.sim.baseline import run_baseline
from hil.sim.foresight import run_foresight, run_foresight_windows
from hil.sim.scenario import parse_scenario
from hil.sim.tariff import Flow, Tariff, scenario_tariff

# A scenario of a preset home replaying its shipped week (hil/plant/params.py).
PRESET_SCENARIO = {"site": {"tz": "Europe/Berlin"}, "grid": {"import_limit_kw": 17, "export_limit_kw": 10}}


@pytest.mark.parametrize(
    ("preset", "start"), [("summer", "2026-06-15T00:00:00+02:00"), ("winter", "2026-01-12T00:00:00+01:00")]
)
def test_foresight_bills_the_network_charge_and_stays_below_the_baseline(
    preset: str, start: str, tmp_path: Path
) -> None:
    sc = parse_scenario({**PRESET_SCENARIO, "simulate": {"preset": preset}, "start": start, "days": 1})
    rig = Rig(sc.home, clock=ManualClock(sc.start), settings=RigSettings(broker_host="127.0.0.1"), days=2)
    config = load_config(rig.write_config(tmp_path / "hems.yaml", state_dir=tmp_path / "state"))
    tariff = scenario_tariff(sc)
    result = run_foresight(config, sc.home, sc.start, 1.0, tariff, step_s=900.0)
    grid = np.array(result.grid_kw)
    dt_h = 0.25
    spot = np.array([tariff.spot_per_kwh(sc.start + k * timedelta(minutes=15)) for k in range(len(grid))])
    energy_only = float(np.sum(grid * dt_h * spot))
    imported_kwh = float(np.sum(np.maximum(grid, 0.0)) * dt_h)
    # The network charge is in: at least the import adder on every imported kWh.
    assert result.cost - energy_only >= tariff.import_adder_per_kwh * imported_kwh - 1e-6
    assert imported_kwh > 1.0
    baseline = run_baseline(sc.home, sc.start, 1.0, tariff, bin_s=900.0).cost
    assert result.cost < baseline


def test_a_long_period_is_solved_in_windows_that_cover_it_exactly(tmp_path: Path) -> None:
    sc = parse_scenario(
        {
            **PRESET_SCENARIO,
            "simulate": {"preset": "summer"},
            "start": "2026-06-15T00:00:00+02:00",
            "days": 10,
        }
    )
    rig = Rig(sc.home, clock=ManualClock(sc.start), settings=RigSettings(broker_host="127.0.0.1"), days=12)
    config = load_config(rig.write_config(tmp_path / "hems.yaml", state_dir=tmp_path / "state"))
    tariff = scenario_tariff(sc)
    windowed = run_foresight_windows(config, sc.home, sc.start, 10.0, tariff, step_s=900.0)
    assert len(windowed.grid_kw) == 10 * 96
    # The first window is the eight-day plan, billed over its first seven days.
    eight = run_foresight(config, sc.home, sc.start, 8.0, tariff, step_s=900.0)
    assert np.allclose(windowed.grid_kw[: 7 * 96], eight.grid_kw[: 7 * 96], atol=1e-6)
    # Up to eight days it is the one plan.
    assert run_foresight_windows(config, sc.home, sc.start, 8.0, tariff, step_s=900.0).cost == pytest.approx(
        eight.cost
    )


@dataclass(frozen=True)
class _WithDemand:
    """The scenario's retailer prices plus a charge of ``per_kw`` on the day's highest import."""

    tariff: Tariff
    per_kw: float

    @property
    def import_adder_per_kwh(self) -> float:
        return self.tariff.import_adder_per_kwh

    @property
    def export_adder_per_kwh(self) -> float:
        return self.tariff.export_adder_per_kwh

    def buy_per_kwh(self, at: datetime) -> float:
        return self.tariff.buy_per_kwh(at)

    def sell_per_kwh(self, at: datetime) -> float:
        return self.tariff.sell_per_kwh(at)

    def flow_costs(self, flows: Sequence[Flow]) -> list[float]:
        return self.tariff.flow_costs(flows)

    def plan_prices(self, at: datetime) -> tuple[float, float, float, float]:
        return self.tariff.plan_prices(at)

    def plan_demand(self, starts: Sequence[datetime], before: Sequence[Flow]) -> DemandInputs:
        return DemandInputs(self.per_kw, np.ones(len(starts)), np.zeros(len(starts)))


def test_the_reference_keeps_a_peak_its_prices_charge(tmp_path: Path) -> None:
    """Without a demand charge the reference charges the car in the night's cheapest hour (over
    7 kW); charged 1 EUR per kW of its highest quarter hour, it spreads the night's import, and its
    bill with the charge is the lower one."""
    sc = parse_scenario(
        {**PRESET_SCENARIO, "simulate": {"preset": "summer"}, "start": "2026-06-15T00:00:00+02:00", "days": 1}
    )
    rig = Rig(sc.home, clock=ManualClock(sc.start), settings=RigSettings(broker_host="127.0.0.1"), days=2)
    config = load_config(rig.write_config(tmp_path / "hems.yaml", state_dir=tmp_path / "state"))
    tariff = scenario_tariff(sc)
    plain = run_foresight(config, sc.home, sc.start, 1.0, tariff, step_s=900.0)
    kept = run_foresight(config, sc.home, sc.start, 1.0, _WithDemand(tariff, 1.0), step_s=900.0)

    def peak_kw(flows: list[Flow]) -> float:
        return max(imp for _, imp, _ in flows) * 4.0  # kWh per quarter hour -> kW

    def bill(flows: list[Flow]) -> float:
        return sum(tariff.flow_costs(flows)) + 1.0 * peak_kw(flows)

    assert peak_kw(plain.flows) > 7.0
    assert peak_kw(kept.flows) < 0.6 * peak_kw(plain.flows)
    assert bill(kept.flows) < bill(plain.flows) - 1.0
