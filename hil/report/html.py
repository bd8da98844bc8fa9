"""The closed loop's report: one self-contained HTML page (KPIs, checks, SVG plots) and the
KPI and series data as JSON beside it."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hil.report.svg import Line, line_chart

if TYPE_CHECKING:
    from hil.sim.result import SimResult


def _series(
    bins: list[dict[str, Any]], key: str, *, per_h: float = 1.0, sub: str | None = None
) -> list[float]:
    out = []
    for b in bins:
        v = b[key][sub] if sub is not None else b[key]
        out.append(float(v) * per_h)
    return out


def _labels(bins: list[dict[str, Any]]) -> list[str]:
    return [datetime.fromisoformat(b["start"]).strftime("%a %H:%M") for b in bins]


def _mode(result: SimResult) -> str:
    if result.world.get("broker") == "in-process bus":
        return "virtual time (in process)"
    return f"{result.scenario.speed:g}× real time on loopback sockets"


def write_report(result: SimResult, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    bins: list[dict[str, Any]] = result.world["bins"]
    base_bins = result.baseline_bins
    n = min(len(bins), len(base_bins), len(result.prices))
    bins, base_bins, prices = bins[:n], base_bins[:n], result.prices[:n]
    per_h = 3600.0 / (result.scenario.days * 86400.0 / max(n, 1)) if n else 1.0
    labels = _labels(bins)
    home = result.scenario.home
    # the band of the mode in force in each bin (heating's or cooling's, by the home's rule)
    bands = [home.comfort_at(datetime.fromisoformat(b["start"])) for b in bins]
    grid_kw = [(b["import_kwh"] - b["export_kwh"]) * per_h for b in bins]
    base_grid_kw = [(b["import_kwh"] - b["export_kwh"]) * per_h for b in base_bins]
    agent_money = list(accumulate(p * g / per_h for p, g in zip(prices, grid_kw, strict=True)))
    base_money = list(accumulate(p * g / per_h for p, g in zip(prices, base_grid_kw, strict=True)))
    charts = [
        line_chart("Spot price", "EUR/kWh", [Line("spot", prices, step=True)], labels),
        line_chart(
            "Power flows (agent)",
            "kW",
            [
                Line("grid (+import)", grid_kw, step=True),
                Line("PV", _series(bins, "energy_kwh", per_h=per_h, sub="pv"), step=True),
                Line("battery (+charge)", _series(bins, "energy_kwh", per_h=per_h, sub="battery"), step=True),
                Line("EV", _series(bins, "energy_kwh", per_h=per_h, sub="ev"), step=True),
                Line("heat pump", _series(bins, "energy_kwh", per_h=per_h, sub="heat_pump"), step=True),
                Line("water heater", _series(bins, "energy_kwh", per_h=per_h, sub="water_heater"), step=True),
                Line("base load", _series(bins, "energy_kwh", per_h=per_h, sub="base"), step=True),
            ],
            labels,
        ),
        line_chart(
            "Grid power: agent vs baseline",
            "kW",
            [Line("agent", grid_kw, step=True), Line("baseline", base_grid_kw, step=True)],
            labels,
        ),
        line_chart(
            "State of charge",
            "fraction",
            [
                Line("battery (agent)", _series(bins, "battery_soc")),
                Line("battery (baseline)", _series(base_bins, "battery_soc")),
                Line("EV (agent)", _series(bins, "ev_soc")),
            ],
            labels,
        ),
        line_chart(
            "Temperatures",
            "°C",
            [
                Line("indoor (agent)", _series(bins, "indoor_c")),
                Line("indoor (baseline)", _series(base_bins, "indoor_c")),
                Line("comfort low", [t - w for t, w in bands]),
                Line("comfort high", [t + w for t, w in bands]),
                Line("outdoor", _series(bins, "outdoor_c")),
            ],
            labels,
        ),
        line_chart(
            "Tank temperature",
            "°C",
            [Line("agent", _series(bins, "tank_c")), Line("baseline", _series(base_bins, "tank_c"))],
            labels,
        ),
        line_chart(
            "Money (metered energy at spot, cumulative)",
            "EUR",
            [Line("agent", agent_money), Line("baseline", base_money)],
            labels,
        ),
    ]
    kpis = result.kpis.to_json()
    rows = "\n".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in kpis.items())
    checks = "\n".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in result.checks.items())
    bill = "\n".join(f"<tr><th>{escape(k)}</th><td>{v:.4f}</td></tr>" for k, v in result.bill.items())
    faults = "".join(f"<li>{escape(f)}</li>" for f in result.world.get("fault_log", [])) or "<li>none</li>"
    daily = "\n".join(
        f"<tr><th>{escape(d['day'][:16])}</th><td>{d['agent']:.4f}</td><td>{d['baseline']:.4f}</td>"
        f"<td>{d['perfect_foresight']:.4f}</td></tr>"
        for d in result.daily_costs
    )
    sc = result.scenario
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hems simulation: {escape(sc.name)}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:1em auto;color:#222}}
table{{border-collapse:collapse}}th,td{{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}}
h2{{font-size:1.05em;margin:1.2em 0 .2em}}</style></head><body>
<h1>hems closed loop: {escape(sc.name)}</h1>
<p>{escape(sc.start.isoformat())}, {sc.days:g} day(s), {escape(_mode(result))}, {result.wall_s:.1f} s wall;
broker: {escape(str(result.world.get("broker")))}. The agent's cost is its ledger's bill (forward + spot +
transport); the baseline is the same home under ordinary rules billed at spot; perfect foresight plans
with the true series (one plan, or overlapping week-long windows beyond eight days: then a reference, not a
strict bound); cost_adjusted values the stores left at the end against the baseline's.</p>
<h2>KPIs</h2><table>{rows}</table>
<h2>Checks</h2><table>{checks}</table>
<h2>Bill (agent, EUR)</h2><table>{bill}</table>
<h2>Cost per day (EUR, 24 h from the start)</h2>
<table><tr><th>day</th><th>agent</th><th>baseline</th><th>perfect foresight</th></tr>{daily}</table>
<h2>Faults injected</h2><ul>{faults}</ul>
{"".join(charts)}
</body></html>
"""
    index = directory / "index.html"
    index.write_text(page, encoding="utf-8")
    data = {"kpis": kpis, "checks": result.checks, "bill": result.bill, "prices": prices, "bins": bins,
            "baseline_bins": base_bins, "foresight_grid_kw": result.foresight_grid_kw,
            "daily_costs": result.daily_costs}  # fmt: skip
    (directory / "kpis.json").write_text(json.dumps(kpis, indent=2), encoding="utf-8")
    (directory / "series.json").write_text(json.dumps(data), encoding="utf-8")
    return index
