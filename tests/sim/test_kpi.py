"""KPI arithmetic: band violations integrate exactly, the energy balance, the acceptance bar."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from hil.sim.kpi import KPI_KEYS, Kpis, band_violation_c_h, energy_balance_error_kwh, outside_band


def test_inside_the_band_costs_nothing() -> None:
    assert band_violation_c_h(21.0, 22.0, 20.0, 23.0, 3600.0) == 0.0


def test_a_degree_out_for_an_hour_is_one_degree_hour() -> None:
    assert math.isclose(band_violation_c_h(24.0, 24.0, 20.0, 23.0, 3600.0), 1.0)
    assert math.isclose(band_violation_c_h(19.0, 19.0, 20.0, 23.0, 1800.0), 0.5)


def test_a_crossing_counts_only_the_part_outside() -> None:
    # 22 -> 24 over an hour against hi = 23: outside for half an hour, on average 0.5 K.
    assert math.isclose(band_violation_c_h(22.0, 24.0, 20.0, 23.0, 3600.0), 0.25)


@settings(max_examples=200)
@given(
    a=st.floats(-10, 40),
    b=st.floats(-10, 40),
    lo=st.floats(15, 22),
    width=st.floats(0.1, 5),
    dt=st.floats(1, 3600),
)
def test_violation_matches_fine_integration(a: float, b: float, lo: float, width: float, dt: float) -> None:
    # Guards against a wrong closed form at band crossings: compare with a midpoint sum.
    hi = lo + width
    n = 2000
    fine = sum(outside_band(a + (b - a) * (i + 0.5) / n, lo, hi) for i in range(n)) * dt / n / 3600.0
    assert math.isclose(band_violation_c_h(a, b, lo, hi, dt), fine, rel_tol=1e-3, abs_tol=1e-6)


def test_energy_balance_counts_pv_as_production() -> None:
    devices = {"base": 2.0, "heat_pump": 1.0, "battery": -0.5, "pv": 3.0}
    assert math.isclose(energy_balance_error_kwh(-0.5, devices), 0.0, abs_tol=1e-12)
    assert math.isclose(energy_balance_error_kwh(0.5, devices), 1.0)


def _kpis(**changes: float) -> Kpis:
    values: dict[str, float] = dict.fromkeys(KPI_KEYS, 0.0)
    values.update(cost=8.0, baseline_cost=10.0, perfect_foresight_cost=6.0)
    values.update(changes)
    return Kpis(**values)  # type: ignore[arg-type]


def test_kpi_json_has_exactly_the_keys() -> None:
    assert tuple(_kpis().to_json()) == KPI_KEYS


def test_acceptance_bar() -> None:
    assert _kpis().beats_baseline(7) == []
    assert _kpis(cost=10.5).beats_baseline(7)
    assert _kpis(comfort_violation_c_h=3.6).beats_baseline(7)
    assert _kpis(comfort_violation_c_h=3.4).beats_baseline(7) == []
    assert _kpis(ev_shortfall_kwh=1.0).beats_baseline(7)
