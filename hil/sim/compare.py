"""The comparison KPIs of a run (:mod:`hil.sim.kpi` defines them): stores at the end, flows, peaks,
and the cost per day of the agent, the baseline and the perfect-foresight reference.

Both the agent's run and the baseline are measured from their recorders' bins (JSON form), so the
two sides are read by the same code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from hil.plant.params import HomeParams
from hil.sim import kpi
from hil.sim.tariff import Pricing, Tariff


def stored_in(bin_: dict[str, Any], p: HomeParams) -> float:
    """The energy a bin's stores hold at its end (battery, car, tank from 0 °C), kWh."""

    def value(key: str) -> float:
        v = float(bin_.get(key, 0.0))
        return 0.0 if math.isnan(v) else v  # a store the home lacks records NaN

    return kpi.stored_kwh(
        value("battery_soc") * p.battery_kwh, value("ev_soc") * p.ev_battery_kwh, p.tank_l, value("tank_c")
    )


def mean_import_price_per_kwh(tariff: Pricing, start: datetime, days: float, bin_s: float) -> float:
    n = max(1, int(days * 86400 // bin_s))
    step = timedelta(seconds=bin_s)
    mean_spot = sum(tariff.buy_per_kwh(start + i * step) for i in range(n)) / n
    return mean_spot + tariff.import_adder_per_kwh


def comparison(
    *,
    cost: float,
    baseline_cost: float,
    foresight_cost: float,
    bins: Sequence[dict[str, Any]],
    baseline_bins: Sequence[dict[str, Any]],
    params: HomeParams,
    price_per_kwh: float,
    bin_s: float,
    tariff: Tariff | None = None,
    seam_stored_kwh: float = 0.0,
) -> dict[str, float]:
    """The KPIs beyond the bill, from the run's and the baseline's bins (with ``tariff``, the
    real-market ones too: each bin at the spot price it settled at). ``seam_stored_kwh``: what
    a split run's stores gained at the seams between its parts, counted as not stored at the end."""
    stored = (stored_in(bins[-1], params) if bins else 0.0) - seam_stored_kwh
    base_stored = stored_in(baseline_bins[-1], params) if baseline_bins else 0.0
    adjusted = kpi.cost_adjusted(cost, stored, base_stored, price_per_kwh)
    imports = [float(b["import_kwh"]) for b in bins]
    export_kwh = sum(float(b["export_kwh"]) for b in bins)
    pv_kwh = sum(float(b["energy_kwh"].get("pv", 0.0)) for b in bins)
    return {
        "cost_adjusted": adjusted,
        "captured_saving": kpi.captured_saving(baseline_cost, adjusted, foresight_cost),
        "peak_import_kw": kpi.peak_import_kw(imports, bin_s),
        "import_kwh": sum(imports),
        "export_kwh": export_kwh,
        "self_consumption": kpi.self_consumption(pv_kwh, export_kwh),
        **(market(bins, tariff) if tariff is not None else {}),
    }


def market(bins: Sequence[dict[str, Any]], tariff: Tariff) -> dict[str, float]:
    flows = [
        kpi.PricedFlow(
            tariff.spot_per_kwh(datetime.fromisoformat(b["start"])),
            float(b["import_kwh"]),
            float(b["export_kwh"]),
            float(b["energy_kwh"].get("battery", 0.0)),
        )
        for b in bins
    ]
    return kpi.market_kpis(flows, tariff.import_adder_per_kwh, tariff.export_adder_per_kwh)


def per_day(
    start: datetime,
    days: float,
    *,
    agent: Callable[[datetime, datetime], float],
    baseline_bins: Sequence[dict[str, Any]],
    foresight_grid_kw: Sequence[float],
    tariff: Pricing,
    bin_s: float,
) -> list[dict[str, Any]]:
    """Cost of each 24 h from the start: the agent's bill, the baseline's and the reference's."""
    out = []
    per_day_bins = round(86400 / bin_s)
    h = bin_s / 3600.0
    # Billed over the whole run once (a contract's standing charges fall on the first interval of
    # their day or month), then summed by day.
    base_costs = tariff.flow_costs(
        [(datetime.fromisoformat(b["start"]), b["import_kwh"], b["export_kwh"]) for b in baseline_bins]
    )
    ref_costs = tariff.flow_costs(
        [
            (start + timedelta(seconds=i * bin_s), max(kw, 0.0) * h, max(-kw, 0.0) * h)
            for i, kw in enumerate(foresight_grid_kw)
        ]
    )
    for d in range(int(days + 0.999999)):
        lo, hi = d * per_day_bins, min((d + 1) * per_day_bins, int(days * 86400 // bin_s))
        day0 = start + timedelta(days=d)
        base = sum(base_costs[lo:hi])
        ref = sum(ref_costs[lo:hi])
        end = min(day0 + timedelta(days=1), start + timedelta(days=days))
        out.append(
            {
                "day": day0.isoformat(),
                "agent": round(agent(day0, end), 4),
                "baseline": round(base, 4),
                "perfect_foresight": round(ref, 4),
            }
        )
    return out
