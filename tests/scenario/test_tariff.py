"""The tariff's prices per interval and the seeded random spot model."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from agent.scenario.series import RawSeries, SeriesSpec
from agent.scenario.tariff import SpotModel, parse_tariff, random_spot

BERLIN = ZoneInfo("Europe/Berlin")


def forward(n: int) -> RawSeries:
    spec = SeriesSpec("data.forward_price_per_kwh", Path("p.csv"), "p")
    times = np.arange(n, dtype=np.float64) * 3600.0
    return RawSeries(spec, times, np.full(n, 0.05), 3600.0, 0.0, np.arange(n) + 2)


def test_the_random_spot_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    model = SpotModel(model="random", sigma_per_kwh=0.02, correlation=0.8, seed=11)
    a = random_spot(forward(500), model).values
    b = random_spot(forward(500), model).values
    c = random_spot(
        forward(500), SpotModel(model="random", sigma_per_kwh=0.02, correlation=0.8, seed=12)
    ).values
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist()


def test_the_random_spot_has_the_documented_spread_and_correlation() -> None:
    e = (
        random_spot(
            forward(20_000), SpotModel(model="random", sigma_per_kwh=0.02, correlation=0.8, seed=3)
        ).values
        - 0.05
    )
    assert float(np.mean(e)) == pytest.approx(0.0, abs=0.002)
    assert float(np.std(e)) == pytest.approx(0.02, rel=0.05)
    assert float(np.corrcoef(e[:-1], e[1:])[0, 1]) == pytest.approx(0.8, abs=0.02)


def test_import_export_and_time_of_use_prices() -> None:
    t = parse_tariff(
        {
            "retail_adder_per_kwh": 0.10,
            "tax_multiplier": 1.2,
            "network": {
                "import_per_kwh": 0.05,
                "export_per_kwh": 0.01,
                "periods": [{"from": "22:00", "to": "06:00", "import_per_kwh": 0.02}],  # wraps midnight
            },
            "export": {"rule": "forward", "price_per_kwh": -0.01},
        }
    )
    fwd = np.array([0.05, -0.02])
    assert t.import_energy_per_kwh(fwd).tolist() == pytest.approx([0.18, 0.096])
    assert t.export_per_kwh(fwd).tolist() == pytest.approx([0.04, -0.03])
    at = [datetime(2015, 6, 1, h, tzinfo=BERLIN) for h in (21, 22, 3, 6)]
    imp, exp = t.network_per_kwh(at)
    assert imp.tolist() == [0.05, 0.02, 0.02, 0.05]
    assert exp.tolist() == [0.01, 0.01, 0.01, 0.01]
    assert parse_tariff({}).export_per_kwh(fwd).tolist() == pytest.approx([0.15, 0.08])  # retail: one price
