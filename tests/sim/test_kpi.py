"""KPI arithmetic: band violations integrate exactly, the energy balance, the acceptance bar."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from hil.plant.params import SUMMER
from hil.sim.compare import comparison
from hil.sim.kpi import (
    KPI_KEYS,
    Kpis,
    PricedFlow,
    Spread,
    band_violation_c_h,
    captured_saving,
    cost_adjusted,
    energy_balance_error_kwh,
    market_kpis,
    outside_band,
    peak_import_kw,
    self_consumption,
    stored_kwh,
    trading_value,
)


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


# -- the comparison KPIs, on cases worked by hand ------------------------------------------------


def test_stored_energy_counts_battery_car_and_the_tanks_heat() -> None:
    # 200 l warmer by 10 K hold 200 * 4.186 kJ/K * 10 K = 8372 kJ = 2.3256 kWh.
    assert math.isclose(
        stored_kwh(5.0, 30.0, 200.0, 60.0) - stored_kwh(5.0, 30.0, 200.0, 50.0), 2.32556, rel_tol=1e-4
    )
    assert stored_kwh(5.0, 30.0, 0.0, 55.0) == 35.0


def test_a_run_that_empties_its_battery_pays_for_it_in_cost_adjusted() -> None:
    # The agent ends with 4 kWh less stored than the baseline; at 0.30/kWh that is worth 1.20.
    assert math.isclose(cost_adjusted(10.0, 6.0, 10.0, 0.30), 11.20)
    # A run that stored more is credited.
    assert math.isclose(cost_adjusted(10.0, 12.0, 10.0, 0.25), 9.50)


def test_captured_saving_is_the_share_of_the_references_saving() -> None:
    # Baseline 10, reference 6: a room of 4; cost_adjusted 8 saves 2 of it.
    assert math.isclose(captured_saving(10.0, 8.0, 6.0), 0.5)
    assert math.isclose(captured_saving(10.0, 11.0, 6.0), -0.25)
    assert captured_saving(10.0, 9.0, 10.0) == 0.0  # the reference finds no saving


def test_self_consumption_is_the_share_of_pv_not_exported() -> None:
    assert math.isclose(self_consumption(20.0, 5.0), 0.75)
    assert self_consumption(0.0, 0.0) == 1.0
    assert self_consumption(10.0, 12.0) == 0.0  # more exported than produced (battery to grid)


def test_peak_import_is_the_highest_mean_power_of_an_interval() -> None:
    # 0.8 kWh in a quarter hour is 3.2 kW.
    assert math.isclose(peak_import_kw([0.1, 0.8, 0.3], 900.0), 3.2)
    assert peak_import_kw([], 900.0) == 0.0


def _bin(import_kwh: float, export_kwh: float, pv_kwh: float, soc: float) -> dict[str, object]:
    return {
        "import_kwh": import_kwh, "export_kwh": export_kwh, "energy_kwh": {"pv": pv_kwh},
        "battery_soc": soc, "ev_soc": 0.5, "tank_c": 55.0,
    }  # fmt: skip


def test_comparison_reads_the_runs_bins() -> None:
    p = SUMMER
    bins = [_bin(0.5, 0.0, 0.0, 0.5), _bin(0.25, 1.0, 4.0, 0.3)]
    base = [_bin(0.5, 0.5, 0.0, 0.5), _bin(0.5, 0.5, 4.0, 0.5)]
    out = comparison(
        cost=2.0, baseline_cost=3.0, foresight_cost=1.0, bins=bins, baseline_bins=base,
        params=p, price_per_kwh=0.4, bin_s=900.0,
    )  # fmt: skip
    # The agent's battery ends 0.2 of its capacity lower than the baseline's.
    short_kwh = 0.2 * p.battery_kwh
    assert math.isclose(out["cost_adjusted"], 2.0 + short_kwh * 0.4)
    assert math.isclose(out["captured_saving"], (3.0 - out["cost_adjusted"]) / 2.0)
    assert math.isclose(out["import_kwh"], 0.75)
    assert math.isclose(out["export_kwh"], 1.0)
    assert math.isclose(out["peak_import_kw"], 2.0)
    assert math.isclose(out["self_consumption"], 0.75)


def test_trading_value_is_the_cost_without_trading_minus_the_cost_with_it() -> None:

    # Trading saved 0.30 on a day that cost 2.50 without it.
    assert trading_value(2.50, 2.20) == 2.50 - 2.20
    assert trading_value(2.20, 2.50) < 0  # and can lose
    s = Spread.of([1.0, 2.0, 3.0, 6.0])  # mean 3; deviations -2,-1,0,3: variance 14/4
    assert (s.mean, s.min, s.max) == (3.0, 1.0, 6.0)
    assert s.std == round((14 / 4) ** 0.5, 4)


def test_the_real_market_kpis_on_a_tiny_case_by_hand() -> None:

    flows = [
        PricedFlow(-0.10, 1.0, 0.0, 1.0),  # -0.10 + 0.07 < 0: paid to import 1 kWh
        PricedFlow(-0.05, 0.5, 0.0, 0.5),  # -0.05 + 0.07 > 0: import costs money, not counted
        PricedFlow(0.005, 0.0, 2.0, 0.0),  # 0.005 - 0.01 < 0: 2 kWh exported at a loss
        PricedFlow(0.02, 0.0, 3.0, 0.0),  # 0.02 - 0.01 > 0: export pays, not counted
        PricedFlow(1.0, 0.0, 1.5, -2.0),  # a spike (>= 1.0): 2 kWh discharged into it
        PricedFlow(0.9, 0.0, 1.0, -1.0),  # below the spike threshold
    ]
    assert market_kpis(flows, 0.07, 0.01) == {
        "import_when_paid_kwh": 1.0,
        "export_when_costly_kwh": 2.0,
        "discharge_in_spikes_kwh": 2.0,
    }
