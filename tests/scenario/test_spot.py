"""The volatile spot model (agent/scenario/spot.py): its documented statistics, its seeding, and
the calibration from a price series' hour-to-hour changes, by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.scenario.errors import ScenarioError
from agent.scenario.series import RawSeries, SeriesSpec
from agent.scenario.spot import calibrate, draw
from agent.scenario.tariff import SpotModel, parse_tariff, random_spot


def forward(n: int, price: float = 0.05) -> RawSeries:
    spec = SeriesSpec("data.forward_price_per_kwh", Path("p.csv"), "p")
    times = np.arange(n, dtype=np.float64) * 3600.0
    return RawSeries(spec, times, np.full(n, price), 3600.0, 0.0, np.arange(n) + 2)


VOLATILE = SpotModel(
    model="volatile",
    sigma_per_kwh=0.01,
    correlation=0.9,
    seed=7,
    spike_probability=0.02,
    spike_mean_per_kwh=0.2,
    spike_up_share=0.75,
)


def test_the_same_scenario_and_run_seed_draw_the_same_spot_and_another_run_seed_another() -> None:
    a = random_spot(forward(300), VOLATILE, run_seed=1).values
    b = random_spot(forward(300), VOLATILE, run_seed=1).values
    c = random_spot(forward(300), VOLATILE, run_seed=2).values
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist()


def test_the_random_model_ignores_the_run_seed_so_existing_scenarios_keep_their_spot() -> None:
    model = SpotModel(model="random", sigma_per_kwh=0.01, correlation=0.9, seed=7)
    assert (
        random_spot(forward(50), model, run_seed=1).values.tolist()
        == random_spot(forward(50), model, run_seed=2).values.tolist()
    )


def test_without_spikes_the_volatile_spot_is_the_noise_alone() -> None:
    calm = draw(forward(400), sigma_per_kwh=0.01, correlation=0.9, seed=3, run_seed=5)
    spiky = draw(
        forward(400),
        sigma_per_kwh=0.01,
        correlation=0.9,
        seed=3,
        run_seed=5,
        spike_probability=0.05,
        spike_mean_per_kwh=0.3,
    )
    jumps = np.abs(spiky.values - calm.values)
    # Spikes only add to some rows; the noise under them is the same stream.
    assert 0 < int((jumps > 0).sum()) < 400
    assert calm.values.tolist() != spiky.values.tolist()


@settings(max_examples=12, deadline=None)
@given(
    sigma=st.floats(0.005, 0.05),
    rho=st.floats(0.0, 0.95),
    p=st.floats(0.01, 0.1),
    mean=st.floats(0.05, 0.5),
    up=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31),
)
def test_the_spot_statistics_match_the_parameters(
    *, sigma: float, rho: float, p: float, mean: float, up: float, seed: int
) -> None:
    n = 40_000
    e = (
        draw(
            forward(n),
            sigma_per_kwh=sigma,
            correlation=rho,
            seed=seed,
            run_seed=1,
            spike_probability=p,
            spike_mean_per_kwh=mean,
            spike_up_share=up,
        ).values
        - 0.05
    )
    want_mean = p * mean * (2 * up - 1)
    want_var = sigma**2 + p * 2 * mean**2 - want_mean**2
    # Honest bounds: the standard error of a mean of n draws whose variance is want_var is at
    # most sqrt(want_var / n · (1 + ρ) / (1 − ρ)) (the AR(1) part is correlated); 5 of them.
    se = math.sqrt(want_var / n * (1 + rho) / (1 - rho))
    assert float(np.mean(e)) == pytest.approx(want_mean, abs=5 * se)
    # The variance's bound from the fourth moment (noise N(0, σ²) plus a spike s with probability
    # p, E[s²] = 2m², E[s⁴] = 24m⁴): Var[x²] = E[x⁴] − E[x²]², inflated for the AR(1) noise by
    # (1 + ρ²)/(1 − ρ²); again 5 standard errors.
    ex2 = sigma**2 + p * 2 * mean**2
    ex4 = 3 * sigma**4 + p * (24 * mean**4 + 6 * sigma**2 * 2 * mean**2)
    se_var = math.sqrt((ex4 - ex2**2) / n * (1 + rho**2) / (1 - rho**2))
    assert float(np.var(e)) == pytest.approx(want_var, abs=5 * se_var)


def test_calibration_by_hand() -> None:
    # Changes: +1, -1, +1, -1, +1, -1, +1, -1, +10 (one jump), then -10 back.
    p = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 10, 0], dtype=np.float64)
    c = calibrate(p, correlation=0.6, threshold=4.0)
    # median change: the sorted changes are -10, -1 x4, +1 x4, +10: median (-1 + 1) / 2 = 0;
    # |changes| are 1 (x8) and 10 (x2): MAD 1, robust σ 1.4826; 4 × 1.4826 = 5.93: the ±10 are
    # the spikes, 2 of 10 changes, mean size 10, one of two upward.
    assert c.innovation_per_kwh == pytest.approx(1.4826)
    assert c.sigma_per_kwh == pytest.approx(1.4826 / 0.8)  # √(1 − 0.36) = 0.8
    assert c.spike_probability == pytest.approx(0.2)
    assert c.spike_mean_per_kwh == pytest.approx(10.0)
    assert c.spike_up_share == pytest.approx(0.5)


def test_calibration_skips_gaps_and_refuses_too_short_a_series() -> None:
    c = calibrate(np.array([0.0, 1.0, np.nan, 5.0, 4.0, 5.0]), correlation=0.0)
    assert c.innovation_per_kwh == pytest.approx(0.0)  # changes +1, -1, +1: |·| all 1, MAD 0
    with pytest.raises(ValueError, match="three"):
        calibrate(np.array([1.0, 2.0]), correlation=0.5)


def test_the_tariff_reads_the_volatile_model_and_names_bad_spike_fields() -> None:
    t = parse_tariff(
        {
            "spot": {
                "model": "volatile",
                "spike_probability": 0.02,
                "spike_mean_per_kwh": 0.1,
                "spike_up_share": 0.7,
            }
        }
    )
    assert (t.spot.model, t.spot.spike_probability, t.spot.spike_mean_per_kwh, t.spot.spike_up_share) == (
        "volatile",
        0.02,
        0.1,
        0.7,
    )
    with pytest.raises(ScenarioError, match=r"tariff\.spot\.spike_probability"):
        parse_tariff({"spot": {"model": "random", "spike_probability": 0.02}})
    with pytest.raises(ScenarioError, match=r"tariff\.spot\.spike_up_share"):
        parse_tariff({"spot": {"model": "volatile", "spike_up_share": 1.5}})
